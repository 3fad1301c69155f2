"""Users, organisations, roles, permissions, login and the ``flask users`` commands."""
