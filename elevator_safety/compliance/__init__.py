"""Compliance engine: the status of every duty for every elevator, and its alerts."""
