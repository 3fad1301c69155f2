"""Registry pages (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registry", __name__)


@bp.get("/elevators")
def elevators():  # type: ignore[no-untyped-def]
    """List elevators."""
    return ""


@bp.get("/elevators/<int:elevator_id>")
def elevator_detail(elevator_id: int):  # type: ignore[no-untyped-def]
    """Show an elevator."""
    return ""


@bp.get("/sites")
def sites():  # type: ignore[no-untyped-def]
    """List sites."""
    return ""


@bp.get("/contracts")
def contracts():  # type: ignore[no-untyped-def]
    """List contracts."""
    return ""
