"""Benchmarks of the budgets in DESIGN §4, each printed beside its baseline: ``python -m benchmarks``."""
