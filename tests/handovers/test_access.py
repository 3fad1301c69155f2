"""Access grid of the handover routes: every route x every role x own/foreign handover.

The actor is always the 'own' side's user of the role; 'foreign' targets belong to
the other company (other district, other contractors). "ok" means 200, a redirect,
or 422 for a posted form its validation refused; 403 means the role may not use
the route; 404 means the target is outside the user's scope. Refused POSTs must
change nothing: row counts, handover statuses and checklists are compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from elevator_safety.auth.models import OrgKind
from elevator_safety.extensions import db
from elevator_safety.handovers import services
from elevator_safety.handovers.services import CHECKLIST
from elevator_safety.records.models import Handover, HandoverStatus
from elevator_safety.registry.models import FULL_LEVEL_PLAN
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.factories import ROLE_ATTR, World, make_contract, make_elevator, make_org
from tests.handovers.conftest import handover_date, make_contractor, row_counts

ROLES = list(ROLE_ATTR)
OK = "ok"
PROPERTY = frozenset({"admin", "safety_director"})
MANAGER = frozenset({"contractor_manager"})
COMPLETE = {item.code: {"ok": True, "note": ""} for item in CHECKLIST}


def _handover(side, outgoing, incoming, elevators, status: HandoverStatus) -> Handover:  # type: ignore[no-untyped-def]
    handover = Handover(
        organisation_id=side.org.id,
        outgoing_contractor_id=outgoing.id,
        incoming_contractor_id=incoming.id,
        handover_date=handover_date(),
        new_contract_end=handover_date().replace(year=handover_date().year + 1),
        status=status,
        checklist=COMPLETE,
        new_level_plan=FULL_LEVEL_PLAN,
        created_by_id=side.admin.id,
        elevators=elevators,
    )
    db.session.add(handover)
    db.session.commit()
    return handover


def handover_out(world: World, side: str, _role: str) -> int:
    """A started handover (checklist complete) where the side's contractor hands over."""
    group = getattr(world, side)
    incoming = make_org(OrgKind.contractor)
    return _handover(group, group.contractor, incoming, group.elevators, HandoverStatus.started).id


def handover_in(world: World, side: str, _role: str) -> int:
    """A handed-over handover where the side's contractor is the incoming one."""
    group = getattr(world, side)
    outgoing = make_contractor()
    elevator = make_elevator(group.site, group.officer)
    make_contract(elevator, outgoing.org)
    return _handover(
        group, outgoing.org, group.contractor, [elevator], HandoverStatus.handed_over
    ).id


def handover_received(world: World, side: str, _role: str) -> int:
    """A received handover of the side's elevators, waiting for the company's confirmation."""
    group = getattr(world, side)
    incoming = make_org(OrgKind.contractor)
    return _handover(group, group.contractor, incoming, group.elevators, HandoverStatus.received).id


def elevator(world: World, side: str, _role: str) -> int:
    return getattr(world, side).elevators[0].id


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    target: Callable[[World, str, str], int] | None = None
    writers: frozenset[str] | None = None

    def url(self, world: World, side: str, role: str) -> str:
        return self.path.format(id=self.target(world, side, role)) if self.target else self.path

    def expected(self, role: str, side: str) -> str | int:
        if self.writers is not None and role not in self.writers:
            return 403
        if self.target is not None and side == "foreign":
            return 404
        return OK


ROUTES = [
    Route("GET", "/handovers"),
    Route("GET", "/handovers/new", None, PROPERTY),
    Route("POST", "/handovers/new", None, PROPERTY),
    Route("GET", "/elevators/{id}/handovers/new", elevator, PROPERTY),
    Route("POST", "/elevators/{id}/handovers/new", elevator, PROPERTY),
    Route("GET", "/handovers/{id}", handover_out),
    Route("GET", "/handovers/{id}/checklist", handover_out, PROPERTY),
    Route("POST", "/handovers/{id}/checklist", handover_out, PROPERTY),
    Route("GET", "/handovers/{id}/hand-over", handover_out, MANAGER),
    Route("POST", "/handovers/{id}/hand-over", handover_out, MANAGER),
    Route("GET", "/handovers/{id}/receive", handover_in, MANAGER),
    Route("POST", "/handovers/{id}/receive", handover_in, MANAGER),
    Route("GET", "/handovers/{id}/confirm", handover_received, PROPERTY),
    Route("POST", "/handovers/{id}/confirm", handover_received, PROPERTY),
    Route("GET", "/handovers/{id}/cancel", handover_out, PROPERTY),
    Route("POST", "/handovers/{id}/cancel", handover_out, PROPERTY),
]

CASES = [
    pytest.param(route, role, side, id=f"{route.method} {route.path} {role} {side}")
    for route in ROUTES
    for role in ROLES
    for side in (("own", "foreign") if route.target else ("own",))
]


def handover_states() -> list[tuple]:
    db.session.expire_all()
    return [
        (h.id, h.status.value, dict(h.checklist))
        for h in db.session.scalars(select(Handover).order_by(Handover.id))
    ]


@pytest.mark.parametrize(("route", "role", "side"), CASES)
def test_access(client, world, route: Route, role: str, side: str):
    actor = getattr(world.own, ROLE_ATTR[role])
    url = route.url(world, side, role)
    log_in(client, actor)
    before = (row_counts(), handover_states())
    response = client.open(url, method=route.method, data={})
    expected = route.expected(role, side)
    if expected == OK:
        assert response.status_code in (200, 302, 422), (url, response.status_code)
    else:
        assert response.status_code == expected, (url, response.status_code)
        if route.method == "POST":
            db.session.expire_all()
            assert (row_counts(), handover_states()) == before, "a refused request wrote something"


def test_every_handover_route_is_in_this_grid(app):
    covered = {(r.method, r.path.replace("{id}", "<>")) for r in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "handovers":
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", "<>")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, path) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert not missing, missing


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_anonymous_is_sent_to_login(client, world, route: Route):
    url = route.url(world, "own", "admin")
    before = row_counts()
    response = client.open(url, method=route.method, data={})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    db.session.expire_all()
    assert row_counts() == before


def test_the_right_party_on_the_grid_targets_may_really_sign(client, world):
    """The grid's 'ok' cells are reachable: each target can be signed by its party."""
    from tests.factories import PASSWORD

    log_in(client, world.own.manager)
    out_id = handover_out(world, "own", "contractor_manager")
    response = client.post(f"/handovers/{out_id}/hand-over", data={"password": PASSWORD})
    assert response.status_code == 302
    in_id = handover_in(world, "own", "contractor_manager")
    response = client.post(f"/handovers/{in_id}/receive", data={"password": PASSWORD})
    assert response.status_code == 302
    log_in(client, world.own.admin)
    received_id = handover_received(world, "own", "admin")
    assert (
        services.step_refusal(db.session.get(Handover, received_id), services.Step.confirm) is None
    )
    assert local_today() < handover_date()
