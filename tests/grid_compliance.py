"""Access grid rows of the compliance pages (read-only: every role, scoped)."""

from __future__ import annotations

from tests.grid_base import Route

ROUTES: list[Route] = [Route("GET", "/alerts")]
