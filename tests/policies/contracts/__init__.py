"""The contracts the program and the pack share (policies/contracts/)."""
