"""The lockout's rules elsewhere: no normal patrol, no normal maintenance while locked out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.lockouts import services
from elevator_safety.maintenance import services as maintenance
from elevator_safety.patrols import checklists
from elevator_safety.patrols import services as patrols
from elevator_safety.records.models import RecordKind
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.factories import PASSWORD, make_record
from tests.lockouts.helpers import open_one, repair, secure


def test_a_locked_elevator_gets_no_normal_patrol(world):
    elevator = world.own.elevators[0]
    open_one(world.own)
    checklist = checklists.current_for(elevator.kind.value)
    with pytest.raises(DomainError, match="out of service"):
        patrols.submit_patrol(elevator, world.own.officer, PASSWORD, checklist, {}, now=now_utc())


def test_the_out_of_service_patrol_records_the_lockout_state(world):
    side = world.own
    lockout = open_one(side)
    services.post_notice(lockout, side.officer, PASSWORD)
    record = patrols.submit_out_of_service(
        side.elevators[0],
        side.officer,
        PASSWORD,
        now=now_utc(),
        status_seen="stopped",
        notice_posted=True,
    )
    state = record.data["body"]["lockout"]
    assert state["id"] == lockout.id
    assert state["status"] == "open"
    assert state["notice_posted"] is True
    assert state["contractor_notified"] is False
    assert state["repaired"] is False
    assert state["entrapment"] is False


def test_an_out_of_service_patrol_without_lockout_says_so(world):
    elevator = world.own.elevators[0]
    elevator.status = elevator.status.out_of_service
    db.session.commit()
    record = patrols.submit_out_of_service(
        elevator,
        world.own.officer,
        PASSWORD,
        now=now_utc(),
        status_seen="stopped",
        notice_posted=True,
    )
    assert record.data["body"]["lockout"] is None


def test_no_confirmed_maintenance_of_a_normal_level_while_locked_out(world):
    side = world.own
    elevator = side.elevators[0]
    visit = make_record(
        elevator, side.technician, kind=RecordKind.maintenance, level="half_monthly"
    )
    db.session.commit()
    lockout = open_one(side)
    with pytest.raises(DomainError, match=f"lockout #{lockout.id}") as refused:
        maintenance.confirm(visit, side.officer, PASSWORD)
    assert "repairs are recorded on the lockout" in refused.value.message
    assert maintenance.state_of(visit) == maintenance.AWAITING
    secure(side, lockout)
    repair(side, lockout)
    services.return_to_service(lockout, side.officer, PASSWORD)
    db.session.commit()
    maintenance.confirm(visit, side.officer, PASSWORD)
    db.session.commit()
    assert maintenance.state_of(visit) == maintenance.CONFIRMED


def test_no_maintenance_visit_of_a_normal_level_is_recorded_while_locked_out(world):
    side = world.own
    elevator = side.elevators[0]
    visit = maintenance.VisitInput(level="half_monthly", visit_date=local_today())
    problems, _checked = maintenance.check_visit(elevator, side.technician, visit)
    assert "lockout" not in problems
    lockout = open_one(side)
    problems, _checked = maintenance.check_visit(elevator, side.technician, visit)
    assert problems["lockout"] == [services.locked_message(lockout)]
    with pytest.raises(maintenance.VisitRefused) as refused:
        maintenance.record_visit(elevator, side.technician, visit, PASSWORD)
    assert "lockout" in refused.value.problems


def test_the_review_page_shows_the_refusal(client, app, world):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    side = world.own
    elevator = side.elevators[0]
    visit = make_record(
        elevator,
        side.technician,
        kind=RecordKind.maintenance,
        level="half_monthly",
        occurred_at=now_utc() - timedelta(hours=2),
    )
    db.session.commit()
    lockout = open_one(side)
    log_in(client, side.officer)
    response = client.post(
        f"/maintenance/{visit.id}/review",
        data={"decision": "confirmed", "password": PASSWORD, "idempotency_key": "z" * 32},
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert f"lockout #{lockout.id}" in html
    assert maintenance.state_of(visit) == maintenance.AWAITING
