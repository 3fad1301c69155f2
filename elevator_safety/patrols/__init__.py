"""Daily patrols (D2, D3, D5, D6, D7, D10): checklists, readings, findings."""
