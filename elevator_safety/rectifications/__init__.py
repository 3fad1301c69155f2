"""rectifications."""
