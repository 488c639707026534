"""Benchmarks with side-by-side baselines; not part of the test suite."""
