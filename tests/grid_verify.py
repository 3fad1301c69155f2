"""Access grid of the verification pages (see tests/grid_base.py).

Every verification page is public: anyone holding a paper or a file may check
it without logging in (tests/verify covers them, logged in or not). None of them
writes anything. The record link they show a logged-in user follows the user's
scope (tests/verify/test_pages.py).
"""

from __future__ import annotations

from tests.grid_base import Route

PUBLIC = {
    "/verify",
    "/verify/<content_hash>",
    "/verify/pdf",
    "/verify/certificate.pem",
}

ROUTES: list[Route] = []
