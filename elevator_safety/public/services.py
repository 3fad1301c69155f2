"""Public reports (乘客报告): the passenger's side without login, and the officer's handling.

A passenger scans the QR label in the car, picks what is wrong and submits.
The report waits as ``pending`` for the site's safety officers, who turn it
into a lockout (停用, D8), a rectification (整改, D3 or D8) or dismiss it with
a reason. The client's address is stored only as a salted SHA-256 hash.

Who sees reports: the property company's admin, safety director and safety
officers (their own sites), regulators (their district, read only).
Contractors do not: a report goes to the management unit, which calls the
contractor through the lockout. Only the company's safety officers and
director handle reports (``can_handle``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select, update
from sqlalchemy.orm import joinedload

from elevator_safety import audit
from elevator_safety.auth.models import OrgKind, Role, User
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import Lockout, LockoutCause
from elevator_safety.lockouts.services import (
    EntrapmentInput,
    is_company_officer,
    open_lockout,
    open_lockout_of,
)
from elevator_safety.notifications.services import active_users, notify, register_message
from elevator_safety.public.models import (
    CATEGORY_LABELS,
    PublicReport,
    ReportCategory,
    ReportStatus,
)
from elevator_safety.records.models import Finding, FindingSource, Severity
from elevator_safety.records.services import check_signing_password
from elevator_safety.rectifications.services import open_finding
from elevator_safety.registry.models import Elevator, ElevatorStatus
from elevator_safety.scoping import elevator_scope
from elevator_safety.templating import local_dt, path_for

#: Roles that may read the report list (in their scope); contractors may not.
VIEWER_ROLES = (Role.admin, Role.safety_director, Role.safety_officer, Role.regulator)

#: Notification kinds (their texts live in notifications/services.py).
KIND_TRAPPED = "public_report_trapped"
KIND_REPORT = "public_report"
register_message(
    KIND_TRAPPED,
    _l(
        "Passenger report #%(report_id)s at %(place)s: someone is trapped. Check at once "
        "and make sure the rescue is under way (hotline %(hotline)s)."
    ),
)
register_message(
    KIND_REPORT,
    _l("Passenger report #%(report_id)s at %(place)s: %(category)s. Please handle it."),
)


# --- the passenger's side ----------------------------------------------------------------------


def find_public_elevator(equipment_code: str) -> Elevator | None:
    """Return the elevator a label names, unless unknown or decommissioned."""
    code = (equipment_code or "").strip()
    if not code or len(code) > 64:
        return None
    return db.session.scalar(
        select(Elevator)
        .options(joinedload(Elevator.site))
        .where(
            Elevator.equipment_code == code,
            Elevator.status != ElevatorStatus.decommissioned,
        )
    )


def client_hash(address: str | None) -> str:
    """Return the salted hash kept instead of the client's address."""
    secret = str(current_app.config["SECRET_KEY"])
    return hashlib.sha256((secret + (address or "unknown")).encode()).hexdigest()


def recipients(elevator: Elevator) -> list[User]:
    """Return who is told of a new report: the elevator's officer and the company's directors."""
    people: list[User] = []
    officer = elevator.safety_officer
    if officer is not None and officer.active:
        people.append(officer)
    directors = active_users(elevator.site.organisation_id, Role.safety_director)
    people.extend(d for d in directors if d not in people)
    return people


def place_of(elevator: Elevator) -> str:
    """Return where an elevator is, for messages: site, building/unit/car, equipment code."""
    where = " ".join(p for p in (elevator.site.name, elevator.location) if p)
    return f"{where} ({elevator.equipment_code})"


def notification_kind(report: PublicReport) -> str:
    """Return the notification kind of a report (trapped first in every inbox)."""
    return KIND_TRAPPED if report.category == ReportCategory.trapped else KIND_REPORT


