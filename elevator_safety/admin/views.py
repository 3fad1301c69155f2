"""Users and audit log of one's own organisation (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
def users():  # type: ignore[no-untyped-def]
    """List users."""
    return ""


@bp.get("/audit")
def audit():  # type: ignore[no-untyped-def]
    """List audit entries."""
    return ""
