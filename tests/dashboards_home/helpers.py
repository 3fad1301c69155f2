"""Helpers of the home-panel tests: visits, reviews, lockouts and findings via the services."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, render_template_string
from flask_login import login_user

from elevator_safety.auth.models import User
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.lockouts import services as lockouts
from elevator_safety.lockouts.models import Lockout, LockoutCause
from elevator_safety.maintenance import services as maintenance
from elevator_safety.maintenance.items import items_for
from elevator_safety.records.forms import new_token
from elevator_safety.records.models import Finding, FindingSource, Record, Severity
from elevator_safety.rectifications.services import open_finding
from elevator_safety.registry.models import Elevator, MaintenanceLevel
from tests.factories import PASSWORD, Side

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Return today in the sites' zone."""
    return datetime.now(SHANGHAI).date()


def visit(
    elevator: Elevator, technician: User, *, level: str = "half_monthly", days_ago: int = 0
) -> Record:
    """Record a valid maintenance visit through the service, and commit."""
    record = maintenance.record_visit(
        elevator,
        technician,
        maintenance.VisitInput(
            level=level,
            visit_date=today() - timedelta(days=days_ago),
            arrival=time(9, 0),
            departure=time(10, 30),
            technician_ids=[technician.id],
            coworkers=[maintenance.Coworker("李四", "T-5678")],
            answers={
                item.code: ("done", None)
                for item in items_for(elevator.kind, MaintenanceLevel(level))
            },
        ),
        PASSWORD,
        idempotency_key=new_token(),
    )
    db.session.commit()
    return record


def confirm(record: Record, user: User) -> Record:
    """Confirm a visit on site, and commit."""
    made = maintenance.confirm(record, user, PASSWORD, idempotency_key=new_token())
    db.session.commit()
    return made


def reject(record: Record, user: User, reason: str = "Pit not cleaned") -> Record:
    """Reject a visit, and commit."""
    made = maintenance.reject(record, user, PASSWORD, reason, idempotency_key=new_token())
    db.session.commit()
    return made


def lock_out(side: Side, elevator: Elevator, *, trapped: int | None = None) -> Lockout:
    """Open a lockout as the side's officer, and commit."""
    entrapment = (
        lockouts.EntrapmentInput(trapped_count=trapped, alarm_at=now_utc()) if trapped else None
    )
    lockout = lockouts.open_lockout(
        elevator,
        side.officer,
        PASSWORD,
        cause=LockoutCause.fault,
        description="轿厢停在两层之间",
        entrapment=entrapment,
    )
    db.session.commit()
    return lockout


def finding(
    side: Side,
    *,
    label: str = "Pit lighting broken",
    hours: int = 48,
    contractor: bool = False,
    elevator: Elevator | None = None,
) -> Finding:
    """Open an ordinary rectification due in ``hours`` (negative: overdue), and commit."""
    made = open_finding(
        site=side.site,
        elevator=elevator or side.elevators[0],
        source=FindingSource.manual,
        duty="D5",
        item_label=label,
        description=label,
        author=side.officer,
        severity=Severity.ordinary,
        owner_organisation_id=side.contractor.id if contractor else None,
        deadline=now_utc() + timedelta(hours=hours),
    )
    db.session.commit()
    return made


def render(app: Flask, user: User, template: str) -> str:
    """Render one panel template for a logged-in user."""
    with app.test_request_context("/"):
        login_user(user)
        return render_template_string('{% include "' + template + '" %}')
