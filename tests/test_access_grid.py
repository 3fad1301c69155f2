"""Access grid: every route of the app, every role, an own and a foreign record.

"ok" means the role may use the route on that record (200, a redirect, or 422 for
a posted form that its validation refused); 403 means the role may not use the
route at all; 404 means the record is outside the user's scope. Refused POSTs
must change nothing: every table's row count is compared before and after.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from elevator_safety.auth.models import OrgKind
from elevator_safety.extensions import db
from elevator_safety.handovers.services import CHECKLIST
from elevator_safety.records.models import Handover, HandoverStatus, RecordKind
from elevator_safety.registry.models import FULL_LEVEL_PLAN
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.factories import (
    ROLE_ATTR,
    World,
    make_contract,
    make_elevator,
    make_org,
    make_photo,
    make_record,
)
from tests.grid_base import OK, Route, extra_public, extra_routes

ROLES = list(ROLE_ATTR)
REGISTRY_WRITERS = {"admin"}
OFFICERS = frozenset({"safety_officer", "safety_director"})
MAINT_RECORDERS = frozenset({"technician", "contractor_manager"})
USER_MANAGERS = {"admin", "contractor_manager"}


def elevator(world: World, side: str, _role: str) -> int:
    return getattr(world, side).elevators[0].id


def site(world: World, side: str, _role: str) -> int:
    return getattr(world, side).site.id


def contract(world: World, side: str, _role: str) -> int:
    return getattr(world, side).elevators[0].contracts[0].id


def colleague(world: World, side: str, role: str) -> int:
    """A user of the actor's own organisation on that side (a technician for contractors)."""
    group = getattr(world, side)
    return (group.technician if role in ("contractor_manager", "technician") else group.officer).id


def record(world: World, side: str, _role: str) -> int:
    """A patrol record of the side's first elevator, written by its safety officer."""
    group = getattr(world, side)
    made = make_record(group.elevators[0], group.officer)
    db.session.commit()
    return made.id


def photo(world: World, side: str, _role: str) -> str:
    group = getattr(world, side)
    made = make_photo(group.elevators[0], group.officer)
    db.session.commit()
    return made.sha256


def maintenance_record(world: World, side: str, _role: str) -> int:
    """A half-monthly maintenance record of the side's first elevator, by its technician."""
    group = getattr(world, side)
    made = make_record(
        group.elevators[0], group.technician, kind=RecordKind.maintenance, level="half_monthly"
    )
    db.session.commit()
    return made.id


HANDOVER_STARTERS = frozenset({"admin", "safety_director"})
CONTRACTOR_MANAGERS = frozenset({"contractor_manager"})


def _handover(group, outgoing, incoming, elevators, status) -> int:  # type: ignore[no-untyped-def]
    day = local_today() + timedelta(days=10)
    made = Handover(
        organisation_id=group.org.id,
        outgoing_contractor_id=outgoing.id,
        incoming_contractor_id=incoming.id,
        handover_date=day,
        new_contract_end=day + timedelta(days=364),
        new_level_plan=FULL_LEVEL_PLAN,
        status=status,
        checklist={item.code: {"ok": True, "note": ""} for item in CHECKLIST},
        created_by_id=group.admin.id,
        elevators=elevators,
    )
    db.session.add(made)
    db.session.commit()
    return made.id


def handover(world: World, side: str, _role: str) -> int:
    """A started handover in which the side's contractor hands over."""
    group = getattr(world, side)
    return _handover(
        group,
        group.contractor,
        make_org(OrgKind.contractor),
        group.elevators,
        HandoverStatus.started,
    )


def handover_in(world: World, side: str, _role: str) -> int:
    """A handed-over handover in which the side's contractor is the incoming one."""
    group = getattr(world, side)
    outgoing = make_org(OrgKind.contractor)
    elevator = make_elevator(group.site, group.officer)
    make_contract(elevator, outgoing)
    return _handover(group, outgoing, group.contractor, [elevator], HandoverStatus.handed_over)


