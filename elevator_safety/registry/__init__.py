"""Sites, elevators, maintenance contracts, and their CSV import and export."""
