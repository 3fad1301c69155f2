"""Serious hazards (重大隐患): the lockout step is forced, offered in one step, and reported."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import Lockout, LockoutCause, LockoutStatus
from elevator_safety.lockouts.services import open_lockout
from elevator_safety.notifications.models import Notification
from elevator_safety.records.models import Finding, FindingStatus, Record, RecordKind, Severity
from elevator_safety.rectifications import services
from elevator_safety.rectifications.services import Action
from elevator_safety.registry.models import ElevatorStatus
from tests.conftest import log_in
from tests.factories import PASSWORD
from tests.rectifications.helpers import make_finding


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _notes(user) -> list[Notification]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (FindingStatus.open, Action.start),
        (FindingStatus.open, Action.complete),
        (FindingStatus.reopened, Action.start),
        (FindingStatus.reopened, Action.complete),
        (FindingStatus.in_progress, Action.complete),
    ],
)
def test_serious_finding_cannot_move_until_locked_out(client, world, state, action):
    finding = make_finding(world.own, severity=Severity.serious, status=state)
    log_in(client, world.own.officer)
    response = client.post(
        f"/rectifications/{finding.id}/{action.value}",
        data={"text": "Fixed.", "password": PASSWORD},
    )
    assert response.status_code == 422
    assert "must be locked out" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == state
    assert _count(Lockout) == 0
    assert _count(Record) == 0


def test_the_page_offers_the_lockout_in_one_step(client, world):
    finding = make_finding(world.own, severity=Severity.serious)
    log_in(client, world.own.officer)
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert "Serious hazard: stop the elevator" in page
    assert 'data-testid="lockout-form"' in page
    assert "Pit lighting broken" in page  # the description is prefilled
    response = client.post(
        f"/rectifications/{finding.id}/lockout",
        data={"description": "Stopped for the pit hazard.", "password": PASSWORD},
    )
    assert response.status_code == 302
    db.session.expire_all()
    finding = db.session.get(Finding, finding.id)
    lockout = db.session.get(Lockout, finding.lockout_id)
    assert lockout.cause == LockoutCause.serious_hazard
    assert lockout.status == LockoutStatus.open
    assert lockout.description == "Stopped for the pit hazard."
    assert finding.elevator.status == ElevatorStatus.out_of_service
    assert db.session.scalar(select(Record).where(Record.kind == RecordKind.lockout)) is not None
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert "Serious hazard: stop the elevator" not in page
    assert 'data-testid="lockout"' in page
    assert client.post(f"/rectifications/{finding.id}/start").status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == FindingStatus.in_progress


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"description": "Stop", "password": "wrong"}, "Wrong password"),
        ({"description": "Stop"}, "This field is required."),
        ({"description": "", "password": PASSWORD}, "This field is required."),
    ],
)
def test_the_one_step_lockout_refuses_without_signature(client, world, data, message):
    finding = make_finding(world.own, severity=Severity.serious)
    log_in(client, world.own.officer)
    response = client.post(f"/rectifications/{finding.id}/lockout", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert _count(Lockout) == 0
    assert db.session.get(Finding, finding.id).lockout_id is None
    assert world.own.elevators[0].status == ElevatorStatus.in_service


def test_an_open_lockout_of_the_elevator_counts_and_is_linked(client, world):
    elevator = world.own.elevators[0]
    existing = open_lockout(
        elevator, world.own.officer, PASSWORD, cause=LockoutCause.fault, description="Door fault"
    )
    finding = make_finding(world.own, severity=Severity.serious)
    log_in(client, world.own.officer)
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert 'data-testid="link-lockout"' in page
    assert client.post(f"/rectifications/{finding.id}/start").status_code == 302
    db.session.expire_all()
    finding = db.session.get(Finding, finding.id)
    assert finding.lockout_id == existing.id
    assert finding.status == FindingStatus.in_progress
    assert _count(Lockout) == 1


def test_the_link_button_links_the_open_lockout(client, world):
    elevator = world.own.elevators[0]
    existing = open_lockout(
        elevator, world.own.officer, PASSWORD, cause=LockoutCause.fault, description="Door fault"
    )
    finding = make_finding(world.own, severity=Severity.serious)
    log_in(client, world.own.officer)
    assert client.post(f"/rectifications/{finding.id}/lockout").status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).lockout_id == existing.id
    assert _count(Lockout) == 1


def test_site_wide_serious_finding_needs_no_lockout(world):
    finding = make_finding(world.own, elevator=None, severity=Severity.serious)
    assert not services.needs_lockout(finding)
    services.transition(finding, Action.start, world.own.officer)
    assert finding.status == FindingStatus.in_progress


def test_ordinary_finding_needs_no_lockout(world):
    finding = make_finding(world.own)
    services.transition(finding, Action.start, world.own.officer)
    assert finding.lockout_id is None


def test_the_service_refuses_work_before_the_lockout(world):
    finding = make_finding(world.own, severity=Severity.serious)
    with pytest.raises(DomainError, match="must be locked out"):
        services.transition(finding, Action.start, world.own.officer)


def test_lock_out_refused_on_a_completed_finding(world):
    finding = make_finding(world.own, severity=Severity.serious, status=FindingStatus.completed)
    with pytest.raises(DomainError, match="already completed"):
        services.lock_out_for(finding, world.own.officer, PASSWORD, "x")


def test_contractor_owner_may_lock_out_its_elevator(client, world):
    finding = make_finding(world.own, severity=Severity.serious, owner="contractor")
    log_in(client, world.own.technician)
    response = client.post(
        f"/rectifications/{finding.id}/lockout",
        data={"description": "Stopped.", "password": PASSWORD},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).lockout_id is not None


# --- reporting: Order No. 74 ---------------------------------------------------------------


def test_a_serious_finding_notifies_the_director_and_the_officer(world):
    finding = make_finding(world.own, severity=Severity.serious, author=world.own.technician)
    director = _notes(world.own.director)
    officer = _notes(world.own.officer)
    assert [n.kind for n in director] == ["serious_finding"]
    assert [n.kind for n in officer] == ["serious_finding"]
    assert director[0].link == f"/rectifications/{finding.id}"
    assert director[0].params["item"] == "Pit lighting broken"
    assert _notes(world.foreign.director) == []
    assert _notes(world.own.admin) == []


def test_the_author_is_not_notified_of_their_own_finding(world):
    make_finding(world.own, severity=Severity.serious, author=world.own.officer)
    assert _notes(world.own.officer) == []
    assert len(_notes(world.own.director)) == 1


def test_an_ordinary_finding_notifies_nobody(world):
    make_finding(world.own, author=world.own.officer)
    assert _count(Notification) == 0


def test_a_contractor_owner_hears_of_its_new_finding(world):
    make_finding(world.own, owner="contractor", author=world.own.officer)
    assert [n.kind for n in _notes(world.own.manager)] == ["finding_assigned"]
    assert _notes(world.own.technician) == []


def test_inactive_directors_are_not_notified(world):
    world.own.director.active = False
    db.session.commit()
    make_finding(world.own, severity=Severity.serious, author=world.own.technician)
    assert _notes(world.own.director) == []