def handover_received(world: World, side: str, _role: str) -> int:
    group = getattr(world, side)
    return _handover(
        group,
        group.contractor,
        make_org(OrgKind.contractor),
        group.elevators,
        HandoverStatus.received,
    )


def correct_expected(role: str, side: str) -> str | int:
    """Writers may correct their own organisation's records (the officer's patrol here)."""
    if role not in ("safety_officer", "safety_director", "technician", "contractor_manager"):
        return 403
    if side == "foreign":
        return 404
    return OK if role in ("safety_officer", "safety_director") else 403


def routes() -> list[Route]:
    reg = frozenset(REGISTRY_WRITERS)
    mgr = frozenset(USER_MANAGERS)
    table = [
        Route("GET", "/"),
        Route("POST", "/logout"),
        Route("GET", "/account/password"),
        Route("POST", "/account/password"),
        Route("POST", "/language"),
        Route("GET", "/elevators"),
        Route("GET", "/elevators/export.csv"),
        Route("GET", "/elevators/{id}", elevator),
        Route("GET", "/sites"),
        Route("GET", "/sites/{id}", site),
        Route("GET", "/contracts"),
        Route("GET", "/contracts/{id}", contract),
        Route("GET", "/elevators/new", None, reg),
        Route("POST", "/elevators/new", None, reg),
        Route("GET", "/elevators/{id}/edit", elevator, reg),
        Route("POST", "/elevators/{id}/edit", elevator, reg),
        Route("GET", "/sites/new", None, reg),
        Route("POST", "/sites/new", None, reg),
        Route("GET", "/sites/{id}/edit", site, reg),
        Route("POST", "/sites/{id}/edit", site, reg),
        Route("GET", "/elevators/{id}/contracts/new", elevator, reg),
        Route("POST", "/elevators/{id}/contracts/new", elevator, reg),
        Route("GET", "/contracts/{id}/edit", contract, reg),
        Route("POST", "/contracts/{id}/edit", contract, reg),
        Route("GET", "/elevators/import", None, reg),
        Route("POST", "/elevators/import", None, reg),
        Route("GET", "/admin/users", None, mgr),
        Route("GET", "/admin/audit", None, mgr),
        Route("GET", "/admin/users/invite", None, mgr),
        Route("POST", "/admin/users/invite", None, mgr),
        Route("GET", "/admin/users/{id}/edit", colleague, mgr),
        Route("POST", "/admin/users/{id}/edit", colleague, mgr),
        Route("POST", "/admin/users/{id}/deactivate", colleague, mgr),
        Route("POST", "/admin/users/{id}/activate", colleague, mgr),
        Route("POST", "/admin/users/{id}/invitation", colleague, mgr),
        Route("GET", "/records/{id}", record),
        Route("GET", "/records/{id}/correct", record, expect=correct_expected),
        Route("POST", "/records/{id}/correct", record, expect=correct_expected),
        Route("GET", "/elevators/{id}/records", elevator),
        Route("GET", "/photos/{id}", photo),
        Route("GET", "/patrols"),
        Route("GET", "/patrols/today", None, OFFICERS),
        Route("GET", "/elevators/{id}/patrols/new", elevator, OFFICERS),
        Route("POST", "/elevators/{id}/patrols/new", elevator, OFFICERS),
        Route("GET", "/elevators/{id}/label", elevator),
        Route("GET", "/maintenance"),
        Route("GET", "/elevators/{id}/maintenance/new", elevator, MAINT_RECORDERS),
        Route("POST", "/elevators/{id}/maintenance/new", elevator, MAINT_RECORDERS),
        Route("GET", "/maintenance/{id}/review", maintenance_record, OFFICERS),
        Route("POST", "/maintenance/{id}/review", maintenance_record, OFFICERS),
        Route("GET", "/handovers"),
        Route("GET", "/handovers/new", None, HANDOVER_STARTERS),
        Route("POST", "/handovers/new", None, HANDOVER_STARTERS),
        Route("GET", "/elevators/{id}/handovers/new", elevator, HANDOVER_STARTERS),
        Route("POST", "/elevators/{id}/handovers/new", elevator, HANDOVER_STARTERS),
        Route("GET", "/handovers/{id}", handover),
        Route("GET", "/handovers/{id}/checklist", handover, HANDOVER_STARTERS),
        Route("POST", "/handovers/{id}/checklist", handover, HANDOVER_STARTERS),
        Route("GET", "/handovers/{id}/hand-over", handover, CONTRACTOR_MANAGERS),
        Route("POST", "/handovers/{id}/hand-over", handover, CONTRACTOR_MANAGERS),
        Route("GET", "/handovers/{id}/receive", handover_in, CONTRACTOR_MANAGERS),
        Route("POST", "/handovers/{id}/receive", handover_in, CONTRACTOR_MANAGERS),
        Route("GET", "/handovers/{id}/confirm", handover_received, HANDOVER_STARTERS),
        Route("POST", "/handovers/{id}/confirm", handover_received, HANDOVER_STARTERS),
        Route("GET", "/handovers/{id}/cancel", handover, HANDOVER_STARTERS),
        Route("POST", "/handovers/{id}/cancel", handover, HANDOVER_STARTERS),
    ]
    return table + extra_routes()


