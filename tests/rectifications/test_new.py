"""The "new rectification" form: defaults, owners, deadlines, the serious-hazard lockout."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import Lockout, LockoutCause
from elevator_safety.notifications.models import Notification
from elevator_safety.records.models import Finding, FindingSource, Severity
from elevator_safety.registry.models import ElevatorStatus
from tests.conftest import log_in
from tests.factories import PASSWORD, make_elevator, make_site


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _data(world, **changes):  # type: ignore[no-untyped-def]
    data = {
        "site_id": str(world.own.site.id),
        "elevator_id": str(world.own.elevators[0].id),
        "source": "regulator_notice",
        "source_reference": "JZ-2026-041",
        "duty": "D2",
        "item_label": "Use sign expired",
        "description": "The use sign in the car expired last month.",
        "severity": "ordinary",
        "owner": "company",
        "deadline": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_form_is_prefilled_from_the_elevator(client, world):
    log_in(client, world.own.officer)
    elevator = world.own.elevators[1]
    page = client.get(f"/rectifications/new?elevator={elevator.id}").get_data(as_text=True)
    assert f'<option selected value="{elevator.id}">' in page
    assert f'<option selected value="{world.own.site.id}">' in page


def test_the_form_refuses_a_foreign_elevator_or_site(client, world):
    log_in(client, world.own.officer)
    assert (
        client.get(f"/rectifications/new?elevator={world.foreign.elevators[0].id}").status_code
        == 404
    )
    assert client.get(f"/rectifications/new?site={world.foreign.site.id}").status_code == 404


@time_machine.travel("2026-05-04 02:00:00+00:00", tick=False)
def test_an_ordinary_rectification_gets_the_default_deadline(client, world):
    log_in(client, world.own.officer)
    response = client.post("/rectifications/new", data=_data(world))
    assert response.status_code == 302
    finding = db.session.scalar(select(Finding))
    assert finding.source == FindingSource.regulator_notice
    assert finding.source_reference == "JZ-2026-041"
    assert finding.owner_organisation_id == world.own.org.id
    assert finding.deadline == now_utc() + timedelta(hours=168)
    assert finding.created_by_id == world.own.officer.id
    assert response.headers["Location"].endswith(f"/rectifications/{finding.id}")


def test_a_deadline_typed_is_in_the_sites_time(client, world):
    log_in(client, world.own.officer)
    year = now_utc().year + 1
    response = client.post("/rectifications/new", data=_data(world, deadline=f"{year}-01-10T09:30"))
    assert response.status_code == 302
    finding = db.session.scalar(select(Finding))
    assert finding.deadline.strftime("%m-%d %H:%M") == "01-10 01:30"  # 09:30 in Shanghai


def test_a_deadline_in_the_past_is_refused(client, world):
    log_in(client, world.own.officer)
    response = client.post("/rectifications/new", data=_data(world, deadline="2020-01-01T08:00"))
    assert response.status_code == 422
    assert "The deadline cannot be in the past." in response.get_data(as_text=True)
    assert _count(Finding) == 0


def test_a_regulator_notice_needs_its_number(client, world):
    log_in(client, world.own.officer)
    response = client.post("/rectifications/new", data=_data(world, source_reference=""))
    assert response.status_code == 422
    assert "Give the number of the regulator" in response.get_data(as_text=True)
    assert _count(Finding) == 0


def test_the_elevator_must_be_of_the_site(client, world):
    other_site_elevator = make_elevator(make_site(world.own.org), world.own.officer)
    db.session.commit()
    log_in(client, world.own.officer)
    response = client.post(
        "/rectifications/new", data=_data(world, elevator_id=str(other_site_elevator.id))
    )
    assert response.status_code == 422
    assert "Choose an elevator of the chosen site." in response.get_data(as_text=True)


def test_a_foreign_elevator_is_not_a_choice(client, world):
    log_in(client, world.own.officer)
    response = client.post(
        "/rectifications/new", data=_data(world, elevator_id=str(world.foreign.elevators[0].id))
    )
    assert response.status_code == 422
    assert _count(Finding) == 0


def test_required_fields(client, world):
    log_in(client, world.own.officer)
    response = client.post("/rectifications/new", data={})
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("This field is required.") >= 3


def test_the_contractor_in_force_can_own_the_fix(client, world):
    log_in(client, world.own.officer)
    response = client.post("/rectifications/new", data=_data(world, owner="contractor"))
    assert response.status_code == 302
    finding = db.session.scalar(select(Finding))
    assert finding.owner_organisation_id == world.own.contractor.id
    note = db.session.scalar(select(Notification))
    assert note.user_id == world.own.manager.id


def test_a_site_wide_rectification_cannot_go_to_a_contractor(client, world):
    log_in(client, world.own.officer)
    response = client.post(
        "/rectifications/new", data=_data(world, elevator_id="", owner="contractor")
    )
    assert response.status_code == 422
    assert "A contractor can own only a rectification of an elevator." in response.get_data(
        as_text=True
    )


def test_no_contractor_in_force(client, world):
    elevator = make_elevator(world.own.site, world.own.officer)
    db.session.commit()
    log_in(client, world.own.officer)
    response = client.post(
        "/rectifications/new", data=_data(world, elevator_id=str(elevator.id), owner="contractor")
    )
    assert response.status_code == 422
    assert "no contractor in force" in response.get_data(as_text=True)


def test_serious_with_the_box_checked_locks_out_in_the_same_step(client, world):
    log_in(client, world.own.officer)
    response = client.post(
        "/rectifications/new",
        data=_data(world, severity="serious", lock_out="y", password=PASSWORD),
    )
    assert response.status_code == 302
    finding = db.session.scalar(select(Finding))
    lockout = db.session.get(Lockout, finding.lockout_id)
    assert lockout.cause == LockoutCause.serious_hazard
    assert world.own.elevators[0].status == ElevatorStatus.out_of_service
    assert finding.deadline - finding.created_at == timedelta(hours=24)


def test_serious_with_the_box_checked_and_a_wrong_password_creates_nothing(client, world):
    log_in(client, world.own.officer)
    response = client.post(
        "/rectifications/new",
        data=_data(world, severity="serious", lock_out="y", password="wrong"),
    )
    assert response.status_code == 422
    assert "Wrong password" in response.get_data(as_text=True)
    assert _count(Finding) == 0
    assert _count(Lockout) == 0
    assert _count(Notification) == 0


def test_serious_without_the_box_leaves_the_step_on_the_page(client, world):
    log_in(client, world.own.officer)
    response = client.post("/rectifications/new", data=_data(world, severity="serious"))
    assert response.status_code == 302
    finding = db.session.scalar(select(Finding))
    assert finding.severity == Severity.serious
    assert finding.lockout_id is None
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert "Serious hazard: stop the elevator" in page


def test_the_checkbox_is_checked_by_default(client, world):
    log_in(client, world.own.officer)
    page = client.get("/rectifications/new").get_data(as_text=True)
    assert 'checked id="lock_out" name="lock_out" type="checkbox"' in page
