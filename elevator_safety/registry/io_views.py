"""CSV import and export of elevators (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registry_io", __name__)
