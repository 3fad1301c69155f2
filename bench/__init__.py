"""``make bench``: compliance-engine benchmarks on PostgreSQL and SQLite (issue 5)."""
