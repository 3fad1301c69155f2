"""Numbers of the dashboards, computed set-based in SQL (no query per elevator).

An elevator is *fully compliant* (合规) when none of its open alerts is due
soon, an open finding, overdue or a hard stop. The 12-week trend replays the
alert history: an alert counts at moment t when ``raised_at <= t`` and it was
not yet resolved (``resolved_at`` null or after t).

Every number is an aggregate query returning groups, never a row per
elevator: the pages must answer within 150 ms for 20,000 elevators
(docs/performance.md, "Dashboard pages").
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import joinedload

from elevator_safety.auth.models import Organisation
from elevator_safety.compliance.models import STATE_RANK, Alert, State
from elevator_safety.extensions import db
from elevator_safety.registry.models import Contract, Elevator, Site

#: States that make an elevator not fully compliant.
FAILING = (State.due_soon, State.open_finding, State.overdue, State.hard_stop)

#: Rule code of a late entrapment rescue (困人救援超时).
RESCUE_LATE_RULE = "D8.rescue_late"

#: Weeks shown by the trend chart.
TREND_WEEKS = 12
#: Scopes whose past trend points a process keeps (past_trend).
TREND_CACHE_MAX = 1000

#: Elevators listed as the worst of a district.
WORST_LIMIT = 20

#: Late rescues are counted over this many days.
RESCUE_WINDOW_DAYS = 365


def percent(part: int, whole: int) -> int | None:
    """Return part/whole as a whole percentage rounded half up; None when whole is 0."""
    if whole <= 0:
        return None
    return (part * 200 + whole) // (whole * 2)


def failing_clause() -> ColumnElement[bool]:
    """Return an EXISTS clause: the elevator has an open alert in a failing state."""
    return exists().where(
        Alert.elevator_id == Elevator.id,
        Alert.resolved_at.is_(None),
        Alert.state.in_(FAILING),
    )


@dataclass
class Rate:
    """Compliance of a group of elevators (a site, a company, a contractor)."""

    key: int
    name: str
    elevators: int
    compliant: int

    @property
    def share(self) -> int | None:
        """Return the share of fully compliant elevators in percent."""
        return percent(self.compliant, self.elevators)


def _compliance(scope: Select[Any]) -> CTE:
    """Return the scoped elevators with their site and ``ok`` (1: fully compliant, else 0).

    The rates below group these rows; computing them once and grouping them
    twice is what lets the district page count by company and by contractor
    with one pass over the alerts.
    """
    return (
        select(
            Elevator.id.label("elevator_id"),
            Elevator.site_id.label("site_id"),
            case((failing_clause(), 0), else_=1).label("ok"),
        )
        .where(Elevator.id.in_(scope))
        .cte("compliance")
    )


def _grouped(elevators: CTE, key: Any, name: Any, *joins: Any) -> Select[Any]:
    """Return the elevators (a _compliance CTE) grouped by key: key, name, count, compliant."""
    query = select(
        key.label("key"),
        name.label("name"),
        func.count().label("elevators"),
        func.sum(elevators.c.ok).label("compliant"),
    ).select_from(elevators)
    for target, on in joins:
        query = query.join(target, on)
    return query.group_by(key, name)


def _by_site(elevators: CTE) -> Select[Any]:
    return _grouped(elevators, Site.id, Site.name, (Site, Site.id == elevators.c.site_id))


def _by_company(elevators: CTE) -> Select[Any]:
    return _grouped(
        elevators,
        Organisation.id,
        Organisation.name,
        (Site, Site.id == elevators.c.site_id),
        (Organisation, Site.organisation_id == Organisation.id),
    )


def _by_contractor(elevators: CTE, on: date) -> Select[Any]:
    """Group by the contractor of each contract in force on a day (one row per contract)."""
    return _grouped(
        elevators,
        Organisation.id,
        Organisation.name,
        (
            Contract,
            and_(
                Contract.elevator_id == elevators.c.elevator_id,
                Contract.start_date <= on,
                Contract.end_date >= on,
            ),
        ),
        (Organisation, Contract.contractor_id == Organisation.id),
    )


def _fetch(query: Select[Any]) -> list[Rate]:
    rows = db.session.execute(query.order_by(query.selected_columns.name))
    return [Rate(key, name, int(total), int(ok or 0)) for key, name, total, ok in rows]


def site_rates(scope: Select[Any]) -> list[Rate]:
    """Return the compliance of each site of the scoped elevators."""
    return _fetch(_by_site(_compliance(scope)))


def company_rates(scope: Select[Any]) -> list[Rate]:
    """Return the compliance of each property company (使用单位) of the scoped elevators."""
    return _fetch(_by_company(_compliance(scope)))


def contractor_rates(scope: Select[Any], on: date) -> list[Rate]:
    """Return the compliance of each contractor (维保单位) by the contracts in force on a day."""
    return _fetch(_by_contractor(_compliance(scope), on))


def company_and_contractor_rates(scope: Select[Any], on: date) -> tuple[list[Rate], list[Rate]]:
    """Return company_rates and contractor_rates in one query, each elevator judged once."""
    elevators = _compliance(scope)
    parts = [_by_company(elevators), _by_contractor(elevators, on)]
    both = union_all(
        *(part.add_columns(literal(n).label("part")) for n, part in enumerate(parts))
    ).subquery()
    result: tuple[list[Rate], list[Rate]] = ([], [])
    query = select(both.c.key, both.c.name, both.c.elevators, both.c.compliant, both.c.part)
    for key, name, total, ok, part in db.session.execute(query.order_by(both.c.part, both.c.name)):
        result[part].append(Rate(key, name, int(total), int(ok or 0)))
    return result


def total_rate(scope: Select[Any]) -> Rate:
    """Return the compliance of all the scoped elevators together."""
    elevators = _compliance(scope)
    total, ok = db.session.execute(
        select(func.count(), func.sum(elevators.c.ok)).select_from(elevators)
    ).one()
    return Rate(0, "", int(total or 0), int(ok or 0))


def sum_rates(rates: list[Rate]) -> Rate:
    """Return the compliance of groups that partition the elevators, added up.

    Every elevator has exactly one site, and every site one company, so the
    sum of site_rates or company_rates is total_rate without scanning again.
    """
    return Rate(0, "", sum(r.elevators for r in rates), sum(r.compliant for r in rates))


def hard_stop_count(scope: Select[Any]) -> int:
    """Return how many elevators have an overdue or failed periodic inspection (D11 hard stop)."""
    return int(
        db.session.scalar(
            select(func.count(func.distinct(Alert.elevator_id))).where(
                Alert.elevator_id.in_(scope),
                Alert.resolved_at.is_(None),
                Alert.duty == "D11",
                Alert.state == State.hard_stop,
            )
        )
        or 0
    )


def late_rescues(scope: Select[Any], now: datetime) -> list[Alert]:
    """Return the late entrapment rescues raised in the last RESCUE_WINDOW_DAYS, newest first."""
    since = now - timedelta(days=RESCUE_WINDOW_DAYS)
    return list(
        db.session.scalars(
            select(Alert)
            .where(
                Alert.elevator_id.in_(scope),
                Alert.rule == RESCUE_LATE_RULE,
                Alert.raised_at >= since,
            )
            .order_by(Alert.raised_at.desc(), Alert.id.desc())
            .options(joinedload(Alert.elevator).joinedload(Elevator.site))
        )
    )


@dataclass
class Worst:
    """An elevator with many open alerts: its weight is the sum of their state ranks."""

    elevator: Elevator
    alerts: int
    weight: int


def worst_elevators(scope: Select[Any], limit: int = WORST_LIMIT) -> list[Worst]:
    """Return the elevators with the most open alerts weighted by state rank, worst first."""
    rank = case({state: STATE_RANK[state] for state in State}, value=Alert.state, else_=0)
    weight = func.sum(rank).label("weight")
    rows = db.session.execute(
        select(Alert.elevator_id, func.count(Alert.id), weight)
        .where(Alert.elevator_id.in_(scope), Alert.resolved_at.is_(None))
        .group_by(Alert.elevator_id)
        .order_by(weight.desc(), func.count(Alert.id).desc(), Alert.elevator_id)
        .limit(limit)
    ).all()
    elevators = {
        e.id: e
        for e in db.session.scalars(
            select(Elevator)
            .where(Elevator.id.in_([r[0] for r in rows]))
            .options(joinedload(Elevator.site))
        )
    }
    return [Worst(elevators[eid], int(count), int(w or 0)) for eid, count, w in rows]


def week_ends(now: datetime, zone: str, weeks: int = TREND_WEEKS) -> list[datetime]:
    """Return the moments of the trend, oldest first: ``weeks - 1`` week ends, then now.

    The week ends are the ends (local midnight) of the same weekday as today in
    each week before: 7, 14, ... days before the end of today. They stay the
    same all day, so their points can be kept (``past_trend``).
    """
    local = now.astimezone(ZoneInfo(zone))
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=local.tzinfo)
    ends = [tomorrow - timedelta(days=7 * back) for back in range(weeks - 1, 0, -1)]
    return [end.astimezone(UTC) for end in ends] + [now]


def past_trend(
    key: Hashable, scope: Select[Any], ends: list[datetime]
) -> list[tuple[datetime, int | None]]:
    """Return compliant_trend(scope, ends) for moments in the past, kept by the app per key.

    A point of the past is computed once per scope (``key``, e.g. the company
    and the site filter) and day: alerts are raised and resolved at the time of
    the evaluation, so what was open at a past moment does not change later
    (except that reopening an alert moves its ``raised_at`` to the reopening:
    points read earlier that day still count its former opening). The kept
    points live in the process (``app.extensions``), at most TREND_CACHE_MAX
    keys; they are recomputed after a restart.
    """
    cache: dict[Hashable, list[tuple[datetime, int | None]]] = current_app.extensions.setdefault(
        "dashboards.past_trend", {}
    )
    full_key = (key, tuple(ends))
    points = cache.get(full_key)
    if points is None:
        points = compliant_trend(scope, ends)
        if len(cache) >= TREND_CACHE_MAX:
            cache.clear()
        cache[full_key] = points
    return list(points)


def compliant_trend(scope: Select[Any], ends: list[datetime]) -> list[tuple[datetime, int | None]]:
    """Return the share of fully compliant elevators at each moment, from the alert history.

    Two aggregate queries whatever the number of elevators or moments, each
    returning one row with a column per moment: how many elevators of the scope
    were registered by then (an elevator counts only from its registration on),
    and how many distinct ones of those had a failing alert open at that moment.
    """
    if not ends:
        return []
    first, last = min(ends), max(ends)
    present = db.session.execute(
        select(*(func.sum(case((Elevator.created_at <= t, 1), else_=0)) for t in ends)).where(
            Elevator.id.in_(scope)
        )
    ).one()
    failing = db.session.execute(
        select(
            *(
                func.count(distinct(Alert.elevator_id)).filter(
                    _open_at(t), Elevator.created_at <= t
                )
                for t in ends
            )
        )
        .join_from(Alert, Elevator, Elevator.id == Alert.elevator_id)
        .where(
            Alert.elevator_id.in_(scope),
            Alert.state.in_(FAILING),
            Alert.raised_at <= last,
            or_(Alert.resolved_at.is_(None), Alert.resolved_at > first),
        )
    ).one()
    result = []
    for t, registered, failed in zip(ends, present, failing, strict=True):
        elevators = int(registered or 0)
        result.append((t, percent(elevators - int(failed or 0), elevators)))
    return result


def _open_at(t: datetime) -> ColumnElement[bool]:
    """Return whether an alert was raised by moment t and not yet resolved at t."""
    return and_(Alert.raised_at <= t, or_(Alert.resolved_at.is_(None), Alert.resolved_at > t))