def submit_report(
    elevator: Elevator,
    *,
    category: ReportCategory,
    phone: str | None,
    note: str | None,
    client_address: str | None,
) -> PublicReport:
    """Store a passenger's report and tell the officers; the caller commits.

    Not audited: the audit log would keep the raw client address, which this
    page promises not to store.
    """
    report = PublicReport(
        elevator_id=elevator.id,
        category=category,
        phone=(phone or "").strip() or None,
        note=(note or "").strip() or None,
        client_hash=client_hash(client_address),
        created_at=now_utc(),
        status=ReportStatus.pending,
    )
    db.session.add(report)
    db.session.flush()
    with installation_locale():
        category_text = str(CATEGORY_LABELS[category])
    notify(
        recipients(elevator),
        notification_kind(report),
        {
            "report_id": report.id,
            "place": place_of(elevator),
            "category": category_text,
            "hotline": current_app.config["RESCUE_HOTLINE"],
        },
        path_for("public.report_detail", report_id=report.id),
    )
    return report


# --- who sees what -----------------------------------------------------------------------------


def can_view_reports(user: User) -> bool:
    """The property company's staff (not contractors) and regulators may read reports."""
    if user.role not in VIEWER_ROLES:
        return False
    return user.organisation.kind in (OrgKind.property_company, OrgKind.regulator)


def can_handle(user: User, report: PublicReport) -> bool:
    """The company's safety officers and director handle its reports."""
    return is_company_officer(user, report.elevator)


def scoped_reports(user: User) -> Select[Any]:
    """Return a select() of the reports on elevators in the user's scope."""
    return (
        select(PublicReport)
        .join(PublicReport.elevator)
        .join(Elevator.site)
        .where(elevator_scope(user))
    )


def list_order() -> tuple[Any, ...]:
    """Pending first, trapped first among them, then the newest first."""
    pending_first = case((PublicReport.status == ReportStatus.pending, 0), else_=1)
    trapped_first = case((PublicReport.category == ReportCategory.trapped, 0), else_=1)
    return (pending_first, trapped_first, PublicReport.created_at.desc(), PublicReport.id.desc())


def get_report(user: User, report_id: int) -> PublicReport | None:
    """Return a report the user may see, or None."""
    return db.session.scalar(scoped_reports(user).where(PublicReport.id == report_id))


def pending_reports_for(user: User, limit: int = 10) -> list[PublicReport]:
    """Return the user's pending reports, trapped first (for the home page)."""
    if not can_view_reports(user):
        return []
    return list(
        db.session.scalars(
            scoped_reports(user)
            .where(PublicReport.status == ReportStatus.pending)
            .options(joinedload(PublicReport.elevator).joinedload(Elevator.site))
            .order_by(*list_order())
            .limit(limit)
        )
    )


def count_pending(user: User) -> int:
    """Return how many reports wait for the user's company (0 for those who cannot see them)."""
    if not can_view_reports(user):
        return 0
    query = (
        select(func.count(PublicReport.id))
        .join(PublicReport.elevator)
        .join(Elevator.site)
        .where(elevator_scope(user), PublicReport.status == ReportStatus.pending)
    )
    return int(db.session.scalar(query) or 0)


def pending_of_elevator(user: User, elevator: Elevator, limit: int = 10) -> list[PublicReport]:
    """Return the elevator's pending reports, if the user may see reports."""
    if not can_view_reports(user):
        return []
    return list(
        db.session.scalars(
            scoped_reports(user)
            .where(
                PublicReport.elevator_id == elevator.id,
                PublicReport.status == ReportStatus.pending,
            )
            .order_by(*list_order())
            .limit(limit)
        )
    )


# --- handling ----------------------------------------------------------------------------------


def installation_locale():  # type: ignore[no-untyped-def]
    """Write generated texts in the installation's language (they outlive the reader)."""
    return force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN"))


def report_text(report: PublicReport) -> str:
    """Return the report as one text for a lockout or a rectification (no phone number)."""
    zone = report.elevator.site.timezone or current_app.config["TIMEZONE"]
    with installation_locale():
        head = _(
            "Passenger report #%(id)d (%(category)s), %(at)s",
            id=report.id,
            category=str(CATEGORY_LABELS[report.category]),
            at=local_dt(report.created_at, zone),
        )
        note = report.note or _("No note.")
    return f"{head}: {note}"


