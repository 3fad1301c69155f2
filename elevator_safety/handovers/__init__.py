"""Contractor handovers (移交检查): the change of maintenance contractor."""
