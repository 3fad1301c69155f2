"""Evaluate every compliance rule and keep the alerts in step (set-based, idempotent).

``evaluate`` runs each rule's single select over all elevators, then in a
handful of queries inserts new alerts, reopens resolved ones that hold again,
refreshes the open ones and resolves the open alerts that no longer hold. It
adds and flushes in the caller's transaction; the caller commits (and sends
notifications only after that commit).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from elevator_safety.compliance import rules_a, rules_b
from elevator_safety.compliance.base import Context, Rule
from elevator_safety.compliance.models import STATE_RANK, Alert, State
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator, ElevatorStatus

#: Every rule, in display order.
RULES: list[Rule] = rules_a.RULES + rules_b.RULES
#: The duties, in order.
DUTIES = tuple(f"D{n}" for n in range(1, 12))

Key = tuple[int, str, str]


@dataclass
class EvaluationResult:
    """What one evaluation did."""

    #: Ids of the alerts newly raised or raised again after being resolved.
    raised: list[int] = field(default_factory=list)
    #: Ids of the alerts resolved by this evaluation.
    resolved: list[int] = field(default_factory=list)
    #: Open alerts after the evaluation.
    still_open: int = 0
    #: Rules evaluated.
    rules: int = 0
    seconds: float = 0.0


def rule_by_code(code: str) -> Rule | None:
    """Return the rule with a code, if it exists."""
    return next((rule for rule in RULES if rule.code == code), None)


def _statuses(elevator_ids: Iterable[int] | None = None) -> dict[int, ElevatorStatus]:
    query = select(Elevator.id, Elevator.status)
    if elevator_ids is not None:
        query = query.where(Elevator.id.in_(list(elevator_ids)))
    return {eid: status for eid, status in db.session.execute(query)}


def _violations(
    rules: list[Rule], ctx: Context, statuses: dict[int, ElevatorStatus]
) -> dict[Key, tuple[Rule, State, str | None]]:
    found: dict[Key, tuple[Rule, State, str | None]] = {}
    for rule in rules:
        for elevator_id, period, state, detail in db.session.execute(rule.query(ctx)):
            status = statuses.get(elevator_id)
            if status is None:
                continue
            if not rule.applies_out_of_service and status != ElevatorStatus.in_service:
                continue  # not applicable, never overdue
            key = (elevator_id, rule.code, str(period))
            new_state = State(state)
            current = found.get(key)
            if current is None or STATE_RANK[new_state] > STATE_RANK[current[1]]:
                found[key] = (rule, new_state, None if detail is None else str(detail))
    return found


def evaluate(now: datetime | None = None, rules: list[Rule] | None = None) -> EvaluationResult:
    """Run every rule at ``now`` (default: the current time) and update the alerts.

    New violations insert an alert; a resolved alert whose (elevator, rule,
    period) holds again is reopened (``raised_count`` + 1); open alerts get
    ``last_seen_at`` and their current state; open alerts of the evaluated
    rules that no longer hold are resolved at ``now``. Nothing is committed.
    """
    started = time.perf_counter()
    now = now or now_utc()
    rules = RULES if rules is None else rules
    ctx = Context.current(now)
    codes = [rule.code for rule in rules]
    found = _violations(rules, ctx, _statuses())

    open_alerts = {
        (a.elevator_id, a.rule, a.period): a
        for a in db.session.scalars(
            select(Alert).where(Alert.rule.in_(codes), Alert.resolved_at.is_(None))
        )
    }
    missing = [key for key in found if key not in open_alerts]
    closed: dict[Key, Alert] = {}
    if missing:
        periods = {key[2] for key in missing}
        for old in db.session.scalars(
            select(Alert).where(
                Alert.rule.in_({key[1] for key in missing}),
                Alert.elevator_id.in_({key[0] for key in missing}),
                Alert.period.in_(periods),
                Alert.resolved_at.is_not(None),
            )
        ):
            closed[(old.elevator_id, old.rule, old.period)] = old

    result = EvaluationResult(rules=len(rules))
    raised: list[Alert] = []
    for key, (rule, state, detail) in found.items():
        payload: dict[str, Any] = {"detail": detail}
        alert: Alert | None = open_alerts.get(key)
        if alert is not None:
            alert.last_seen_at = now
            if alert.state != state:
                alert.state = state
            if alert.detail != payload:
                alert.detail = payload
            continue
        alert = closed.get(key)
        if alert is not None:
            alert.resolved_at = None
            alert.raised_count += 1
            alert.raised_at = now
            alert.last_seen_at = now
            alert.state = state
            alert.detail = payload
            alert.notified_at = None
        else:
            alert = Alert(
                elevator_id=key[0],
                rule=rule.code,
                duty=rule.duty,
                period=key[2],
                state=state,
                detail=payload,
                raised_at=now,
                last_seen_at=now,
                raised_count=1,
            )
            db.session.add(alert)
        raised.append(alert)

    resolved: list[Alert] = []
    for key, alert in open_alerts.items():
        if key not in found:
            alert.resolved_at = now
            resolved.append(alert)
    db.session.flush()
    result.raised = [alert.id for alert in raised]
    result.resolved = [alert.id for alert in resolved]
    result.still_open = len(found)
    result.seconds = time.perf_counter() - started
    return result


def status_matrix(elevator_ids: list[int] | None = None) -> dict[int, dict[str, State]]:
    """Return the worst open state of each duty D1..D11 of each elevator.

    A duty with no open alert is ``ok``, or ``not_applicable`` for an
    elevator out of service or decommissioned when some of the duty's rules do
    not apply to it (e.g. the daily patrol); an open alert of a rule that still
    applies (an open rectification, a key not returned) shows over it.
    """
    statuses = _statuses(elevator_ids)
    stopped_na = {rule.duty for rule in RULES if not rule.applies_out_of_service}
    matrix: dict[int, dict[str, State]] = {}
    for elevator_id, status in statuses.items():
        stopped = status != ElevatorStatus.in_service
        matrix[elevator_id] = {
            duty: State.not_applicable if stopped and duty in stopped_na else State.ok
            for duty in DUTIES
        }
    if not matrix:
        return matrix
    query = select(Alert.elevator_id, Alert.duty, Alert.state).where(Alert.resolved_at.is_(None))
    if elevator_ids is not None:
        query = query.where(Alert.elevator_id.in_(list(matrix)))
    for elevator_id, duty, state in db.session.execute(query):
        row = matrix.get(elevator_id)
        if row is None or duty not in row:
            continue
        if STATE_RANK[state] > STATE_RANK[row[duty]]:
            row[duty] = state
    return matrix


@dataclass
class AlertView:
    """An open alert as the elevator page shows it."""

    alert: Alert
    rule: Rule | None
    message: str
    link: str | None


def open_alerts(elevator_id: int) -> list[AlertView]:
    """Return an elevator's open alerts, worst first, with their message and link."""
    alerts = db.session.scalars(
        select(Alert).where(Alert.elevator_id == elevator_id, Alert.resolved_at.is_(None))
    )
    views = []
    for alert in alerts:
        rule = rule_by_code(alert.rule)
        detail = (alert.detail or {}).get("detail")
        views.append(
            AlertView(
                alert=alert,
                rule=rule,
                message=rule.message(detail) if rule else alert.rule,
                link=rule.link(alert.elevator_id, detail) if rule else None,
            )
        )
    views.sort(
        key=lambda v: (
            -STATE_RANK[v.alert.state],
            int(v.alert.duty[1:]),
            v.alert.rule,
            v.alert.period,
        )
    )
    return views
