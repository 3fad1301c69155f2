"""The safety director's weekly check (周排查) and monthly review (月调度), SAMR Order No. 74.

Order No. 74 asks the management unit for 日管控、周排查、月调度: the safety
officer's daily control (the patrols), the safety director's weekly check and
the monthly review with the company's principal. Here each check is a signed
entry of the site's register chain (``registers.chain``) holding a snapshot of
the compliance matrix at the moment of signing (elevators, fully compliant
count and share, per duty the elevators not ok, the elevators with an overdue
or hard-stop duty and their states) and the director's findings and decisions.

One check of each kind per site and period: the ISO week ("2026-W48") for the
weekly check, the month ("2026-11") for the monthly review, both taken in the
site's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from elevator_safety.auth.models import OrgKind, Role, User
from elevator_safety.compliance import engine
from elevator_safety.compliance.models import State
from elevator_safety.dashboards import services
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records.models import Meaning
from elevator_safety.records.services import (
    DuplicateSubmission,
    SignatureSpec,
    check_signing_password,
)
from elevator_safety.registers import chain
from elevator_safety.registers.models import RegisterEntry, RegisterKind
from elevator_safety.registry.models import Elevator, Site

#: The two kinds of review: the URL's ``kind`` argument -> the register entry kind.
KINDS = {"weekly": RegisterKind.weekly_check, "monthly": RegisterKind.monthly_review}

KIND_TITLES = {"weekly": _l("Weekly check"), "monthly": _l("Monthly review")}

#: Who reads the reviews: the company's people and the district's regulators.
READ_ROLES = (Role.admin, Role.safety_director, Role.safety_officer, Role.regulator)

#: Duty states that put an elevator on the review's list.
LISTED = (State.overdue, State.hard_stop)

#: States that count as "not ok" in the per-duty counts.
NOT_OK = (State.due_soon, State.open_finding, State.overdue, State.hard_stop)


def can_review(user: User, site: Site) -> bool:
    """Only the safety director of the site's own company signs its reviews."""
    return (
        user.role == Role.safety_director
        and user.organisation.kind == OrgKind.property_company
        and user.organisation_id == site.organisation_id
    )


def period_of(kind: str, day: date) -> str:
    """Return the period a day belongs to: ISO week ("2026-W48") or month ("2026-11")."""
    if kind == "weekly":
        year, week, _weekday = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def period_bounds(kind: str, day: date) -> tuple[date, date]:
    """Return the first and last day of the period of a day."""
    if kind == "weekly":
        first = day - timedelta(days=day.isoweekday() - 1)
        return first, first + timedelta(days=6)
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


@dataclass
class Snapshot:
    """The compliance of a site's elevators at one moment, as a review signs it."""

    elevators: int
    compliant: int
    share: int | None
    not_ok: dict[str, int]
    listed: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        """Return the snapshot as JSON-able values (no floats)."""
        return {
            "elevators": self.elevators,
            "compliant": self.compliant,
            "share_percent": self.share,
            "not_ok_by_duty": dict(self.not_ok),
            "listed_elevators": [dict(row) for row in self.listed],
        }


def _site_scope(site: Site) -> Select[Any]:
    return select(Elevator.id).where(Elevator.site_id == site.id)


def snapshot(site: Site) -> Snapshot:
    """Return the site's current matrix summary (from the open alerts; a few queries in all)."""
    scope = _site_scope(site)
    rate = services.total_rate(scope)
    ids = list(db.session.scalars(scope))
    matrix = engine.status_matrix(ids) if ids else {}
    not_ok = {duty: 0 for duty in engine.DUTIES}
    flagged: list[int] = []
    for elevator_id, row in matrix.items():
        for duty, state in row.items():
            if state in NOT_OK:
                not_ok[duty] += 1
        if any(state in LISTED for state in row.values()):
            flagged.append(elevator_id)
    listed = []
    if flagged:
        elevators = db.session.scalars(
            select(Elevator)
            .where(Elevator.id.in_(flagged))
            .order_by(Elevator.equipment_code, Elevator.id)
        )
        for elevator in elevators:
            row = matrix[elevator.id]
            listed.append(
                {
                    "elevator_id": elevator.id,
                    "code": elevator.equipment_code,
                    "location": elevator.location or "",
                    "states": {
                        duty: row[duty].value for duty in engine.DUTIES if row[duty] in NOT_OK
                    },
                }
            )
    return Snapshot(rate.elevators, rate.compliant, rate.share, not_ok, listed)


def existing_review(site: Site, kind: str, day: date) -> RegisterEntry | None:
    """Return the site's review of this kind already signed in the period of a day, if any."""
    first, last = period_bounds(kind, day)
    return db.session.scalar(
        select(RegisterEntry)
        .where(
            RegisterEntry.site_id == site.id,
            RegisterEntry.kind == KINDS[kind],
            RegisterEntry.on_date >= first,
            RegisterEntry.on_date <= last,
        )
        .order_by(RegisterEntry.id)
        .limit(1)
    )


def _lock_site(site: Site) -> None:
    """Serialise reviews of one site on PostgreSQL (the period check, then the append)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Site.id).where(Site.id == site.id).with_for_update())


def sign_review(
    site: Site,
    kind: str,
    actor: User,
    password: str | None,
    *,
    comments: str,
    now: datetime,
    idempotency_key: str | None = None,
) -> RegisterEntry:
    """Append a signed weekly check or monthly review with the current snapshot (caller commits).

    Refuses a second review of the same kind and period for the site, and a
    signature without the director's password.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown review kind {kind!r}")
    existing = chain.find_by_idempotency_key(idempotency_key)
    if existing is not None:
        raise DuplicateSubmission(existing)
    if not can_review(actor, site):
        raise DomainError(_("Only the safety director of the site's company signs its reviews."))
    text = (comments or "").strip()
    if not text:
        raise DomainError(_("This field is required."), field="comments")
    check_signing_password(actor, password)
    today = chain.site_day(site, now)
    period = period_of(kind, today)
    _lock_site(site)
    if existing_review(site, kind, today) is not None:
        if kind == "weekly":
            message = _("The weekly check of week %(period)s was already signed for this site.")
        else:
            message = _("The monthly review of %(period)s was already signed for this site.")
        raise DomainError(message % {"period": period})
    body = {"period": period} | snapshot(site).body() | {"comments": text}
    return chain.append_entry(
        site,
        KINDS[kind],
        body,
        actor,
        occurred_at=now,
        signatures=[SignatureSpec(actor, Meaning.recorded)],
        on_date=today,
        idempotency_key=idempotency_key,
    )


def reviews_of(site: Site) -> Select[Any]:
    """Return a select() of a site's weekly checks and monthly reviews, newest first."""
    return (
        select(RegisterEntry)
        .where(
            RegisterEntry.site_id == site.id,
            RegisterEntry.kind.in_(tuple(KINDS.values())),
        )
        .order_by(RegisterEntry.on_date.desc(), RegisterEntry.id.desc())
    )
