"""Access grid of the inbox: every role has one; someone else's notification is 404."""

from __future__ import annotations

from elevator_safety.extensions import db
from elevator_safety.notifications.services import notify
from tests.factories import ROLE_ATTR, World
from tests.grid_base import Route


def notification(world: World, side: str, role: str) -> int:
    """A notification to the user of the role on that side (foreign: someone else's)."""
    reader = getattr(getattr(world, side), ROLE_ATTR[role])
    made = notify([reader], "finding_verified", {"id": 1, "place": "x", "actor": "y"}, "/")
    db.session.commit()
    return made[0].id


ROUTES = [
    Route("GET", "/inbox"),
    Route("POST", "/inbox/{id}/read", notification),
    Route("POST", "/inbox/read-all"),
]
