"""Evaluate every compliance rule and keep the alerts in step, set-based in SQL.

``evaluate`` inserts the violations of every rule (each rule is ONE select
over all elevators) into a temporary table, keeping the worst state of each
(elevator, rule, period), then keeps the ``alerts`` table in step with four
statements: resolve the open alerts that no longer hold, refresh the open
alerts whose state or detail changed, reopen resolved alerts that hold again
and insert the new ones. Alerts that did not change are not touched, and no
alert is loaded into Python: the work is the database's, whatever the size.
It runs in the caller's transaction; the caller commits (and sends
notifications only after that commit).
"""

from __future__ import annotations

import time
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from elevator_safety.compliance import overrides, rules_a, rules_b
from elevator_safety.compliance.base import Context, Rule, computed_once
from elevator_safety.compliance.models import STATE_RANK, Alert, State
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator, ElevatorStatus

#: Every rule, in display order.
RULES: list[Rule] = rules_a.RULES + rules_b.RULES
#: The duties, in order.
DUTIES = tuple(f"D{n}" for n in range(1, 12))

#: The violations of one evaluation (a temporary table, private to the connection).
CANDIDATES = Table(
    "alert_candidates",
    MetaData(),
    Column("elevator_id", Integer, nullable=False),
    Column("rule", String(64), nullable=False),
    Column("duty", String(4), nullable=False),
    Column("period", String(32), nullable=False),
    Column("state", String(32), nullable=False),
    Column("detail", String),
    PrimaryKeyConstraint("elevator_id", "rule", "period"),
    prefixes=["TEMPORARY"],
)


@dataclass
class EvaluationResult:
    """What one evaluation did."""

    #: Ids of the alerts newly raised or raised again after being resolved.
    raised: list[int] = field(default_factory=list)
    #: Ids of the alerts resolved by this evaluation.
    resolved: list[int] = field(default_factory=list)
    #: Open alerts of the evaluated rules after the evaluation.
    still_open: int = 0
    #: Open alerts whose state or detail changed.
    changed: int = 0
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


def _rank(state: Any) -> ColumnElement[int]:
    return case({s.value: rank for s, rank in STATE_RANK.items()}, value=state, else_=0)


def violations_select(
    rules: list[Rule], ctx: Context, sites: ColumnElement[bool] | None = None
) -> Any:
    """Return one select of every rule's violations, the worst state per key.

    Columns: elevator_id, rule, duty, period, state, detail (text). Rows of
    elevators out of service are dropped for the rules that do not apply to
    them (not applicable, never overdue). ``sites`` (a condition on
    ``Elevator.site_id``) keeps the elevators of some sites only.
    """
    parts = []
    # SQLite flattens a rule's select into the join below and then drops the
    # automatic index its grouped "latest per key" subqueries need (quadratic:
    # D6.alarm_test took 0.44 s at 3,000 elevators); computed_once keeps each
    # rule's select whole. (DISTINCT did that before, but under DISTINCT SQLite
    # builds no automatic index for a grouped subquery on the right of a LEFT
    # JOIN: D11.site_drill scanned 1,250 site groups for each of 10,000 elevators.)
    for rule in rules:
        sq = computed_once(rule.query(ctx)).subquery()
        part = select(
            sq.c.elevator_id.label("elevator_id"),
            literal(rule.code, String).label("rule"),
            literal(rule.duty, String).label("duty"),
            func.coalesce(cast(sq.c.period, String), "-").label("period"),
            cast(sq.c.state, String).label("state"),
            cast(sq.c.detail, String).label("detail"),
        ).join(Elevator, Elevator.id == sq.c.elevator_id)
        if not rule.applies_out_of_service:
            part = part.where(Elevator.status == ElevatorStatus.in_service)
        if sites is not None:
            part = part.where(sites)
        parts.append(part)
    every = union_all(*parts).subquery()
    ranked = select(
        *every.c,
        func.row_number()
        .over(
            partition_by=(every.c.elevator_id, every.c.rule, every.c.period),
            order_by=_rank(every.c.state).desc(),
        )
        .label("n"),
    ).subquery()
    return select(
        ranked.c.elevator_id,
        ranked.c.rule,
        ranked.c.duty,
        ranked.c.period,
        ranked.c.state,
        ranked.c.detail,
    ).where(ranked.c.n == 1)