def _claim(report: PublicReport, actor: User, status: ReportStatus) -> None:
    """Mark a pending report handled, once: a second handling is refused.

    The conditional UPDATE makes two officers acting at the same moment safe:
    only one of them changes the row.
    """
    if not can_handle(actor, report):
        raise DomainError(_("Only the company's safety officers can handle this report."))
    if report.status != ReportStatus.pending:
        raise DomainError(already_handled_message(report))
    now = now_utc()
    result = db.session.execute(
        update(PublicReport)
        .where(PublicReport.id == report.id, PublicReport.status == ReportStatus.pending)
        .values(status=status, handled_by_id=actor.id, handled_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 1) != 1:
        db.session.refresh(report)
        raise DomainError(already_handled_message(report))
    db.session.refresh(report)


def already_handled_message(report: PublicReport) -> str:
    """Say that a report was handled already, and how."""
    return _(
        "This report was already handled (%(status)s); nothing was changed.",
        status=report.status_label,
    )


def _audit(report: PublicReport, actor: User, changes: dict[str, list[Any]]) -> None:
    audit.record(
        "update",
        report,
        changes={"status": [ReportStatus.pending.value, report.status.value], **changes},
        organisation_id=actor.organisation_id,
        user_id=actor.id,
        label=f"{report.elevator.equipment_code} public report #{report.id}",
    )


@dataclass
class LockoutOutcome:
    """What turning a report into a lockout did."""

    lockout: Lockout
    opened: bool  # False: the report joined the elevator's open lockout


def to_lockout(
    report: PublicReport,
    actor: User,
    password: str | None,
    *,
    trapped_count: int | None = None,
    alarm_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> LockoutOutcome:
    """Open a lockout from a report, or link the report to the elevator's open lockout.

    A "trapped" report opens the lockout with an entrapment (困人): the number
    of people trapped is required, the alarm time defaults to the report's time.
    """
    check_signing_password(actor, password)
    _claim(report, actor, ReportStatus.lockout)
    elevator = report.elevator
    existing = open_lockout_of(elevator)
    if existing is not None:
        report.lockout_id = existing.id
        _audit(report, actor, {"lockout_id": [None, existing.id], "linked": [None, True]})
        return LockoutOutcome(existing, opened=False)
    entrapment = None
    if report.category == ReportCategory.trapped:
        if not trapped_count:
            raise DomainError(
                _("Give the number of people trapped (at least 1)."), field="trapped_count"
            )
        entrapment = EntrapmentInput(trapped_count, alarm_at or report.created_at)
    lockout = open_lockout(
        elevator,
        actor,
        password,
        cause=LockoutCause.passenger_report,
        description=report_text(report),
        entrapment=entrapment,
        idempotency_key=idempotency_key,
    )
    report.lockout_id = lockout.id
    _audit(report, actor, {"lockout_id": [None, lockout.id]})
    return LockoutOutcome(lockout, opened=True)


def duty_of(category: ReportCategory) -> str:
    """Unsafe behaviour is a patrol duty (D3, stop misuse); the rest a fault (D8)."""
    return "D3" if category == ReportCategory.unsafe_behaviour else "D8"


def to_rectification(report: PublicReport, actor: User, severity: Severity) -> Finding:
    """Open a rectification (整改) from a report."""
    _claim(report, actor, ReportStatus.rectification)
    elevator = report.elevator
    with installation_locale():
        label = str(CATEGORY_LABELS[report.category])
    finding = open_finding(
        site=elevator.site,
        elevator=elevator,
        source=FindingSource.public_report,
        duty=duty_of(report.category),
        item_label=label,
        description=report_text(report),
        author=actor,
        severity=severity,
        source_reference=f"public-report-{report.id}",
    )
    report.finding_id = finding.id
    _audit(report, actor, {"finding_id": [None, finding.id]})
    return finding


def dismiss(report: PublicReport, actor: User, reason: str) -> None:
    """Dismiss a report with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for dismissing the report."), field="reason")
    _claim(report, actor, ReportStatus.dismissed)
    report.dismiss_reason = reason
    _audit(report, actor, {"dismiss_reason": [None, reason]})
