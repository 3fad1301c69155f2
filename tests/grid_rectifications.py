"""Access grid of the rectification pages (整改, D9)."""

from __future__ import annotations

from elevator_safety.extensions import db
from elevator_safety.records.models import FindingStatus, Severity
from tests.factories import World
from tests.grid_base import Route
from tests.rectifications.helpers import make_finding

OFFICERS = frozenset({"safety_officer", "safety_director"})
WORKERS = OFFICERS | {"technician", "contractor_manager"}
CONTRACTOR_ROLES = {"technician", "contractor_manager"}


def _finding(world: World, side: str, role: str, **kw) -> int:  # type: ignore[no-untyped-def]
    """A finding of the side's first elevator, owned by the actor's kind of organisation."""
    owner = "contractor" if role in CONTRACTOR_ROLES else "company"
    made = make_finding(getattr(world, side), owner=owner, **kw)
    db.session.commit()
    return made.id


def finding(world: World, side: str, role: str) -> int:
    return _finding(world, side, role)


def completed_finding(world: World, side: str, role: str) -> int:
    return _finding(world, side, role, status=FindingStatus.completed)


def serious_finding(world: World, side: str, role: str) -> int:
    return _finding(world, side, role, severity=Severity.serious)


ROUTES = [
    Route("GET", "/rectifications"),
    Route("GET", "/rectifications/new", None, OFFICERS),
    Route("POST", "/rectifications/new", None, OFFICERS),
    Route("GET", "/rectifications/{id}", finding),
    Route("POST", "/rectifications/{id}/start", finding, WORKERS),
    Route("POST", "/rectifications/{id}/complete", finding, WORKERS),
    Route("POST", "/rectifications/{id}/verify", completed_finding, OFFICERS),
    Route("POST", "/rectifications/{id}/reopen", completed_finding, OFFICERS),
    Route("POST", "/rectifications/{id}/lockout", serious_finding, WORKERS),
]
