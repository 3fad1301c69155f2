"""Access grid rows of the dashboards (filled by the dashboards work)."""

from __future__ import annotations

from tests.grid_base import Route

ROUTES: list[Route] = []
