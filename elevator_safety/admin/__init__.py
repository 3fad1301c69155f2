"""Organisation administration: users, invitations and the audit log."""
