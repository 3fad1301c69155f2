"""Home-page panels of two roles: the safety officer's phone dashboard and the contractor's.

The safety officer (安全员), on a phone, in this order: today's patrols still to
do (D3), maintenance records waiting for the officer's on-site confirmation
(D1), the company's open lockouts (D8, 困人 first), the rectifications due (D9).

The contractor manager (维保单位): maintenance due by date across the elevators
of its contracts in force (D1), its rejected maintenance records not yet redone,
the rectifications it owns (整改), the open lockouts on its elevators.

Every panel is computed in a fixed number of queries, whatever the number of
elevators. The two template globals are registered by :func:`init_app`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from flask_login import current_user
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from elevator_safety.auth.models import OrgKind, Role, User
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.lockouts import services as lockouts
from elevator_safety.maintenance import services as maintenance
from elevator_safety.maintenance.items import LEVEL_ORDER
from elevator_safety.patrols.services import daily_states
from elevator_safety.records.models import Finding, Record, RecordKind
from elevator_safety.rectifications import services as rectifications
from elevator_safety.registry.models import (
    Contract,
    Elevator,
    ElevatorStatus,
    MaintenanceLevel,
    Site,
)
from elevator_safety.scoping import local_today

#: Rows shown in each list of a panel (the count shows how many there are in all).
ROWS = 10
#: The contractor's maintenance list shows what falls due within this many days (and overdue).
MAINTENANCE_HORIZON_DAYS = 30
#: Rows of the contractor's maintenance list.
MAINTENANCE_ROWS = 30


# --- the safety officer --------------------------------------------------------------


@dataclass
class OfficerDashboard:
    """What a safety officer acts on, in the order of a morning round."""

    patrols_todo: list[Elevator] = field(default_factory=list)
    patrols_done: int = 0
    patrols_total: int = 0
    awaiting: list[Record] = field(default_factory=list)
    awaiting_count: int = 0
    lockouts: list[Any] = field(default_factory=list)
    open_lockouts: int = 0
    rectifications: list[Finding] = field(default_factory=list)
    open_rectifications: int = 0
    overdue_rectifications: int = 0


def _officer_clause(user: User) -> Any:
    """The officer's own elevators; a safety director's: every elevator of the company."""
    if user.role == Role.safety_officer:
        return and_(
            Elevator.safety_officer_id == user.id, Site.organisation_id == user.organisation_id
        )
    return Site.organisation_id == user.organisation_id


def patrol_round(user: User, now: datetime | None = None) -> tuple[list[Elevator], int, int]:
    """Return the officer's in-service elevators not patrolled today, and done / total (D3)."""
    now = now or now_utc()
    elevators = list(
        db.session.scalars(
            select(Elevator)
            .join(Elevator.site)
            .options(contains_eager(Elevator.site))
            .where(_officer_clause(user), Elevator.status == ElevatorStatus.in_service)
            .order_by(Site.name, Elevator.building, Elevator.unit, Elevator.equipment_code)
        )
    )
    states = daily_states(elevators, now)
    todo = [e for e in elevators if not states[e.id].done]
    return todo, len(elevators) - len(todo), len(elevators)


def awaiting_confirmation(user: User, limit: int = ROWS) -> tuple[list[Record], int]:
    """Return maintenance records awaiting the officer's review, oldest first, and their count."""
    query = (
        select(Record)
        .join(Elevator, Elevator.id == Record.elevator_id)
        .join(Site, Site.id == Elevator.site_id)
        .where(
            _officer_clause(user),
            Record.kind == RecordKind.maintenance,
            maintenance.state_clause(maintenance.AWAITING),
        )
    )
    count = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.options(contains_eager(Record.elevator).contains_eager(Elevator.site))
        .order_by(Record.occurred_at, Record.id)
        .limit(limit)
    )
    return list(rows), int(count)


def count_open_rectifications(user: User) -> int:
    """Return how many rectifications in the user's scope are not completed yet."""
    return int(
        db.session.scalar(
            select(func.count(Finding.id))
            .join(Site, Finding.site_id == Site.id)
            .where(
                rectifications.finding_scope(user), Finding.status.in_(rectifications.OPEN_STATES)
            )
        )
        or 0
    )


