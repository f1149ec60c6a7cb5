"""The scripts' own logic (scripts/)."""
