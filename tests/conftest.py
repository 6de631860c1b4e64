"""Shared test set-up: `tests/` is on the import path (see `pythonpath` in pyproject.toml), so test files
import `checkout` for the checkout's paths and time units."""