def officer_data(user: User, now: datetime | None = None) -> OfficerDashboard:
    """Collect the safety officer's four panels."""
    now = now or now_utc()
    todo, done, total = patrol_round(user, now)
    awaiting, awaiting_count = awaiting_confirmation(user)
    return OfficerDashboard(
        patrols_todo=todo,
        patrols_done=done,
        patrols_total=total,
        awaiting=awaiting,
        awaiting_count=awaiting_count,
        lockouts=lockouts.open_lockouts_for(user, ROWS),
        open_lockouts=lockouts.count_open_lockouts(user),
        rectifications=rectifications.rectifications_due(user, ROWS),
        open_rectifications=count_open_rectifications(user),
        overdue_rectifications=rectifications.count_overdue(user, now),
    )


# --- the contractor manager ----------------------------------------------------------


@dataclass
class MaintenanceDue:
    """The next due date of one level of one elevator (last confirmed visit + interval)."""

    elevator: Elevator
    level: MaintenanceLevel
    last: date | None
    due: date
    today: date

    @property
    def label(self) -> str:
        """Return the level in the user's language."""
        return maintenance.level_label(self.level)

    @property
    def overdue(self) -> bool:
        """Return whether the due date has passed (the site's today)."""
        return self.due < self.today

    @property
    def days_left(self) -> int:
        """Return the days until the due date (negative once overdue)."""
        return (self.due - self.today).days


@dataclass
class Rejected:
    """A rejected maintenance record of the contractor, not redone yet."""

    record: Record
    rejection: Record

    @property
    def reason(self) -> str:
        """Return the reviewer's reason."""
        return str(self.rejection.data["body"].get("reason") or "")


@dataclass
class ContractorDashboard:
    """What a contractor manager acts on."""

    maintenance_due: list[MaintenanceDue] = field(default_factory=list)
    maintenance_due_count: int = 0
    maintenance_overdue_count: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    rejected_count: int = 0
    rectifications: list[Finding] = field(default_factory=list)
    open_rectifications: int = 0
    overdue_rectifications: int = 0
    lockouts: list[Any] = field(default_factory=list)
    open_lockouts: int = 0
    horizon_days: int = MAINTENANCE_HORIZON_DAYS


def maintenance_due(
    contractor_id: int,
    now: datetime | None = None,
    horizon_days: int = MAINTENANCE_HORIZON_DAYS,
) -> list[MaintenanceDue]:
    """Return each level's next due date on the contractor's in-service elevators, by date.

    Only levels of the plans of its contracts in force count, and only due dates
    up to ``horizon_days`` ahead (overdue ones included). The baseline is the last
    confirmed visit of the level or a higher one (levels are cumulative), else the
    first day of the contract — the same rule as compliance ``D1.maintenance.*``.
    Two queries, whatever the number of elevators.
    """
    now = now or now_utc()
    # Contracts in force on the widest "today" (sites may be in several zones): filter per site.
    server_today = local_today(now)
    window = (server_today - timedelta(days=1), server_today + timedelta(days=1))
    contracts = list(
        db.session.scalars(
            select(Contract)
            .join(Contract.elevator)
            .join(Elevator.site)
            .options(contains_eager(Contract.elevator).contains_eager(Elevator.site))
            .where(
                Contract.contractor_id == contractor_id,
                Contract.start_date <= window[1],
                Contract.end_date >= window[0],
                Elevator.status == ElevatorStatus.in_service,
            )
        )
    )
    plans: dict[int, dict[MaintenanceLevel, date]] = defaultdict(dict)
    elevators: dict[int, Elevator] = {}
    todays: dict[int, date] = {}
    for contract in contracts:
        elevator = contract.elevator
        today = maintenance.site_today(elevator, now)
        if not contract.is_active(today):
            continue
        elevators[elevator.id] = elevator
        todays[elevator.id] = today
        for level in contract.levels:
            start = plans[elevator.id].get(level)
            if start is None or contract.start_date < start:
                plans[elevator.id][level] = contract.start_date
    if not plans:
        return []
    last_by_level: dict[int, dict[MaintenanceLevel, date]] = defaultdict(dict)
    confirmed = aliased(Record)
    rows = db.session.execute(
        select(Record.elevator_id, Record.level, func.max(Record.occurred_on))
        .where(
            Record.elevator_id.in_(list(plans)),
            Record.kind == RecordKind.maintenance,
            exists().where(
                confirmed.subject_id == Record.id, confirmed.kind == RecordKind.confirmation
            ),
        )
        .group_by(Record.elevator_id, Record.level)
    )
    for elevator_id, level, day in rows:
        if level in MaintenanceLevel._value2member_map_ and day is not None:
            last_by_level[elevator_id][MaintenanceLevel(level)] = day
    intervals = maintenance.interval_days()
    found: list[MaintenanceDue] = []
    for elevator_id, levels in plans.items():
        today = todays[elevator_id]
        done = last_by_level[elevator_id]
        for level, start in levels.items():
            higher = [done[lv] for lv in LEVEL_ORDER[LEVEL_ORDER.index(level) :] if lv in done]
            last = max(higher) if higher else None
            due = (last or start) + timedelta(days=intervals[level])
            if due <= today + timedelta(days=horizon_days):
                found.append(MaintenanceDue(elevators[elevator_id], level, last, due, today))
    found.sort(key=lambda d: (d.due, d.elevator.equipment_code, LEVEL_ORDER.index(d.level)))
    return found


