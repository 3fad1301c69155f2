"""Access grid rows of a site's local rule values: everyone in scope reads, the company sets."""

from __future__ import annotations

from tests.factories import World
from tests.grid_base import Route

WRITERS = frozenset({"admin", "safety_director"})


def site(world: World, side: str, _role: str) -> int:
    return getattr(world, side).site.id


ROUTES: list[Route] = [
    Route("GET", "/sites/{id}/rule-values", site),
    Route("POST", "/sites/{id}/rule-values", site, WRITERS),
    Route("GET", "/sites/{id}/rule-values/reset", site, WRITERS),
    Route("POST", "/sites/{id}/rule-values/reset", site, WRITERS),
]