CASES = [
    pytest.param(route, role, side, id=f"{route.method} {route.path} {role} {side}")
    for route in routes()
    for role in ROLES
    for side in (("own", "foreign") if route.target else ("own",))
]


def row_counts() -> dict[str, int]:
    return {
        name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for name, table in db.metadata.tables.items()
    }


@pytest.mark.parametrize(("route", "role", "side"), CASES)
def test_access(client, world, route: Route, role: str, side: str):
    actor = getattr(world.own, ROLE_ATTR[role])
    url = route.url(world, side, role)
    log_in(client, actor)
    before = row_counts()
    response = client.open(url, method=route.method, data={})
    response.close()  # file responses (photos, CSV) hold the file open until closed
    expected = route.expected(role, side)
    if expected == OK:
        assert response.status_code in (200, 302, 422), (url, response.status_code)
    else:
        assert response.status_code == expected, (url, response.status_code)
        if route.method == "POST":
            db.session.expire_all()
            assert row_counts() == before, "a refused request wrote something"


PUBLIC = {"/login", "/healthz", "/static/<path:filename>", "/invite/<token>"}


def test_every_route_is_in_the_grid_or_public(app):
    public = PUBLIC | extra_public()
    covered = {(r.method, r.path.replace("{id}", "<>")) for r in routes()}
    covered.add(("POST", "/elevators/import/<>/confirm"))  # test_import_confirm_with_unknown_token
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.rule in public:
            continue
        path = re.sub(r"<[^>]*>", "<>", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, path) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing, "routes missing from the access grid: " + ", ".join(missing)


LOGIN_REQUIRED = [r for r in routes() if r.path != "/language"]


@pytest.mark.parametrize("route", LOGIN_REQUIRED, ids=lambda r: f"{r.method} {r.path}")
def test_anonymous_is_sent_to_login(client, world, route: Route):
    url = route.url(world, "own", "admin")
    before = row_counts()
    response = client.open(url, method=route.method, data={})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    db.session.expire_all()
    assert row_counts() == before


@pytest.mark.parametrize("role", ROLES)
def test_import_confirm_with_unknown_token(client, world, role):
    log_in(client, getattr(world.own, ROLE_ATTR[role]))
    response = client.post("/elevators/import/" + "a" * 32 + "/confirm")
    assert response.status_code == (404 if role in REGISTRY_WRITERS else 403)


def test_anonymous_may_switch_language_and_nothing_is_written(client, world):
    before = row_counts()
    response = client.post("/language", data={"locale": "en", "next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert 'lang="en"' in client.get("/login").get_data(as_text=True)
    db.session.expire_all()
    assert row_counts() == before
