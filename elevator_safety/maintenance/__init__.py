"""Maintenance records (D1): contractor visits and on-site confirmation."""
