"""Numbers of the dashboards, computed set-based in SQL (no query per elevator).

An elevator is *fully compliant* (合规) when none of its open alerts is due
soon, an open finding, overdue or a hard stop. The 12-week trend replays the
alert history: an alert counts at moment t when ``raised_at <= t`` and it was
not yet resolved (``resolved_at`` null or after t).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select

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


def _rates(scope: Select[Any], key: Any, name: Any, *joins: Any) -> list[Rate]:
    """Group the elevators of a scope (a select of Elevator.id) and count the compliant ones."""
    compliant = func.sum(case((failing_clause(), 0), else_=1))
    query = select(key, name, func.count(Elevator.id), compliant).select_from(Elevator)
    for target, on in joins:
        query = query.join(target, on)
    query = query.where(Elevator.id.in_(scope)).group_by(key, name).order_by(name)
    return [Rate(k, n, total, int(ok or 0)) for k, n, total, ok in db.session.execute(query)]


def site_rates(scope: Select[Any]) -> list[Rate]:
    """Return the compliance of each site of the scoped elevators."""
    return _rates(scope, Site.id, Site.name, (Site, Elevator.site_id == Site.id))


def company_rates(scope: Select[Any]) -> list[Rate]:
    """Return the compliance of each property company (使用单位) of the scoped elevators."""
    return _rates(
        scope,
        Organisation.id,
        Organisation.name,
        (Site, Elevator.site_id == Site.id),
        (Organisation, Site.organisation_id == Organisation.id),
    )


def contractor_rates(scope: Select[Any], on: date) -> list[Rate]:
    """Return the compliance of each contractor (维保单位) by the contracts in force on a day."""
    return _rates(
        scope,
        Organisation.id,
        Organisation.name,
        (
            Contract,
            and_(
                Contract.elevator_id == Elevator.id,
                Contract.start_date <= on,
                Contract.end_date >= on,
            ),
        ),
        (Organisation, Contract.contractor_id == Organisation.id),
    )


def total_rate(scope: Select[Any]) -> Rate:
    """Return the compliance of all the scoped elevators together."""
    compliant = func.sum(case((failing_clause(), 0), else_=1))
    total, ok = db.session.execute(
        select(func.count(Elevator.id), compliant).where(Elevator.id.in_(scope))
    ).one()
    return Rate(0, "", int(total or 0), int(ok or 0))


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
        for e in db.session.scalars(select(Elevator).where(Elevator.id.in_([r[0] for r in rows])))
    }
    return [Worst(elevators[eid], int(count), int(w or 0)) for eid, count, w in rows]


def week_ends(now: datetime, weeks: int = TREND_WEEKS) -> list[datetime]:
    """Return the ends of the last weeks, oldest first: now, and every 7 days back."""
    return [now - timedelta(days=7 * back) for back in range(weeks - 1, -1, -1)]


def compliant_trend(scope: Select[Any], ends: list[datetime]) -> list[tuple[datetime, int | None]]:
    """Return the share of fully compliant elevators at each moment, from the alert history.

    Two queries whatever the number of moments or elevators: the elevators of
    the scope (with the day they were registered, so that an elevator counts
    only from then on), and every failing alert that overlaps the window.
    """
    if not ends:
        return []
    first, last = min(ends), max(ends)
    registered: dict[int, datetime | None] = {
        eid: created
        for eid, created in db.session.execute(
            select(Elevator.id, Elevator.created_at).where(Elevator.id.in_(scope))
        )
    }
    spans: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    rows = db.session.execute(
        select(Alert.elevator_id, Alert.raised_at, Alert.resolved_at).where(
            Alert.elevator_id.in_(scope),
            Alert.state.in_(FAILING),
            Alert.raised_at <= last,
            or_(Alert.resolved_at.is_(None), Alert.resolved_at > first),
        )
    )
    for elevator_id, raised_at, resolved_at in rows:
        spans[elevator_id].append((raised_at, resolved_at))
    result = []
    for t in ends:
        present = [eid for eid, since in registered.items() if since is None or since <= t]
        failing = sum(
            1
            for eid in present
            if any(r <= t and (s is None or s > t) for r, s in spans.get(eid, ()))
        )
        result.append((t, percent(len(present) - failing, len(present))))
    return result
