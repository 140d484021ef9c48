"""Benchmarks printing figures against peers measured in the same run (not tests)."""
