"""Video retention checks (D7) and emergency alarm tests (D6), with the rectifications they open."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from elevator_safety.extensions import db
from elevator_safety.records.models import FindingSource, Record, RecordKind
from elevator_safety.registers import chain, rules, services
from elevator_safety.registers.models import RegisterKind
from elevator_safety.registry.models import ElevatorStatus
from tests.factories import PASSWORD
from tests.registers.conftest import entries, findings, sh


def video_form(**values):  # type: ignore[no-untyped-def]
    return {
        "checked_at": "2026-05-04T09:00",
        "cameras_total": "8",
        "cameras_working": "8",
        "oldest_footage": "2026-04-04",
        "note": "",
        "password": PASSWORD,
    } | values


def alarm_form(**values):  # type: ignore[no-untyped-def]
    return {
        "tested_at": "2026-05-04T09:00",
        "answered": "yes",
        "answered_in_seconds": "20",
        "answered_by": "Duty Wang",
        "talk_clear": "yes",
        "note": "",
        "password": PASSWORD,
    } | values


def alarm_records() -> list[Record]:
    return list(db.session.scalars(select(Record).where(Record.kind == RecordKind.alarm_test)))


# --- video checks ---------------------------------------------------------------------


def test_video_check_with_enough_retention(client, login_as, world, frozen):
    officer = login_as("safety_officer")
    site = world.own.site
    assert client.get(f"/sites/{site.id}/video-checks/new").status_code == 200
    response = client.post(f"/sites/{site.id}/video-checks/new", data=video_form())
    assert response.status_code == 302
    (check,) = entries(RegisterKind.video_check)
    assert check.ok is True
    assert check.on_date == date(2026, 4, 4)
    assert check.occurred_at == sh(2026, 5, 4, 9)
    assert check.author_id == officer.id
    assert check.data["body"]["retention_days"] == 30
    assert check.data["body"]["retention_required_days"] == 30
    assert findings() == []
    state = services.video_state(site, date(2026, 5, 4))
    assert state.last == check
    assert state.retention_days == 30
    assert state.due == date(2026, 6, 3)
    assert not state.overdue
    assert not state.problem
    hub = client.get(f"/sites/{site.id}/registers").get_data(as_text=True)
    assert "30 days kept" in hub
    assert 'data-video="ok"' in hub


def test_short_retention_opens_a_rectification(client, login_as, world, frozen):
    login_as("safety_director")
    site = world.own.site
    response = client.post(
        f"/sites/{site.id}/video-checks/new", data=video_form(oldest_footage="2026-04-05")
    )
    assert response.status_code == 302
    (check,) = entries(RegisterKind.video_check)
    (finding,) = findings()
    assert finding.source == FindingSource.video_check
    assert finding.duty == "D7"
    assert finding.source_entry_id == check.id
    assert finding.elevator_id is None
    assert finding.item_code == "video:retention"
    assert "29 days" in finding.item_label
    assert services.video_state(site, date(2026, 5, 4)).problem


def test_broken_cameras_open_a_rectification(client, login_as, world, frozen):
    login_as("safety_officer")
    site = world.own.site
    client.post(f"/sites/{site.id}/video-checks/new", data=video_form(cameras_working="6"))
    (check,) = entries(RegisterKind.video_check)
    assert check.ok is False
    (finding,) = findings(FindingSource.video_check)
    assert finding.item_code == "video:cameras"
    assert "2 of 8" in finding.item_label


def test_both_problems_open_two_rectifications(world, frozen):
    site, officer = world.own.site, world.own.officer
    services.record_video_check(
        site,
        officer,
        PASSWORD,
        checked_at=sh(2026, 5, 4, 9),
        cameras_total=4,
        cameras_working=0,
        oldest_footage=date(2026, 5, 1),
        note=None,
    )
    db.session.commit()
    assert sorted(f.item_code for f in findings()) == ["video:cameras", "video:retention"]


def test_retention_minimum_comes_from_the_config(app, world, frozen):
    app.config["VIDEO_RETENTION_DAYS"] = 60
    site, officer = world.own.site, world.own.officer
    services.record_video_check(
        site,
        officer,
        PASSWORD,
        checked_at=sh(2026, 5, 4, 9),
        cameras_total=1,
        cameras_working=1,
        oldest_footage=date(2026, 4, 1),
        note=None,
    )
    db.session.commit()
    (finding,) = findings()
    assert "at least 60" in finding.item_label


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"cameras_working": "9"}, "cameras_working"),
        ({"cameras_total": "0"}, "cameras_total"),
        ({"cameras_total": "x"}, "cameras_total"),
        ({"oldest_footage": "2026-05-05"}, "oldest_footage"),
        ({"oldest_footage": ""}, "oldest_footage"),
        ({"checked_at": "2026-05-04T11:00"}, "checked_at"),
        ({"password": "wrong"}, "password"),
    ],
)
def test_video_check_refusals(client, login_as, world, frozen, values, field):
    login_as("safety_officer")
    response = client.post(
        f"/sites/{world.own.site.id}/video-checks/new", data=video_form(**values)
    )
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.get_data(as_text=True)
    assert entries() == []
    assert findings() == []


def test_video_check_overdue_after_the_interval(world, frozen):
    site, officer = world.own.site, world.own.officer
    assert services.video_state(site, date(2026, 5, 4)).overdue  # never checked
    services.record_video_check(
        site,
        officer,
        PASSWORD,
        checked_at=sh(2026, 5, 4, 9),
        cameras_total=1,
        cameras_working=1,
        oldest_footage=date(2026, 3, 1),
        note=None,
    )
    db.session.commit()
    assert not services.video_state(site, date(2026, 6, 3)).overdue
    assert services.video_state(site, date(2026, 6, 4)).overdue


# --- alarm tests ----------------------------------------------------------------------


def test_passed_alarm_test(client, login_as, world, frozen):
    officer = login_as("safety_officer")
    elevator = world.own.elevators[0]
    assert client.get(f"/elevators/{elevator.id}/alarm-tests/new").status_code == 200
    response = client.post(f"/elevators/{elevator.id}/alarm-tests/new", data=alarm_form())
    assert response.status_code == 302
    (record,) = alarm_records()
    assert response.headers["Location"].endswith(f"/records/{record.id}")
    body = record.data["body"]
    assert body["answered"] is True
    assert body["answered_in_seconds"] == 20
    assert body["answered_by"] == "Duty Wang"
    assert body["talk_clear"] is True
    assert body["failed"] is False
    assert body["answer_limit_seconds"] == rules.answer_limit_seconds()
    assert record.occurred_at == sh(2026, 5, 4, 9)
    assert record.author_id == officer.id
    assert findings() == []
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert 'data-testid="alarm-test-record"' in page
    assert "Passed" in page
    (state,) = services.alarm_states([elevator], date(2026, 5, 4))
    assert state.last == record
    assert not state.overdue
    assert state.due == date(2026, 6, 3)


@pytest.mark.parametrize(
    ("values", "why"),
    [
        (
            {"answered_in_seconds": "61"},
            "answered after 61 seconds",
        ),
        ({"answered": "no", "answered_in_seconds": "", "answered_by": ""}, "Nobody answered"),
        ({"talk_clear": "no"}, "two-way talk"),
    ],
)
def test_failed_alarm_test_opens_a_rectification(client, login_as, world, frozen, values, why):
    login_as("safety_director")
    elevator = world.own.elevators[0]
    response = client.post(f"/elevators/{elevator.id}/alarm-tests/new", data=alarm_form(**values))
    assert response.status_code == 302
    (record,) = alarm_records()
    assert record.data["body"]["failed"] is True
    (finding,) = findings()
    assert finding.source == FindingSource.alarm_test
    assert finding.duty == "D6"
    assert finding.elevator_id == elevator.id
    assert finding.source_record_id == record.id
    assert why in finding.description
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert "Failed" in page


def test_answer_at_the_limit_passes(world, frozen):
    elevator, officer = world.own.elevators[0], world.own.officer
    services.record_alarm_test(
        elevator,
        officer,
        PASSWORD,
        tested_at=sh(2026, 5, 4, 9),
        answered=True,
        answered_in_seconds=rules.answer_limit_seconds(),
        answered_by="Wang",
        talk_clear=True,
        note=None,
    )
    db.session.commit()
    assert findings() == []


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"answered_in_seconds": ""}, "answered_in_seconds"),
        ({"answered_by": ""}, "answered_by"),
        ({"answered": ""}, "answered"),
        ({"tested_at": "2026-05-04T12:00"}, "tested_at"),
        ({"tested_at": "yesterday"}, "tested_at"),
        ({"password": "wrong"}, "password"),
    ],
)
def test_alarm_test_refusals(client, login_as, world, frozen, values, field):
    login_as("safety_officer")
    elevator = world.own.elevators[0]
    response = client.post(f"/elevators/{elevator.id}/alarm-tests/new", data=alarm_form(**values))
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.get_data(as_text=True)
    assert alarm_records() == []
    assert findings() == []


def test_no_alarm_test_of_a_decommissioned_elevator(client, login_as, world, frozen):
    login_as("safety_officer")
    elevator = world.own.elevators[0]
    elevator.status = ElevatorStatus.decommissioned
    db.session.commit()
    assert client.get(f"/elevators/{elevator.id}/alarm-tests/new").status_code == 403
    assert services.alarm_states([elevator], date(2026, 5, 4)) == []


def test_alarm_overdue_on_the_hub(client, login_as, world, frozen):
    first, second = world.own.elevators
    services.record_alarm_test(
        first,
        world.own.officer,
        PASSWORD,
        tested_at=sh(2026, 5, 4, 9),
        answered=True,
        answered_in_seconds=5,
        answered_by="Wang",
        talk_clear=True,
        note=None,
    )
    db.session.commit()
    states = {s.elevator.id: s for s in services.alarm_states([first, second], date(2026, 5, 4))}
    assert not states[first.id].overdue
    assert states[second.id].overdue
    login_as("admin")
    hub = client.get(f"/sites/{world.own.site.id}/registers").get_data(as_text=True)
    assert 'data-alarm="ok"' in hub
    assert 'data-alarm="never"' in hub
    assert "Record a test" not in hub  # the admin does not test alarms


def test_duplicate_alarm_form_goes_to_the_first_record(client, login_as, world, frozen):
    login_as("safety_officer")
    elevator = world.own.elevators[0]
    url = f"/elevators/{elevator.id}/alarm-tests/new"
    client.post(url, data=alarm_form(idempotency_key="alarm-1"))
    again = client.post(url, data=alarm_form(idempotency_key="alarm-1"))
    (record,) = alarm_records()
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/records/{record.id}")


def test_chains_verify(world, frozen):
    site, officer = world.own.site, world.own.officer
    services.record_video_check(
        site,
        officer,
        PASSWORD,
        checked_at=sh(2026, 5, 4, 9),
        cameras_total=1,
        cameras_working=1,
        oldest_footage=date(2026, 3, 1),
        note=None,
    )
    db.session.commit()
    assert chain.verify_sites([site.id]).ok
