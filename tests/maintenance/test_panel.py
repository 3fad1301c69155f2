"""The elevator page: days since the last confirmed visit of each level, and the buttons."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event

from elevator_safety.extensions import db
from elevator_safety.maintenance import services
from elevator_safety.registry.models import MaintenanceLevel
from tests.maintenance.conftest import confirm, make_visit, reject

L = MaintenanceLevel


def days_shown(body: str) -> dict[str, str]:
    """Return {level: days} from the panel's table."""
    return dict(re.findall(r'<tr data-level="([a-z_]+)" data-days="([0-9]*)"', body))


def test_days_since_count_only_confirmed_visits_and_levels_are_cumulative(world, now):
    elevator = world.own.elevators[0]
    tech, officer = world.own.technician, world.own.officer
    confirm(make_visit(elevator, tech, level="half_monthly", days_ago=10), officer)
    confirm(make_visit(elevator, tech, level="quarterly", days_ago=20), officer)
    make_visit(elevator, tech, level="half_monthly", days_ago=2)  # awaiting: does not count
    reject(make_visit(elevator, tech, level="semi_annual", days_ago=1), officer)  # rejected
    today = now.date()
    assert services.last_confirmed_by_level(elevator) == {
        L.half_monthly: today - timedelta(days=10),
        L.quarterly: today - timedelta(days=20),
        L.semi_annual: None,
        L.annual: None,
    }
    statuses = {s.level: s.days for s in services.level_statuses(elevator, list(L))}
    assert statuses == {L.half_monthly: 10, L.quarterly: 20, L.semi_annual: None, L.annual: None}

    # A confirmed quarterly visit five days ago resets the half-monthly count too.
    confirm(make_visit(elevator, tech, level="quarterly", days_ago=5), officer)
    statuses = {s.level: s.days for s in services.level_statuses(elevator, list(L))}
    assert statuses == {L.half_monthly: 5, L.quarterly: 5, L.semi_annual: None, L.annual: None}
    # The other elevator has its own count.
    other = {s.level: s.days for s in services.level_statuses(world.own.elevators[1], list(L))}
    assert set(other.values()) == {None}


def test_an_interval_passed_is_overdue(world, now):
    elevator = world.own.elevators[0]
    confirm(make_visit(elevator, world.own.technician, days_ago=16), world.own.officer)
    (status,) = services.level_statuses(elevator, [L.half_monthly])
    assert (status.days, status.interval, status.overdue) == (16, 15, True)


def test_the_interval_is_configurable(app, world, now):
    app.config["MAINTENANCE_INTERVAL_DAYS"] = {"half_monthly": 20}
    elevator = world.own.elevators[0]
    confirm(make_visit(elevator, world.own.technician, days_ago=16), world.own.officer)
    (status,) = services.level_statuses(elevator, [L.half_monthly])
    assert (status.interval, status.overdue) == (20, False)


def test_the_last_confirmed_days_take_one_query(world, now):
    elevator = world.own.elevators[0]
    for level, days_ago in (("half_monthly", 3), ("quarterly", 8), ("annual", 30)):
        confirm(
            make_visit(elevator, world.own.technician, level=level, days_ago=days_ago),
            world.own.officer,
        )
    db.session.refresh(elevator)  # load the elevator itself before counting
    statements: list[str] = []

    def count(*args, **kwargs):  # type: ignore[no-untyped-def]
        statements.append(args[2])

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = services.last_confirmed_by_level(elevator)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert result[L.semi_annual] == now.date() - timedelta(days=30)  # from the annual visit


def test_the_elevator_page_shows_the_plan_history_and_awaiting(client, world, login_as, now):
    elevator = world.own.elevators[0]
    elevator.contracts[0].level_plan = "half_monthly,quarterly"
    db.session.commit()
    tech, officer = world.own.technician, world.own.officer
    confirmed = make_visit(elevator, tech, level="quarterly", days_ago=4)
    confirm(confirmed, officer)
    waiting = make_visit(elevator, tech, days_ago=1)
    login_as("safety_officer")
    body = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert days_shown(body) == {"half_monthly": "4", "quarterly": "4"}  # only the plan's levels
    assert f'href="/maintenance/{waiting.id}/review"' in body
    assert f'href="/maintenance/{confirmed.id}/review"' not in body
    assert 'data-testid="record-maintenance"' not in body
    history = body.split('data-testid="maintenance-history"')[1]
    assert f'<tr data-record="{waiting.id}" data-state="awaiting">' in history
    assert f'<tr data-record="{confirmed.id}" data-state="confirmed">' in history


def test_the_elevator_page_offers_the_form_to_the_contractor(client, world, login_as, now):
    login_as("technician")
    body = client.get(f"/elevators/{world.own.elevators[0].id}").get_data(as_text=True)
    assert 'data-testid="record-maintenance"' in body
    assert days_shown(body) == dict.fromkeys(
        ("half_monthly", "quarterly", "semi_annual", "annual"), ""
    )


def test_the_regulator_reads_the_panel_without_buttons(client, world, login_as, now):
    make_visit(world.own.elevators[0], world.own.technician, days_ago=1)
    login_as("regulator")
    body = client.get(f"/elevators/{world.own.elevators[0].id}").get_data(as_text=True)
    assert 'data-testid="maintenance-panel"' in body
    assert 'data-testid="record-maintenance"' not in body
    assert "/review" not in body
