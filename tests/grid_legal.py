"""Access grid of the legal package: inspections, additions, misuse, plans, drills, certificates."""

from __future__ import annotations

from datetime import date

from elevator_safety.extensions import db
from elevator_safety.registers.models import Certificate, CertificateKind
from tests.factories import World
from tests.grid_base import Route

OFFICERS = frozenset({"safety_officer", "safety_director"})
OFFICERS_AND_CONTRACTORS = OFFICERS | {"contractor_manager", "technician"}
CERTIFICATE_EDITORS = frozenset({"admin", "safety_director", "contractor_manager"})


def elevator(world: World, side: str, _role: str) -> int:
    return getattr(world, side).elevators[0].id


def site(world: World, side: str, _role: str) -> int:
    return getattr(world, side).site.id


def certificate(world: World, side: str, role: str) -> int:
    """A certificate of a person of the actor's own organisation on that side."""
    group = getattr(world, side)
    holder = group.technician if role in ("contractor_manager", "technician") else group.officer
    made = Certificate(
        user_id=holder.id,
        kind=CertificateKind.technician,
        number=f"GRID-{side}-{role}-{holder.id}",
        expires_on=date(2031, 1, 1),
    )
    db.session.add(made)
    db.session.commit()
    return made.id


ROUTES = [
    Route("GET", "/legal"),
    Route("GET", "/legal/sites"),
    Route("GET", "/legal/inspections"),
    Route("GET", "/legal/additions"),
    Route("GET", "/legal/misuse"),
    Route("GET", "/elevators/{id}/inspections/new", elevator, OFFICERS_AND_CONTRACTORS),
    Route("POST", "/elevators/{id}/inspections/new", elevator, OFFICERS_AND_CONTRACTORS),
    Route("GET", "/elevators/{id}/additions/new", elevator, OFFICERS),
    Route("POST", "/elevators/{id}/additions/new", elevator, OFFICERS),
    Route("GET", "/elevators/{id}/misuse/new", elevator, OFFICERS_AND_CONTRACTORS),
    Route("POST", "/elevators/{id}/misuse/new", elevator, OFFICERS_AND_CONTRACTORS),
    Route("GET", "/sites/{id}/legal", site),
    Route("GET", "/sites/{id}/emergency-plan/new", site, OFFICERS),
    Route("POST", "/sites/{id}/emergency-plan/new", site, OFFICERS),
    Route("GET", "/sites/{id}/drills/new", site, OFFICERS_AND_CONTRACTORS),
    Route("POST", "/sites/{id}/drills/new", site, OFFICERS_AND_CONTRACTORS),
    Route("GET", "/certificates"),
    Route("GET", "/certificates/new", None, CERTIFICATE_EDITORS),
    Route("POST", "/certificates/new", None, CERTIFICATE_EDITORS),
    Route("GET", "/certificates/{id}/edit", certificate, CERTIFICATE_EDITORS),
    Route("POST", "/certificates/{id}/edit", certificate, CERTIFICATE_EDITORS),
]
