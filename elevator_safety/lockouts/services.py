"""Fault lockouts (D8): opening here; the later steps are built on it.

Opening a lockout takes the elevator out of service at once, in the same
transaction as the lockout row and the signed ``lockout`` record (step
"opened") appended to the elevator's chain. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from elevator_safety import audit
from elevator_safety.auth.models import OrgKind, Role, User
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import Lockout, LockoutCause, LockoutStatus
from elevator_safety.records.models import Meaning, RecordKind
from elevator_safety.records.services import SignatureSpec, append, check_signing_password
from elevator_safety.registry.models import Elevator, ElevatorStatus

OFFICER_ROLES = (Role.safety_officer, Role.safety_director)
CONTRACTOR_ROLES = (Role.technician, Role.contractor_manager)


def is_company_officer(user: User, elevator: Elevator) -> bool:
    """A safety officer or director of the company that manages the elevator."""
    return (
        user.role in OFFICER_ROLES
        and user.organisation.kind == OrgKind.property_company
        and user.organisation_id == elevator.site.organisation_id
    )


def is_contracted(user: User, elevator: Elevator, on: date) -> bool:
    """A technician or manager of the contractor with the elevator's contract in force."""
    return user.role in CONTRACTOR_ROLES and any(
        c.contractor_id == user.organisation_id and c.is_active(on) for c in elevator.contracts
    )


def can_open_lockout(user: User, elevator: Elevator, on: date) -> bool:
    """The company's safety officers and director, or a technician of the contractor on site."""
    return is_company_officer(user, elevator) or is_contracted(user, elevator, on)


def open_lockout_of(elevator: Elevator) -> Lockout | None:
    """Return the elevator's open lockout, if any."""
    return db.session.scalar(
        select(Lockout).where(
            Lockout.elevator_id == elevator.id, Lockout.status == LockoutStatus.open
        )
    )


def rescue_limit_minutes(elevator: Elevator) -> int:
    """Return the minutes allowed from alarm to rescue arrival at the elevator's site."""
    limits = current_app.config["ENTRAPMENT_ARRIVAL_MINUTES"]
    return int(limits["city"] if elevator.site.is_city else limits["other"])


@dataclass
class EntrapmentInput:
    """An entrapment (困人) reported with the lockout."""

    trapped_count: int
    alarm_at: datetime


def _set_status(elevator: Elevator, status: ElevatorStatus, actor: User, why: str) -> None:
    if elevator.status == status:
        return
    old = elevator.status
    elevator.status = status
    audit.record(
        "update",
        elevator,
        changes={"status": [old.value, status.value], "reason": [None, why]},
        organisation_id=actor.organisation_id,
        user_id=actor.id,
        label=elevator.equipment_code,
    )


def lockout_body(lockout: Lockout, step: str, **details: Any) -> dict[str, Any]:
    """Return the body of a ``lockout`` record: the lockout, the step and its details."""
    return {"lockout_id": lockout.id, "step": step, **details}


def open_lockout(
    elevator: Elevator,
    actor: User,
    password: str | None,
    *,
    cause: LockoutCause,
    description: str,
    occurred_at: datetime | None = None,
    entrapment: EntrapmentInput | None = None,
    idempotency_key: str | None = None,
) -> Lockout:
    """Open a lockout: the elevator is out of service from now on.

    Refused when the elevator already has an open lockout (one per elevator),
    is decommissioned, or the time is in the future.
    """
    check_signing_password(actor, password)
    description = (description or "").strip()
    if not description:
        raise DomainError(_("Describe what happened."), field="description")
    now = now_utc()
    occurred_at = occurred_at or now
    if occurred_at > now:
        raise DomainError(_("The time cannot be in the future."), field="occurred_at")
    if elevator.status == ElevatorStatus.decommissioned:
        raise DomainError(_("This elevator is decommissioned."))
    if open_lockout_of(elevator) is not None:
        raise DomainError(_("This elevator already has an open lockout."))
    if entrapment is not None:
        if entrapment.trapped_count < 1:
            raise DomainError(
                _("Give the number of people trapped (at least 1)."), field="trapped_count"
            )
        if entrapment.alarm_at > now:
            raise DomainError(_("The time cannot be in the future."), field="alarm_at")
    lockout = Lockout(
        elevator_id=elevator.id,
        status=LockoutStatus.open,
        cause=cause,
        description=description,
        status_before=elevator.status,
        opened_at=occurred_at,
        opened_by_id=actor.id,
        entrapment=entrapment is not None,
        trapped_count=entrapment.trapped_count if entrapment else None,
        alarm_at=entrapment.alarm_at if entrapment else None,
        rescue_limit_minutes=rescue_limit_minutes(elevator) if entrapment else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(lockout)
            db.session.flush()
    except IntegrityError:
        raise DomainError(_("This elevator already has an open lockout.")) from None
    append(
        elevator,
        RecordKind.lockout,
        lockout_body(
            lockout,
            "opened",
            cause=cause.value,
            description=description,
            status_before=lockout.status_before.value,
            entrapment=(
                {
                    "trapped_count": entrapment.trapped_count,
                    "alarm_at": entrapment.alarm_at,
                    "rescue_limit_minutes": lockout.rescue_limit_minutes,
                }
                if entrapment
                else None
            ),
        ),
        actor,
        occurred_at=occurred_at,
        signatures=[SignatureSpec(actor, Meaning.recorded)],
        idempotency_key=idempotency_key,
    )
    _set_status(elevator, ElevatorStatus.out_of_service, actor, "lockout")
    audit.record(
        "create",
        lockout,
        changes=audit.snapshot(lockout, ["cause", "entrapment", "opened_at"]),
        organisation_id=actor.organisation_id,
        user_id=actor.id,
        label=f"{elevator.equipment_code} lockout",
    )
    return lockout