def _detail_json(detail: Any) -> ColumnElement[Any]:
    """Return the alert's ``detail`` JSON ``{"detail": ...}`` built in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.json_build_object("detail", detail)
    return func.json_object("detail", detail)


def _stored_detail() -> ColumnElement[Any]:
    return Alert.detail["detail"].as_string()


def _same_key(c: Any) -> ColumnElement[bool]:
    return and_(Alert.elevator_id == c.elevator_id, Alert.rule == c.rule, Alert.period == c.period)


def _fill_candidates(rules: list[Rule], ctx: Context) -> int:
    """Fill the temporary table with the violations, each site with its own rule values.

    The sites without overrides are evaluated in one pass with the
    installation's configuration; each group of sites with the same overrides
    (compliance/overrides.py) in one more pass with the configuration updated
    by them.
    """
    conn = db.session.connection()
    conn.execute(text("DROP TABLE IF EXISTS alert_candidates"))
    CANDIDATES.create(conn)
    columns = ["elevator_id", "rule", "duty", "period", "state", "detail"]
    passes: list[tuple[Context, ColumnElement[bool] | None]] = []
    overridden: list[int] = []
    for values, site_ids in overrides.groups(ctx.config):
        passes.append((Context(ctx.now, ctx.config | values), Elevator.site_id.in_(site_ids)))
        overridden += site_ids
    passes.append((ctx, ~Elevator.site_id.in_(overridden) if overridden else None))
    for pass_ctx, sites in passes:
        select_ = violations_select(rules, pass_ctx, sites)
        conn.execute(insert(CANDIDATES).from_select(columns, select_))
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE alert_candidates"))
    return int(conn.execute(select(func.count()).select_from(CANDIDATES)).scalar_one())


def evaluate(now: datetime | None = None, rules: list[Rule] | None = None) -> EvaluationResult:
    """Run every rule at ``now`` (default: the current time) and update the alerts.

    New violations insert an alert; a resolved alert whose (elevator, rule,
    period) holds again is reopened (``raised_count`` + 1, raised again at
    ``now``); open alerts whose state or detail changed get them and
    ``last_seen_at = now``; open alerts of the evaluated rules that no longer
    hold are resolved at ``now``. Nothing is committed.
    """
    started = time.perf_counter()
    now = now or now_utc()
    rules = RULES if rules is None else rules
    ctx = Context.current(now)
    codes = [rule.code for rule in rules]
    db.session.flush()
    result = EvaluationResult(rules=len(rules))
    result.still_open = _fill_candidates(rules, ctx)
    c = CANDIDATES.c
    alerts = typing.cast(Table, Alert.__table__)
    execute = db.session.connection().execute

    resolve = (
        update(alerts)
        .where(
            Alert.resolved_at.is_(None),
            Alert.rule.in_(codes),
            ~exists().where(_same_key(c)),
        )
        .values(resolved_at=now)
        .returning(Alert.id)
    )
    result.resolved = list(execute(resolve).scalars())

    refresh = (
        update(alerts)
        .where(
            _same_key(c),
            Alert.resolved_at.is_(None),
            (Alert.state != c.state)
            | Alert.detail["detail"].as_string().is_distinct_from(c.detail),
        )
        .values(state=c.state, detail=_detail_json(c.detail), last_seen_at=now)
    )
    result.changed = execute(refresh).rowcount

    reopen = (
        update(alerts)
        .where(_same_key(c), Alert.resolved_at.is_not(None))
        .values(
            resolved_at=None,
            raised_count=Alert.raised_count + 1,
            raised_at=now,
            last_seen_at=now,
            state=c.state,
            detail=_detail_json(c.detail),
            notified_at=None,
        )
        .returning(Alert.id)
    )
    result.raised = list(execute(reopen).scalars())

    new = select(
        c.elevator_id,
        c.rule,
        c.duty,
        c.period,
        c.state,
        _detail_json(c.detail),
        literal(now, Alert.raised_at.type),
        literal(now, Alert.last_seen_at.type),
        literal(1),
    ).where(true())
    columns = ["elevator_id", "rule", "duty", "period", "state", "detail"]
    columns += ["raised_at", "last_seen_at", "raised_count"]
    result.raised += list(execute(_insert_new(alerts, columns, new)).scalars())
    execute(text("DROP TABLE alert_candidates"))
    db.session.expire_all()
    result.seconds = time.perf_counter() - started
    return result


def _insert_new(alerts: Table, columns: list[str], new: Select[Any]) -> Any:
    """Return the INSERT of the candidates that have no alert yet, returning the new ids.

    Every candidate left after the updates above either is new or has an
    alert (open and refreshed, or just reopened): ``ON CONFLICT (elevator_id,
    rule, period) DO NOTHING`` skips the latter. An anti-join (NOT EXISTS)
    would do the same, but PostgreSQL plans it as a nested loop when
    ``alerts`` was analysed while nearly empty, which is quadratic (50,000
    alerts took more than 20 minutes). SQLite needs the WHERE on the SELECT to
    parse ON CONFLICT after it.
    """
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    key = ["elevator_id", "rule", "period"]
    statement = module.insert(alerts).from_select(columns, new)
    return statement.on_conflict_do_nothing(index_elements=key).returning(Alert.id)


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
