"""Benchmarks (`make bench`): medians and ratios quoted in the README, never run by `make test`."""