def rejected_not_redone(
    contractor_id: int, on: date | None = None, limit: int = ROWS
) -> tuple[list[Rejected], int]:
    """Return the contractor's rejected maintenance records with no later visit, and the count.

    A record is redone once the contractor appended another maintenance record
    to the same elevator's chain after it, for a visit on the same day or later
    (a back-dated earlier visit does not redo it). Only elevators under its contracts in
    force count (the others are out of its reach).
    """
    on = on or local_today()
    rejection = aliased(Record)
    later = aliased(Record)
    query = (
        select(Record, rejection)
        .join(rejection, and_(rejection.subject_id == Record.id))
        .join(Elevator, Elevator.id == Record.elevator_id)
        .join(Site, Site.id == Elevator.site_id)
        .where(
            Record.kind == RecordKind.maintenance,
            Record.organisation_id == contractor_id,
            rejection.kind == RecordKind.rejection,
            maintenance.state_clause(maintenance.REJECTED),
            ~exists().where(
                later.elevator_id == Record.elevator_id,
                later.kind == RecordKind.maintenance,
                later.organisation_id == contractor_id,
                later.seq > Record.seq,
                later.occurred_on >= Record.occurred_on,
            ),
            exists().where(
                Contract.elevator_id == Elevator.id,
                Contract.contractor_id == contractor_id,
                Contract.start_date <= on,
                Contract.end_date >= on,
            ),
        )
    )
    count = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.options(contains_eager(Record.elevator).contains_eager(Elevator.site))
        .order_by(rejection.occurred_at, rejection.id)
        .limit(limit)
    ).all()
    return [Rejected(record, review) for record, review in rows], int(count)


def contractor_data(user: User, now: datetime | None = None) -> ContractorDashboard:
    """Collect the contractor manager's four panels."""
    now = now or now_utc()
    due = maintenance_due(user.organisation_id, now)
    rejected, rejected_count = rejected_not_redone(user.organisation_id, local_today(now))
    return ContractorDashboard(
        maintenance_due=due[:MAINTENANCE_ROWS],
        maintenance_due_count=len(due),
        maintenance_overdue_count=sum(1 for d in due if d.overdue),
        rejected=rejected,
        rejected_count=rejected_count,
        rectifications=_owned_rectifications(user),
        open_rectifications=count_open_rectifications(user),
        overdue_rectifications=rectifications.count_overdue(user, now),
        lockouts=lockouts.open_lockouts_for(user, ROWS),
        open_lockouts=lockouts.count_open_lockouts(user),
    )


def _owned_rectifications(user: User) -> list[Finding]:
    """Open rectifications the contractor owns, earliest deadline first (finding_scope)."""
    return list(
        db.session.scalars(
            rectifications.scoped_findings(user)
            .where(
                Finding.owner_organisation_id == user.organisation_id,
                Finding.status.in_(rectifications.OPEN_STATES),
            )
            .options(selectinload(Finding.elevator), selectinload(Finding.site))
            .order_by(Finding.deadline, Finding.id)
            .limit(ROWS)
        )
    )


# --- template globals ------------------------------------------------------------------


def officer_dashboard() -> OfficerDashboard | None:
    """Return the current safety officer's (or director's) panels; None for other users."""
    user = current_user
    if not getattr(user, "is_authenticated", False):
        return None
    if user.organisation.kind != OrgKind.property_company or user.role not in (
        Role.safety_officer,
        Role.safety_director,
    ):
        return None
    return officer_data(user)


def contractor_dashboard() -> ContractorDashboard | None:
    """Return the current contractor user's panels; None for other users."""
    user = current_user
    if not getattr(user, "is_authenticated", False):
        return None
    if user.organisation.kind != OrgKind.contractor:
        return None
    return contractor_data(user)


def init_app(app: Flask) -> None:
    """Register ``officer_dashboard()`` and ``contractor_dashboard()`` for templates."""
    app.add_template_global(officer_dashboard)
    app.add_template_global(contractor_dashboard)
    app.add_template_global(maintenance.level_label, "dashboard_level_label")
