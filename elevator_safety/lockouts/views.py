"""Pages of the lockouts package."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("lockouts", __name__)
