"""Access grid rows of the document downloads (reports/): sheets, archives, summaries.

Anyone who may see a record or an elevator downloads its sheet or archive;
a site's summary and registers go to the property company's staff and to
regulators (contractors serve elevators, not sites: 403); the district
summary to regulators only. Out of scope is 404, as on every page.
"""

from __future__ import annotations

from dataclasses import dataclass

from elevator_safety.extensions import db
from tests.factories import World, make_record
from tests.grid_base import Route

SITE_READERS = frozenset({"admin", "safety_director", "safety_officer", "regulator"})


@dataclass(frozen=True)
class WithQuery(Route):
    """A route whose request carries a query string the path (the URL rule) does not show."""

    query: str = ""

    def url(self, world: World, side: str, role: str) -> str:
        return f"{super().url(world, side, role)}?{self.query}"


def record(world: World, side: str, _role: str) -> int:
    group = getattr(world, side)
    made = make_record(group.elevators[0], group.officer)
    db.session.commit()
    return made.id


def elevator(world: World, side: str, _role: str) -> int:
    return getattr(world, side).elevators[0].id


def site(world: World, side: str, _role: str) -> int:
    return getattr(world, side).site.id


ROUTES: list[Route] = [
    Route("GET", "/reports/records/{id}.pdf", record),
    Route("GET", "/reports/elevators/{id}/archive.pdf", elevator),
    Route("GET", "/reports/sites/{id}/summary.pdf", site, SITE_READERS),
    WithQuery("GET", "/reports/sites/{id}/register.pdf", site, SITE_READERS, query="register=keys"),
    Route("GET", "/reports/district.pdf", None, frozenset({"regulator"})),
]
