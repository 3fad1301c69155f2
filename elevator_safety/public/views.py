"""Pages of the public package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)
