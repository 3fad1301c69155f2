"""Benchmark support: a bulk generator of realistic history (issue 5, performance at city scale)."""
