"""Project tooling run by the scripts beside it (not part of the installed package)."""
