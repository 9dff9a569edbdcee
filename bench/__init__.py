"""Benchmarks (`make bench`): each hot path beside a physical baseline measured in the same run."""
