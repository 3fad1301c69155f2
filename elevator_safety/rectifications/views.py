"""Pages of the rectifications package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("rectifications", __name__)
