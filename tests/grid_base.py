"""The access grid's route type, and the route tables of the packages that add routes.

Each package's table lives in ``tests/grid_<package>.py`` as a list ``ROUTES``;
tests/test_access_grid.py runs every route of every table for every role.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from tests.factories import World

OK = "ok"

#: Modules holding more route tables (tests/grid_<name>.py, each with ROUTES).
EXTRA_TABLES = (
    "reports",
    "verify",
    "desk",
    "rule_values",
    "lockouts",
    "rectifications",
    "registers",
    "legal",
    "public",
    "notifications",
    "compliance",
    "dashboards",
    "reviews",
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {id} where a record goes
    target: Callable[[World, str, str], int | str] | None = None
    writers: frozenset[str] | None = None  # None: every role may use it
    expect: Callable[[str, str], str | int] | None = None  # a rule of its own

    def url(self, world: World, side: str, role: str) -> str:
        return self.path.format(id=self.target(world, side, role)) if self.target else self.path

    def expected(self, role: str, side: str) -> str | int:
        if self.expect is not None:
            return self.expect(role, side)
        if self.writers is not None and role not in self.writers:
            return 403
        if self.target is not None and side == "foreign":
            return 404
        return OK


def _tables():  # type: ignore[no-untyped-def]
    for name in EXTRA_TABLES:
        yield importlib.import_module(f"tests.grid_{name}")


def extra_routes() -> list[Route]:
    """Return the routes of every package table (a missing table fails the grid)."""
    return [route for module in _tables() for route in module.ROUTES]


def extra_public() -> set[str]:
    """Return the URL rules that packages declare public (no login: ``PUBLIC`` in a table)."""
    return {rule for module in _tables() for rule in getattr(module, "PUBLIC", ())}
