"""The program's components (components/)."""
