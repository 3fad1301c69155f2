"""Role dashboards: the director's compliance matrix and the regulator's district overview."""
