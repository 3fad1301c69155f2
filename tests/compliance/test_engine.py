"""The evaluation engine: idempotence, auto-resolution, re-raise, status matrix."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, literal, select, union_all

from elevator_safety.compliance import engine
from elevator_safety.compliance.base import Context, Rule
from elevator_safety.compliance.models import Alert, State
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import LockoutCause
from elevator_safety.lockouts.services import open_lockout
from elevator_safety.records.models import Meaning, RecordKind
from elevator_safety.records.services import SignatureSpec, append
from elevator_safety.registry.models import ElevatorStatus
from tests.compliance.conftest import local
from tests.compliance.test_rules_a import patrol, visit
from tests.factories import PASSWORD, World


def alert_count() -> int:
    return db.session.scalar(select(func.count(Alert.id))) or 0


def patrol_alert(elevator_id: int, day: str) -> Alert | None:
    return db.session.scalar(
        select(Alert).where(
            Alert.elevator_id == elevator_id, Alert.rule == "D3.patrol", Alert.period == day
        )
    )


def test_every_rule_has_a_unique_code_and_a_duty() -> None:
    codes = [rule.code for rule in engine.RULES]
    assert len(codes) == len(set(codes))
    assert all(
        rule.duty in engine.DUTIES and rule.code.startswith(rule.duty + ".")
        for rule in engine.RULES
    )


def test_evaluation_is_idempotent(cworld: World) -> None:
    now = local(2026, 5, 6, 13, 0)
    first = engine.evaluate(now)
    db.session.commit()
    assert first.raised
    assert first.still_open == len(first.raised)
    assert first.rules == len(engine.RULES)
    count = alert_count()
    second = engine.evaluate(now)
    db.session.commit()
    assert second.raised == []
    assert second.resolved == []
    assert alert_count() == count
    assert second.still_open == first.still_open


def test_auto_resolution_when_a_patrol_is_recorded(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    noon = local(2026, 5, 4, 13, 0)
    engine.evaluate(noon)
    db.session.commit()
    alert = patrol_alert(lift.id, "2026-05-04")
    assert alert is not None
    assert alert.is_open
    assert alert.state == State.due_soon
    patrol(cworld, lift, local(2026, 5, 4, 13, 30))
    result = engine.evaluate(local(2026, 5, 4, 14, 0))
    db.session.commit()
    assert alert.id in result.resolved
    assert not alert.is_open
    assert alert.resolved_at == local(2026, 5, 4, 14, 0)
    assert alert.raised_at == noon


def test_auto_resolution_when_a_confirmation_is_appended(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    record = visit(cworld, lift, "half_monthly", local(2026, 5, 4, 8, 0), confirm=False)
    db.session.commit()
    later = record.created_at + timedelta(days=3)
    engine.evaluate(later)
    alert = db.session.scalar(
        select(Alert).where(
            Alert.rule == "D1.maintenance.unconfirmed", Alert.period == str(record.id)
        )
    )
    assert alert is not None
    assert alert.state == State.overdue
    append(
        lift,
        RecordKind.confirmation,
        {"statement": "现场监督确认"},
        cworld.own.officer,
        occurred_at=later,
        signatures=[SignatureSpec(cworld.own.officer, Meaning.confirmed)],
        subject=record,
    )
    result = engine.evaluate(later + timedelta(minutes=15))
    assert alert.id in result.resolved


def test_reraise_after_resolution_keeps_the_row(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    lift.use_sign_valid_until = date(2026, 5, 1)
    db.session.commit()
    engine.evaluate(local(2026, 5, 4, 9, 0))
    alert = db.session.scalar(select(Alert).where(Alert.rule == "D2.use_sign"))
    assert alert is not None
    assert alert.state == State.overdue
    lift.use_sign_valid_until = date(2027, 5, 1)
    assert alert.id in engine.evaluate(local(2026, 5, 4, 9, 15)).resolved
    lift.use_sign_valid_until = date(2026, 5, 1)
    again = engine.evaluate(local(2026, 5, 4, 9, 30))
    db.session.commit()
    assert alert.id in again.raised
    assert alert.is_open
    assert alert.raised_count == 2
    assert alert.raised_at == local(2026, 5, 4, 9, 30)
    assert db.session.scalar(select(func.count(Alert.id)).where(Alert.rule == "D2.use_sign")) == 1


def test_missed_day_turns_overdue_in_the_same_row(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    engine.evaluate(local(2026, 5, 4, 13, 0))
    engine.evaluate(local(2026, 5, 5, 9, 0))
    db.session.commit()
    alert = patrol_alert(lift.id, "2026-05-04")
    assert alert is not None
    assert alert.state == State.overdue
    assert alert.raised_count == 1


def test_unchanged_alerts_are_not_rewritten(cworld: World) -> None:
    """A second evaluation touches only the alerts whose state or detail changed."""
    first_at = local(2026, 5, 6, 13, 0)
    engine.evaluate(first_at)
    db.session.commit()
    again = engine.evaluate(first_at + timedelta(minutes=15))
    db.session.commit()
    assert again.changed == 0
    assert again.raised == []
    seen = set(db.session.scalars(select(Alert.last_seen_at).where(Alert.resolved_at.is_(None))))
    assert seen == {first_at}


def test_worst_state_wins_when_a_rule_reports_a_key_twice(cworld: World) -> None:
    """Two rows for one (elevator, rule, period) make one alert in the worse state."""
    lift = cworld.own.elevators[0]

    def twice(_ctx: Context) -> Any:
        def row(state: State) -> Any:
            return select(
                literal(lift.id).label("elevator_id"),
                literal("-").label("period"),
                literal(state.value).label("state"),
                literal(state.value).label("detail"),
            )

        return union_all(row(State.due_soon), row(State.overdue), row(State.open_finding))

    rule = Rule(
        code="D2.test_twice",
        duty="D2",
        title="twice",
        query=twice,
        message=str,
        link=lambda _eid, _detail: "/",
        applies_out_of_service=True,
    )
    result = engine.evaluate(local(2026, 5, 6, 13, 0), rules=[rule])
    db.session.commit()
    assert len(result.raised) == 1
    alert = db.session.get(Alert, result.raised[0])
    assert alert is not None
    assert alert.state == State.overdue
    assert alert.detail == {"detail": "overdue"}


def test_out_of_service_is_not_applicable(cworld: World) -> None:
    side = cworld.own
    lift, other = side.elevators
    engine.evaluate(local(2026, 5, 6, 13, 0))
    db.session.commit()
    assert patrol_alert(lift.id, "2026-05-05") is not None
    open_lockout(lift, side.officer, PASSWORD, cause=LockoutCause.fault, description="Stuck")
    db.session.commit()
    assert lift.status == ElevatorStatus.out_of_service
    result = engine.evaluate(local(2026, 5, 6, 13, 5))
    db.session.commit()
    alert = patrol_alert(lift.id, "2026-05-05")
    assert alert is not None
    assert alert.id in result.resolved
    matrix = engine.status_matrix([lift.id, other.id])
    assert matrix[lift.id]["D1"] == State.not_applicable
    assert matrix[lift.id]["D3"] == State.not_applicable
    assert matrix[other.id]["D3"] == State.overdue
    assert matrix[other.id]["D1"] == State.overdue  # no maintenance since the contract began
    assert set(matrix[other.id]) == set(engine.DUTIES)


def test_open_alerts_panel(app: Flask, cworld: World) -> None:
    lift = cworld.own.elevators[0]
    engine.evaluate(local(2026, 5, 6, 13, 0))
    db.session.commit()
    with app.test_request_context():
        views = engine.open_alerts(lift.id)
    assert views
    assert all(view.alert.elevator_id == lift.id for view in views)
    states = [view.alert.state for view in views]
    assert states[0] == State.overdue
    patrol_views = [v for v in views if v.alert.rule == "D3.patrol"]
    assert patrol_views
    assert "2026-05-05" in " ".join(v.message for v in patrol_views)
    assert all(v.link and v.link.startswith("/") for v in views)


def test_the_level_rules_share_one_scan_of_the_visits_and_one_of_the_contracts(app: Flask) -> None:
    """The statement names each shared scan once (one column per level), not once a rule."""
    from elevator_safety.compliance.rules_a import LEVELS

    def scans(sql: str) -> tuple[int, int, int]:
        # a level's last visit, a level's first planned day, the contract rules' grouping
        return (
            sql.count("max(CASE WHEN (records.level IN"),
            sql.count("contracts.level_plan"),
            sql.count("AS current_end"),
        )

    ctx = Context.current(local(2026, 11, 30, 9))
    sql = str(engine.violations_select(engine.RULES, ctx).compile(db.engine))
    assert scans(sql) == (len(LEVELS), len(LEVELS), 1)
    # another context (another group of sites) gets scans of its own
    other = Context.current(local(2026, 12, 1, 9))
    both = union_all(
        engine.violations_select(engine.RULES, ctx), engine.violations_select(engine.RULES, other)
    )
    assert scans(str(both.compile(db.engine))) == (2 * len(LEVELS), 2 * len(LEVELS), 2)
