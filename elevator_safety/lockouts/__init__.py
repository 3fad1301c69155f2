"""lockouts."""
