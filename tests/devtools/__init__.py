"""The test and measurement tooling (devtools/)."""
