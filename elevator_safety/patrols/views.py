"""Patrols pages (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("patrols", __name__)
