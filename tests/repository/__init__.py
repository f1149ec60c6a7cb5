"""The repository's own conventions: layout, one owner per fact, pointers, markers."""
