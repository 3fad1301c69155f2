"""Access to every patrol route: every role, the own and a foreign elevator.

"ok" means the role may use the route (200, a redirect, or 422 for a posted
form its validation refused); 403: the role may not use it; 404: the elevator
is outside the user's scope. Refused POSTs write nothing. These rows are the
ones the application-wide access grid (tests/test_access_grid.py) gets.
"""

from __future__ import annotations

import pytest

from tests.conftest import log_in
from tests.factories import ROLE_ATTR
from tests.patrols.helpers import patrol_data
from tests.test_access_grid import row_counts

ROLES = list(ROLE_ATTR)
OFFICERS = {"safety_officer", "safety_director"}
OK = "ok"

#: (method, path, takes an elevator id, roles allowed; None = every role)
ROUTES = [
    ("GET", "/patrols", False, None),
    ("GET", "/patrols/today", False, OFFICERS),
    ("GET", "/elevators/{id}/patrols/new", True, OFFICERS),
    ("POST", "/elevators/{id}/patrols/new", True, OFFICERS),
    ("GET", "/elevators/{id}/label", True, None),
]

CASES = [
    pytest.param(method, path, target, allowed, role, side, id=f"{method} {path} {role} {side}")
    for method, path, target, allowed in ROUTES
    for role in ROLES
    for side in (("own", "foreign") if target else ("own",))
]


def expected(allowed: set[str] | None, target: bool, role: str, side: str) -> str | int:
    if allowed is not None and role not in allowed:
        return 403
    if target and side == "foreign":
        return 404
    return OK


@pytest.mark.parametrize(("method", "path", "target", "allowed", "role", "side"), CASES)
def test_access(client, world, method, path, target, allowed, role, side):
    actor = getattr(world.own, ROLE_ATTR[role])
    url = path.format(id=getattr(world, side).elevators[0].id)
    log_in(client, actor)
    before = row_counts()
    response = client.open(url, method=method, data={})
    wanted = expected(allowed, target, role, side)
    if wanted == OK:
        assert response.status_code in (200, 302, 422), (url, response.status_code)
        if method == "POST":
            assert response.status_code == 422  # an empty form is refused, not stored
    else:
        assert response.status_code == wanted, (url, response.status_code)
    if method == "POST":
        assert row_counts() == before, "a refused request wrote something"


@pytest.mark.parametrize(("method", "path", "target", "allowed"), [r[:4] for r in ROUTES])
def test_anonymous_is_sent_to_login(client, world, method, path, target, allowed):
    url = path.format(id=world.own.elevators[0].id)
    response = client.open(url, method=method, data={})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_complete_post_by_a_foreign_officer_writes_nothing(client, world):
    elevator = world.foreign.elevators[0]
    log_in(client, world.own.officer)
    before = row_counts()
    response = client.post(
        f"/elevators/{elevator.id}/patrols/new",
        data=patrol_data(elevator),
        content_type="multipart/form-data",
    )
    assert response.status_code == 404
    assert row_counts() == before


@pytest.mark.parametrize("role", ["admin", "contractor_manager", "technician", "regulator"])
def test_a_complete_post_by_a_role_that_may_not_patrol_writes_nothing(client, world, role):
    elevator = world.own.elevators[0]
    log_in(client, getattr(world.own, ROLE_ATTR[role]))
    before = row_counts()
    response = client.post(
        f"/elevators/{elevator.id}/patrols/new",
        data=patrol_data(elevator),
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert row_counts() == before
