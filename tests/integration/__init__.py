"""Whole-program and cross-package proofs: the rendered program, a real PostgreSQL, moto, the packages installed fresh, the workflows."""
