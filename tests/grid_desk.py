"""Access grid rows of the regulator's desk: the search, bulk exports and the downloads page.

An export belongs to the organisation that asked for it: the target of each
row is an export of the actor's own organisation on that side (its regulator
or its property company), so a foreign side's export answers 404.
Contractors may not use the export pages at all (403).
"""

from __future__ import annotations

from tests.desk.helpers import make_done_job
from tests.factories import World
from tests.grid_base import Route

EXPORTERS = frozenset({"regulator", "admin", "safety_director", "safety_officer"})
COMPANY_READERS = frozenset({"admin", "safety_director", "safety_officer"})


def export(world: World, side: str, role: str) -> int:
    """A finished export (with its ZIP on disk) of the actor's organisation on that side."""
    group = getattr(world, side)
    if role == "regulator":
        return make_done_job(group.regulator).id
    return make_done_job(group.admin, site=group.site).id


ROUTES: list[Route] = [
    Route("GET", "/desk/"),
    Route("GET", "/desk/exports", writers=EXPORTERS),
    Route("GET", "/desk/exports/new", writers=EXPORTERS),
    Route("POST", "/desk/exports/new", writers=EXPORTERS),
    Route("GET", "/desk/exports/{id}", export, EXPORTERS),
    Route("GET", "/desk/exports/{id}/status", export, EXPORTERS),
    Route("GET", "/desk/exports/{id}/download", export, EXPORTERS),
    Route("GET", "/desk/downloads", writers=COMPANY_READERS),
]
