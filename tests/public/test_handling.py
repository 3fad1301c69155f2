"""The officer's side: the report list, the detail page and the three ways to handle a report."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import g
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import Lockout, LockoutCause, LockoutStatus
from elevator_safety.lockouts.services import open_lockout
from elevator_safety.public import services
from elevator_safety.public.models import PublicReport, ReportCategory, ReportStatus
from elevator_safety.records.models import Finding, FindingSource, Record, RecordKind, Severity
from elevator_safety.registry.models import ElevatorStatus
from tests.conftest import log_in
from tests.factories import PASSWORD
from tests.public.conftest import english, make_report


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count(model.id))) or 0


def audits(report: PublicReport) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "PublicReport", AuditEntry.object_id == report.id
            )
        )
    )


@pytest.fixture
def report(world) -> PublicReport:  # type: ignore[no-untyped-def]
    return make_report(world.own.elevators[0])


@pytest.fixture
def trapped(world) -> PublicReport:  # type: ignore[no-untyped-def]
    return make_report(world.own.elevators[0], ReportCategory.trapped, note="Two people inside.")


# --- the list -----------------------------------------------------------------------------------


def test_list_shows_pending_first_and_trapped_first_among_them(client, world, officer):
    elevator = world.own.elevators[0]
    old = make_report(elevator, note="old one")
    handled = make_report(elevator, note="handled one")
    handled.status = ReportStatus.dismissed
    handled.dismiss_reason = "test"
    trapped = make_report(elevator, ReportCategory.trapped, note="trapped one")
    newest = make_report(elevator, note="newest one")
    db.session.commit()
    body = client.get("/reports").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'data-report="(\d+)"', body)]
    assert ids == [trapped.id, newest.id, old.id, handled.id]
    assert "3 reports pending" in body

    pending = client.get("/reports?status=pending").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'data-report="(\d+)"', pending)] == [
        trapped.id,
        newest.id,
        old.id,
    ]
    done = client.get("/reports?status=handled").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'data-report="(\d+)"', done)] == [handled.id]
    only = client.get("/reports?category=trapped").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'data-report="(\d+)"', only)] == [trapped.id]
    odd = client.get("/reports?status=nonsense&category=nonsense")
    assert odd.status_code == 200
    assert len(re.findall(r'data-report="(\d+)"', odd.get_data(as_text=True))) == 4


def test_list_is_paginated(app, client, world, officer):
    app.config["PAGE_SIZE"] = 2
    for _ in range(3):
        make_report(world.own.elevators[1])
    first = client.get("/reports").get_data(as_text=True)
    second = client.get("/reports?page=2").get_data(as_text=True)
    assert len(re.findall(r'data-report="', first)) == 2
    assert len(re.findall(r'data-report="', second)) == 1
    assert "3 in all" in first


def test_list_and_detail_are_scoped_to_the_company_and_district(client, world):
    own = make_report(world.own.elevators[0])
    foreign = make_report(world.foreign.elevators[0])
    for role in ("officer", "director", "admin", "regulator"):
        user = getattr(world.own, role)
        english(user)
        log_in(client, user)
        body = client.get("/reports").get_data(as_text=True)
        assert f'data-report="{own.id}"' in body, role
        assert f'data-report="{foreign.id}"' not in body, role
        assert client.get(f"/reports/{own.id}").status_code == 200
        assert client.get(f"/reports/{foreign.id}").status_code == 404
        assert client.get("/reports/999999").status_code == 404


@pytest.mark.parametrize("role", ["manager", "technician"])
def test_contractors_may_not_see_reports(client, world, role):
    report = make_report(world.own.elevators[0])
    log_in(client, getattr(world.own, role))
    assert client.get("/reports").status_code == 403
    assert client.get(f"/reports/{report.id}").status_code == 403
    body = client.get(f"/elevators/{world.own.elevators[0].id}").get_data(as_text=True)
    assert "public-report-panel" not in body


def test_home_and_nav_helpers_count_pending_reports(app, ctx, world):
    make_report(world.own.elevators[0])
    trapped = make_report(world.own.elevators[1], ReportCategory.trapped)
    make_report(world.foreign.elevators[0])
    assert services.count_pending(world.own.officer) == 2
    assert services.count_pending(world.own.regulator) == 2
    assert services.count_pending(world.own.technician) == 0
    listed = services.pending_reports_for(world.own.director, limit=1)
    assert listed == [trapped]
    assert services.pending_reports_for(world.own.manager, limit=5) == []


def test_elevator_page_panel_lists_its_pending_reports(client, world, officer):
    elevator = world.own.elevators[0]
    pending = make_report(elevator, note="shaking car")
    other = make_report(world.own.elevators[1])
    done = make_report(elevator)
    done.status = ReportStatus.dismissed
    db.session.commit()
    body = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    panel = body[body.index('data-testid="public-report-panel"') :]
    panel = panel[: panel.index("</section>")]
    assert f'data-report="{pending.id}"' in panel
    assert f'data-report="{other.id}"' not in panel
    assert f'data-report="{done.id}"' not in panel
    assert f'href="/r/{elevator.equipment_code}"' in panel
    quiet = client.get(f"/elevators/{world.own.elevators[1].id}")
    assert f'data-report="{other.id}"' in quiet.get_data(as_text=True)


# --- the detail page ----------------------------------------------------------------------------


def test_detail_shows_the_report_and_the_actions_to_officers(client, report, world, officer):
    body = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "The car stops between floors." in body
    assert world.own.elevators[0].equipment_code in body
    for testid in ("lockout-form", "rectification-form", "dismiss-form"):
        assert f'data-testid="{testid}"' in body
    assert 'data-confirm="Dismiss this report? It cannot be handled again."' in body
    assert 'name="trapped_count"' not in body  # only for trapped reports
    assert "style=" not in body


def test_detail_of_a_trapped_report_asks_for_the_people_and_alarm_time(client, trapped, officer):
    body = client.get(f"/reports/{trapped.id}").get_data(as_text=True)
    assert 'name="trapped_count"' in body
    assert 'value="1"' in body
    local = trapped.created_at.astimezone(services_zone()).strftime("%Y-%m-%dT%H:%M")
    assert f'name="alarm_at" type="datetime-local" value="{local}"' in body
    assert "someone is trapped" in body


def services_zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("role", ["admin", "regulator"])
def test_readers_see_no_actions_and_may_not_post(client, report, world, role):
    user = getattr(world.own, role)
    log_in(client, user)
    body = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'data-testid="lockout-form"' not in body
    for action, data in (
        ("lockout", {"password": PASSWORD}),
        ("rectification", {"severity": "ordinary"}),
        ("dismiss", {"reason": "no"}),
    ):
        assert client.post(f"/reports/{report.id}/{action}", data=data).status_code == 403
    db.session.refresh(report)
    assert report.status is ReportStatus.pending


def test_foreign_officers_get_404_and_change_nothing(client, report, world):
    log_in(client, world.foreign.officer)
    for action in ("lockout", "rectification", "dismiss"):
        response = client.post(
            f"/reports/{report.id}/{action}",
            data={"password": PASSWORD, "severity": "ordinary", "reason": "x"},
        )
        assert response.status_code == 404
    db.session.refresh(report)
    assert report.status is ReportStatus.pending


# --- (1) lockout --------------------------------------------------------------------------------


def test_officer_turns_a_report_into_a_lockout(client, report, world, officer):
    elevator = world.own.elevators[0]
    response = client.post(
        f"/reports/{report.id}/lockout", data={"password": PASSWORD, "idempotency_key": "k1"}
    )
    assert response.status_code == 302
    lockout = db.session.scalars(select(Lockout)).one()
    assert response.headers["Location"] == f"/lockouts/{lockout.id}"
    assert lockout.cause is LockoutCause.passenger_report
    assert lockout.status is LockoutStatus.open
    assert not lockout.entrapment
    assert f"Passenger report #{report.id} (Not working)" in lockout.description
    assert "The car stops between floors." in lockout.description
    db.session.refresh(report)
    db.session.refresh(elevator)
    assert report.status is ReportStatus.lockout
    assert report.lockout_id == lockout.id
    assert report.handled_by_id == officer.id
    assert report.handled_at is not None
    assert elevator.status is ElevatorStatus.out_of_service
    record = db.session.scalars(select(Record).where(Record.kind == RecordKind.lockout)).one()
    assert record.idempotency_key == "k1"
    (entry,) = audits(report)
    assert json.loads(entry.changes or "{}")["status"] == ["pending", "lockout"]
    assert entry.user_id == officer.id


def test_the_phone_number_stays_out_of_the_evidence(client, world, officer):
    report = make_report(world.own.elevators[0], phone="13800000000", note="stuck")
    client.post(f"/reports/{report.id}/lockout", data={"password": PASSWORD})
    lockout = db.session.scalars(select(Lockout)).one()
    record = db.session.scalars(select(Record).where(Record.kind == RecordKind.lockout)).one()
    assert "13800000000" not in lockout.description
    assert "13800000000" not in record.content


def test_a_trapped_report_opens_a_lockout_with_an_entrapment(client, trapped, world, officer):
    response = client.post(
        f"/reports/{trapped.id}/lockout",
        data={"password": PASSWORD, "trapped_count": "2", "alarm_at": ""},
    )
    assert response.status_code == 302
    lockout = db.session.scalars(select(Lockout)).one()
    assert lockout.entrapment
    assert lockout.trapped_count == 2
    assert lockout.alarm_at == trapped.created_at  # defaults to the report's time
    assert lockout.rescue_limit_minutes == 30


def test_the_alarm_time_is_read_in_the_sites_zone(client, world, officer, app):
    with time_machine.travel(datetime(2026, 3, 2, 4, 0, tzinfo=UTC), tick=False):
        trapped = make_report(world.own.elevators[0], ReportCategory.trapped)
        log_in(client, officer)  # a session of that day
        response = client.post(
            f"/reports/{trapped.id}/lockout",
            data={"password": PASSWORD, "trapped_count": "1", "alarm_at": "2026-03-02T11:50"},
        )
    assert response.status_code == 302
    lockout = db.session.scalars(select(Lockout)).one()
    assert lockout.alarm_at == datetime(2026, 3, 2, 3, 50, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"password": "wrong"}, "password", "Wrong password"),
        ({}, "password", "This field is required."),
        ({"password": PASSWORD, "trapped_count": ""}, "trapped_count", "at least 1"),
        ({"password": PASSWORD, "trapped_count": "0"}, "trapped_count", "From 1 to 100."),
        ({"password": PASSWORD, "trapped_count": "1", "alarm_at": "soon"}, "alarm_at", ""),
    ],
)
def test_refused_lockouts_show_the_form_again(client, trapped, officer, data, field, message):
    response = client.post(f"/reports/{trapped.id}/lockout", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'class="error"[^>]*data-field="{field}">[^<]*{re.escape(message)}', body)
    assert count(Lockout) == 0
    db.session.refresh(trapped)
    assert trapped.status is ReportStatus.pending
    assert audits(trapped) == []


def test_a_future_alarm_time_is_refused(client, trapped, officer):
    future = (datetime.now(UTC) + timedelta(days=2)).astimezone(services_zone())
    response = client.post(
        f"/reports/{trapped.id}/lockout",
        data={
            "password": PASSWORD,
            "trapped_count": "1",
            "alarm_at": future.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 422
    assert "cannot be in the future" in response.get_data(as_text=True)
    assert count(Lockout) == 0


def test_a_report_joins_the_elevators_open_lockout(app, client, report, world, officer):
    elevator = world.own.elevators[0]
    with app.test_request_context("/"):
        existing = open_lockout(
            elevator, officer, PASSWORD, cause=LockoutCause.fault, description="Door fault"
        )
        db.session.commit()
    g.pop("_login_user", None)
    body = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert f"already has an open lockout (#{existing.id})" in body
    refused = client.post(f"/reports/{report.id}/lockout", data={"password": "wrong"})
    assert refused.status_code == 422
    response = client.post(f"/reports/{report.id}/lockout", data={"password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/lockouts/{existing.id}"
    assert count(Lockout) == 1
    db.session.refresh(report)
    assert report.status is ReportStatus.lockout
    assert report.lockout_id == existing.id
    (entry,) = audits(report)
    assert json.loads(entry.changes or "{}")["linked"] == [None, True]


def test_a_decommissioned_elevator_cannot_be_locked_out(client, report, world, officer):
    elevator = world.own.elevators[0]
    elevator.status = ElevatorStatus.decommissioned
    db.session.commit()
    response = client.post(f"/reports/{report.id}/lockout", data={"password": PASSWORD})
    assert response.status_code == 422
    assert "This elevator is decommissioned." in response.get_data(as_text=True)
    db.session.refresh(report)
    assert report.status is ReportStatus.pending


# --- (2) rectification --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "duty", "label"),
    [
        (ReportCategory.unsafe_behaviour, "D3", "Unsafe behaviour"),
        (ReportCategory.not_working, "D8", "Not working"),
        (ReportCategory.other, "D8", "Other"),
    ],
)
def test_officer_opens_a_rectification(client, world, officer, category, duty, label):
    elevator = world.own.elevators[0]
    report = make_report(elevator, category, note="E-bike in the car")
    response = client.post(f"/reports/{report.id}/rectification", data={"severity": "serious"})
    assert response.status_code == 302
    finding = db.session.scalars(select(Finding)).one()
    assert finding.source is FindingSource.public_report
    assert finding.duty == duty
    assert finding.item_label == label
    assert finding.severity is Severity.serious
    assert finding.elevator_id == elevator.id
    assert "E-bike in the car" in finding.description
    db.session.refresh(report)
    assert report.status is ReportStatus.rectification
    assert report.finding_id == finding.id
    assert len(audits(report)) == 1
    assert count(Lockout) == 0


def test_a_rectification_needs_a_valid_severity(client, report, officer):
    response = client.post(f"/reports/{report.id}/rectification", data={"severity": "mild"})
    assert response.status_code == 422
    assert count(Finding) == 0


# --- (3) dismiss --------------------------------------------------------------------------------


def test_officer_dismisses_a_report_with_a_reason(client, report, officer):
    response = client.post(f"/reports/{report.id}/dismiss", data={"reason": "  Prank: car fine  "})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reports/{report.id}"
    db.session.refresh(report)
    assert report.status is ReportStatus.dismissed
    assert report.dismiss_reason == "Prank: car fine"
    (entry,) = audits(report)
    assert json.loads(entry.changes or "{}")["dismiss_reason"] == [None, "Prank: car fine"]
    body = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Prank: car fine" in body
    assert 'data-testid="dismiss-form"' not in body


@pytest.mark.parametrize("reason", ["", "   "])
def test_dismissing_needs_a_reason(client, report, officer, reason):
    response = client.post(f"/reports/{report.id}/dismiss", data={"reason": reason})
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)
    db.session.refresh(report)
    assert report.status is ReportStatus.pending


# --- only once ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("lockout", {"password": PASSWORD}),
        ("rectification", {"severity": "ordinary"}),
        ("dismiss", {"reason": "again"}),
    ],
)
def test_a_handled_report_cannot_be_handled_again(client, report, officer, action, data):
    assert client.post(f"/reports/{report.id}/dismiss", data={"reason": "first"}).status_code == 302
    before = (count(Lockout), count(Finding), count(AuditEntry))
    response = client.post(f"/reports/{report.id}/{action}", data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reports/{report.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This report was already handled (Dismissed); nothing was changed." in page
    assert (count(Lockout), count(Finding), count(AuditEntry)) == before
    db.session.refresh(report)
    assert report.dismiss_reason == "first"


def test_the_service_refuses_a_second_handling(ctx, report, world):
    officer = world.own.officer
    services.dismiss(report, officer, "first")
    db.session.commit()
    with pytest.raises(services.DomainError, match="already handled"):
        services.to_rectification(report, officer, Severity.ordinary)
    with pytest.raises(services.DomainError, match="Give the reason"):
        services.dismiss(make_report(world.own.elevators[1]), officer, " ")


def test_a_stale_page_loses_the_race_cleanly(ctx, report, world):
    """Another officer handled the report after this one loaded it: the UPDATE claims nothing."""
    officer = world.own.officer
    db.session.execute(
        PublicReport.__table__.update()
        .where(PublicReport.id == report.id)
        .values(status=ReportStatus.dismissed.value, dismiss_reason="other officer")
    )
    # The loaded object still says pending.
    assert report.status is ReportStatus.pending
    with pytest.raises(services.DomainError, match="already handled"):
        services.dismiss(report, officer, "me too")
    db.session.rollback()
    assert count(Finding) == 0


def test_nav_badge_count_is_a_template_global(app, world):
    make_report(world.own.elevators[0])
    make_report(world.foreign.elevators[0])
    from flask import render_template_string
    from flask_login import login_user, logout_user

    with app.test_request_context("/"):
        assert render_template_string("{{ public_pending_count() }}") == "0"  # anonymous
        login_user(world.own.officer)
        assert render_template_string("{{ public_pending_count() }}") == "1"
        logout_user()
        login_user(world.own.technician)
        assert render_template_string("{{ public_pending_count() }}") == "0"
        logout_user()
