"""Benchmarks: scripts that print figures (not tests). Run them from the project root, e.g.
`.venv/bin/python -m benchmarks.collections` or `make bench`."""
