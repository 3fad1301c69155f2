"""Access grid of the lockout pages (停用/困人, D8)."""

from __future__ import annotations

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import LockoutCause
from elevator_safety.lockouts.services import EntrapmentInput, open_lockout
from tests.factories import PASSWORD, World
from tests.grid_base import Route

OFFICERS = frozenset({"safety_officer", "safety_director"})
CONTRACTORS = frozenset({"technician", "contractor_manager"})
BOTH = OFFICERS | CONTRACTORS


def elevator(world: World, side: str, _role: str) -> int:
    return getattr(world, side).elevators[0].id


def lockout(world: World, side: str, _role: str) -> int:
    """An open lockout of the side's first elevator, opened by its safety officer."""
    group = getattr(world, side)
    made = open_lockout(
        group.elevators[0],
        group.officer,
        PASSWORD,
        cause=LockoutCause.fault,
        description="Car stopped between floors",
    )
    db.session.commit()
    return made.id


def entrapment(world: World, side: str, _role: str) -> int:
    """An open lockout with two people trapped."""
    group = getattr(world, side)
    made = open_lockout(
        group.elevators[0],
        group.officer,
        PASSWORD,
        cause=LockoutCause.alarm,
        description="Two people trapped",
        entrapment=EntrapmentInput(trapped_count=2, alarm_at=now_utc()),
    )
    db.session.commit()
    return made.id


def _steps() -> list[Route]:
    table = []
    for slug, target, writers in (
        ("notice", lockout, BOTH),
        ("notify", lockout, OFFICERS),
        ("arrival", lockout, BOTH),
        ("repair", lockout, CONTRACTORS),
        ("rescue", entrapment, BOTH),
        ("release", entrapment, BOTH),
        ("return", lockout, OFFICERS),
        ("cancel", lockout, OFFICERS),
    ):
        for method in ("GET", "POST"):
            table.append(Route(method, f"/lockouts/{{id}}/{slug}", target, writers))
    return table


ROUTES: list[Route] = [
    Route("GET", "/lockouts"),
    Route("GET", "/lockouts/{id}", lockout),
    Route("GET", "/elevators/{id}/lockouts/new", elevator, BOTH),
    Route("POST", "/elevators/{id}/lockouts/new", elevator, BOTH),
    *_steps(),
]
