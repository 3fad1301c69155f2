"""Handovers pages (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("handovers", __name__)
