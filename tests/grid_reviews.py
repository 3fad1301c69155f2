"""Access grid rows of the weekly check and monthly review (no ?kind= means weekly)."""

from __future__ import annotations

from tests.factories import World
from tests.grid_base import Route

SIGNERS = frozenset({"safety_director"})
READERS = frozenset({"admin", "safety_director", "safety_officer", "regulator"})


def site(world: World, side: str, _role: str) -> int:
    return getattr(world, side).site.id


ROUTES: list[Route] = [
    Route("GET", "/sites/{id}/reviews/new", site, SIGNERS),
    Route("POST", "/sites/{id}/reviews/new", site, SIGNERS),
    Route("GET", "/sites/{id}/reviews/new?kind=monthly", site, SIGNERS),
    Route("POST", "/sites/{id}/reviews/new?kind=monthly", site, SIGNERS),
    Route("GET", "/sites/{id}/reviews", site, READERS),
]
