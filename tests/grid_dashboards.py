"""Access grid rows of the dashboards (read-only pages with no record in the path)."""

from __future__ import annotations

from tests.grid_base import Route

COMPANY_READERS = frozenset({"admin", "safety_director", "safety_officer"})

ROUTES: list[Route] = [
    Route("GET", "/dashboards/matrix", writers=COMPANY_READERS),
    Route("GET", "/dashboards/district", writers=frozenset({"regulator"})),
]
