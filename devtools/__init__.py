"""Development tooling shared by scripts/ and tests/: not part of the program or the pack."""
