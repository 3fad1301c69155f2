"""Pages of the dashboards package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("dashboards", __name__)
