"""Benchmarks that print figures (`python -m bench`); never pass/fail."""
