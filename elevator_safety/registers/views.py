"""Pages of the registers package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registers", __name__)
