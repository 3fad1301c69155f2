"""Access to the maintenance routes: every route x every role x own/foreign record.

The same rows are proposed for tests/test_access_grid.py. "ok" means the role
may use the route (200, a redirect, or 422 for a posted form refused by its
validation); refused requests (403, 404) write nothing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from elevator_safety.extensions import db
from elevator_safety.records.models import RecordKind
from tests.conftest import log_in
from tests.factories import ROLE_ATTR, World, make_record

ROLES = list(ROLE_ATTR)
OK = "ok"
RECORDERS = {"technician", "contractor_manager"}
REVIEWERS = {"safety_officer", "safety_director"}


def elevator(world: World, side: str) -> int:
    return getattr(world, side).elevators[0].id


def maintenance_record(world: World, side: str) -> int:
    """A maintenance record of the side's first elevator, written by its technician."""
    group = getattr(world, side)
    made = make_record(
        group.elevators[0], group.technician, kind=RecordKind.maintenance, level="half_monthly"
    )
    db.session.commit()
    return made.id


def expected(writers: set[str] | None, role: str, side: str, targeted: bool) -> str | int:
    if writers is not None and role not in writers:
        return 403
    if targeted and side == "foreign":
        return 404
    return OK


ROUTES = [
    ("GET", "/maintenance", None, None),
    ("GET", "/elevators/{id}/maintenance/new", elevator, RECORDERS),
    ("POST", "/elevators/{id}/maintenance/new", elevator, RECORDERS),
    ("GET", "/maintenance/{id}/review", maintenance_record, REVIEWERS),
    ("POST", "/maintenance/{id}/review", maintenance_record, REVIEWERS),
]

CASES = [
    pytest.param(method, path, target, writers, role, side, id=f"{method} {path} {role} {side}")
    for method, path, target, writers in ROUTES
    for role in ROLES
    for side in (("own", "foreign") if target else ("own",))
]


def row_counts() -> dict[str, int]:
    return {
        name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for name, table in db.metadata.tables.items()
    }


@pytest.mark.parametrize(("method", "path", "target", "writers", "role", "side"), CASES)
def test_access(client, world, method, path, target, writers, role, side):
    actor = getattr(world.own, ROLE_ATTR[role])
    url = path.format(id=target(world, side)) if target else path
    log_in(client, actor)
    before = row_counts()
    response = client.open(url, method=method, data={})
    want = expected(writers, role, side, target is not None)
    if want == OK:
        assert response.status_code in (200, 302, 422), (url, response.status_code)
    else:
        assert response.status_code == want, (url, response.status_code)
    if method == "POST":
        # An empty form is refused by validation, a forbidden one by access: no writes.
        db.session.expire_all()
        assert row_counts() == before, "a refused request wrote something"


@pytest.mark.parametrize(("method", "path", "target", "_writers"), ROUTES)
def test_anonymous_is_sent_to_login(client, world, method, path, target, _writers):
    url = path.format(id=target(world, "own")) if target else path
    before = row_counts()
    response = client.open(url, method=method, data={})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    db.session.expire_all()
    assert row_counts() == before
