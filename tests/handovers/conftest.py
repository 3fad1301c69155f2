"""Fixtures of the handover tests: an incoming contractor and the workflow's steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.extensions import db
from elevator_safety.handovers.services import CHECKLIST
from elevator_safety.records.models import Handover
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.factories import PASSWORD, World, make_org, make_user

STEP_PATHS = {"hand_over": "hand-over", "receive": "receive", "confirm": "confirm"}


@dataclass
class Contractor:
    """A contractor organisation with its manager and technician."""

    org: Organisation
    manager: User
    technician: User


def make_contractor(**kw: Any) -> Contractor:
    org = make_org(OrgKind.contractor, **kw)
    return Contractor(
        org,
        make_user(org, Role.contractor_manager),
        make_user(org, Role.technician, certificate_no="T-9999"),
    )


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Speak English by default here, so that the assertions hold whatever the catalogue says."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def incoming(world: World) -> Contractor:
    """The contractor that takes over the own side's elevators."""
    made = make_contractor()
    db.session.commit()
    return made


def shanghai_noon(day: date) -> datetime:
    """Return noon of a day in the installation's zone (for time_machine)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("Asia/Shanghai"))


def handover_date() -> date:
    return local_today() + timedelta(days=10)


def start_form(
    elevators: list, incoming: Organisation, day: date | None = None, **changes: Any
) -> dict[str, Any]:
    """Return the start form as a browser posts it."""
    day = day or handover_date()
    data: dict[str, Any] = {
        "elevator_ids": [str(e.id) for e in elevators],
        "incoming_contractor_id": str(incoming.id),
        "handover_date": day.isoformat(),
        "new_contract_end": (day + timedelta(days=364)).isoformat(),
        "level_plan": ["half_monthly", "quarterly", "semi_annual", "annual"],
    }
    data.update(changes)
    return data


def start(client: FlaskClient, world: World, incoming: Contractor, **changes: Any) -> Handover:
    """Start a handover of the own side's elevators as its admin; return it."""
    log_in(client, world.own.admin)
    elevators = changes.pop("elevators", world.own.elevators)
    response = client.post("/handovers/new", data=start_form(elevators, incoming.org, **changes))
    assert response.status_code == 302, response.get_data(as_text=True)
    handover_id = int(urlparse(response.headers["Location"]).path.split("/")[2])
    handover = db.session.get(Handover, handover_id)
    assert handover is not None
    return handover


def checklist_form(**answers: Any) -> dict[str, str]:
    """Return a checklist form: every item 'yes' unless given (None leaves it unanswered)."""
    data = {}
    for item in CHECKLIST:
        answer = answers.get(item.code, "yes")
        if answer is not None:
            data[f"{item.code}_answer"] = answer
        data[f"{item.code}_note"] = answers.get(f"{item.code}_note", "")
    return data


def fill_checklist(client: FlaskClient, user: User, handover: Handover, **answers: Any) -> None:
    log_in(client, user)
    response = client.post(f"/handovers/{handover.id}/checklist", data=checklist_form(**answers))
    assert response.status_code == 302, response.get_data(as_text=True)


def sign(
    client: FlaskClient,
    user: User,
    handover: Handover,
    step: str,
    password: str = PASSWORD,
    token: str | None = None,
):  # type: ignore[no-untyped-def]
    """Post a signing step as a user; return the response."""
    log_in(client, user)
    data = {"password": password}
    if token:
        data["idempotency_key"] = token
    return client.post(f"/handovers/{handover.id}/{STEP_PATHS[step]}", data=data)


def run_to(
    client: FlaskClient, world: World, incoming: Contractor, status: str, **changes: Any
) -> Handover:
    """Start a handover and take it to a status through the pages."""
    handover = start(client, world, incoming, **changes)
    if status == "started":
        return handover
    fill_checklist(client, world.own.admin, handover)
    order = [
        ("handed_over", world.own.manager, "hand_over"),
        ("received", incoming.manager, "receive"),
        ("confirmed", world.own.director, "confirm"),
    ]
    for reached, user, step in order:
        response = sign(client, user, handover, step)
        assert response.status_code == 302, response.get_data(as_text=True)
        if reached == status:
            break
    db.session.expire_all()
    return handover


def row_counts() -> dict[str, int]:
    """Return every table's row count (refused requests must not change any)."""
    return {
        name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for name, table in db.metadata.tables.items()
    }


def state(handover: Handover) -> tuple[dict[str, int], str, Any, list]:
    """Return what a refused request must leave unchanged: rows, status, checklist, contracts."""
    db.session.expire_all()
    from elevator_safety.registry.models import Contract

    contracts = [
        (c.id, c.contractor_id, c.start_date, c.end_date, c.level_plan)
        for c in db.session.scalars(select(Contract).order_by(Contract.id))
    ]
    fresh = db.session.get(Handover, handover.id)
    assert fresh is not None
    return row_counts(), fresh.status.value, dict(fresh.checklist), contracts
