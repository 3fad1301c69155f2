"""Access grid of the public report package (see tests/grid_base.py).

The passenger's pages need no login (``PUBLIC``; tests/public covers them).
Reports are read by the property company's staff and regulators in their
scope, and handled by the company's safety officers and director.
"""

from __future__ import annotations

from flask import current_app

from elevator_safety.extensions import db
from elevator_safety.public import services
from elevator_safety.public.models import ReportCategory
from tests.factories import World
from tests.grid_base import Route

PUBLIC = {"/r/<equipment_code>", "/r/<equipment_code>/thanks"}

READERS = frozenset({"admin", "safety_director", "safety_officer", "regulator"})
HANDLERS = frozenset({"safety_officer", "safety_director"})


def report(world: World, side: str, _role: str) -> int:
    """A pending report on the side's first elevator."""
    with current_app.test_request_context("/"):
        made = services.submit_report(
            getattr(world, side).elevators[0],
            category=ReportCategory.not_working,
            phone=None,
            note="grid",
            client_address="192.0.2.1",
        )
        db.session.commit()
    return made.id


ROUTES = [
    Route("GET", "/reports", None, READERS),
    Route("GET", "/reports/{id}", report, READERS),
    Route("POST", "/reports/{id}/lockout", report, HANDLERS),
    Route("POST", "/reports/{id}/rectification", report, HANDLERS),
    Route("POST", "/reports/{id}/dismiss", report, HANDLERS),
]
