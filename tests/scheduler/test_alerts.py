"""Who hears about which alert."""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from elevator_safety.auth.models import Role
from elevator_safety.compliance import alerts
from elevator_safety.compliance.models import State
from elevator_safety.extensions import db
from elevator_safety.notifications import services as notes
from elevator_safety.notifications.models import Notification
from elevator_safety.records.models import FindingSource, Severity
from elevator_safety.rectifications.services import open_finding
from tests.factories import World, make_user
from tests.scheduler.conftest import add_alert


def names(users) -> set[int]:  # type: ignore[no-untyped-def]
    return {u.id for u in users}


def test_officer_only_for_ordinary_rules(app: Flask, world: World) -> None:
    alert = add_alert(world.own.elevators[0].id, "D3.patrol", State.overdue)
    assert names(alerts.recipients(alert)) == {world.own.officer.id}


def test_contractor_manager_for_maintenance(app: Flask, world: World) -> None:
    alert = add_alert(
        world.own.elevators[0].id, "D1.maintenance.unconfirmed", State.overdue, "half_monthly"
    )
    assert names(alerts.recipients(alert)) == {world.own.officer.id, world.own.manager.id}


def test_directors_on_escalation(app: Flask, world: World) -> None:
    elevator_id = world.own.elevators[0].id
    lockout = add_alert(elevator_id, "D8.lockout.notice", State.overdue, "3")
    stop = add_alert(elevator_id, "D11.inspection", State.hard_stop)
    due = add_alert(elevator_id, "D11.self_test", State.due_soon)
    both = {world.own.officer.id, world.own.director.id}
    assert names(alerts.recipients(lockout)) == both
    assert names(alerts.recipients(stop)) == both
    assert names(alerts.recipients(due)) == {world.own.officer.id}


def test_rectifications_by_owner_and_severity(app: Flask, world: World) -> None:
    own = world.own
    elevator = own.elevators[0]
    finding = open_finding(
        site=own.site,
        elevator=elevator,
        source=FindingSource.patrol,
        duty="D7",
        item_label="Door",
        description="Door closes too fast",
        author=own.officer,
        owner_organisation_id=own.contractor.id,
    )
    owned = add_alert(elevator.id, "D9.rectification", State.overdue, f"{finding.id}:serious", "a")
    assert names(alerts.recipients(owned)) == {own.officer.id, own.manager.id, own.director.id}
    company = open_finding(
        site=own.site,
        elevator=elevator,
        source=FindingSource.patrol,
        duty="D7",
        item_label="Light",
        description="Car light out",
        author=own.officer,
        severity=Severity.ordinary,
    )
    ordinary = add_alert(elevator.id, "D9.rectification", State.overdue, f"{company.id}", "b")
    assert names(alerts.recipients(ordinary)) == {own.officer.id}


def test_inactive_people_are_left_out(app: Flask, world: World) -> None:
    second = make_user(world.own.org, Role.safety_director)
    world.own.director.active = False
    alert = add_alert(world.own.elevators[0].id, "D8.lockout.long", State.overdue)
    assert names(alerts.recipients(alert)) == {world.own.officer.id, second.id}


def test_notifications_in_each_readers_language(app: Flask, world: World) -> None:
    world.own.officer.locale = "en"
    alert = add_alert(world.own.elevators[0].id, "D8.lockout.long", State.overdue)
    db.session.commit()
    assert alerts.notify_raised([alert.id]) == 2
    rows = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert {r.user_id for r in rows} == {world.own.officer.id, world.own.director.id}
    assert all(r.kind == "alert_overdue" for r in rows)
    with force_locale("en"):
        assert notes.message(rows[0]).startswith("Overdue at ")  # the registered kind
    assert alert.notified_at is not None


def test_resolved_alerts_are_not_notified(app: Flask, world: World) -> None:
    alert = add_alert(world.own.elevators[0].id, "D3.patrol", State.overdue)
    alert.resolved_at = alert.raised_at
    ok = add_alert(world.own.elevators[1].id, "D3.patrol", State.ok)
    db.session.commit()
    assert alerts.notify_raised([alert.id, ok.id]) == 0
    assert db.session.scalars(select(Notification)).all() == []


def test_many_new_alerts_make_one_summary_per_person(app: Flask, world: World) -> None:
    """Over ALERT_NOTIFY_INDIVIDUAL_MAX alerts in one run: one summary, not a flood."""
    app.config["ALERT_NOTIFY_INDIVIDUAL_MAX"] = 3
    world.own.officer.locale = "en"
    lift = world.own.elevators[0]
    raised = [
        add_alert(lift.id, "D3.patrol", State.overdue, period=f"2026-05-0{day}").id
        for day in range(1, 5)
    ]
    raised.append(add_alert(lift.id, "D2.use_sign", State.due_soon, "2026-06-01").id)
    db.session.commit()
    assert alerts.notify_raised(raised) == 1
    note = db.session.scalars(select(Notification)).one()
    assert note.user_id == world.own.officer.id
    assert note.kind == "alert_summary"
    assert note.params == {"count": 5, "overdue": 4}
    assert note.link == "/alerts"
    with force_locale("en"):
        assert notes.message(note).startswith("5 new alerts on your elevators, 4 of them overdue")


def test_a_few_new_alerts_are_notified_one_by_one(app: Flask, world: World) -> None:
    app.config["ALERT_NOTIFY_INDIVIDUAL_MAX"] = 3
    lift = world.own.elevators[0]
    raised = [
        add_alert(lift.id, "D3.patrol", State.overdue, period=f"2026-05-0{day}").id
        for day in range(1, 4)
    ]
    db.session.commit()
    assert alerts.notify_raised(raised) == 3
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert kinds == {"alert_overdue"}
