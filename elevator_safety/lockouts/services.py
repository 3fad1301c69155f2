"""Fault lockouts (停用, duty D8) and entrapments (困人): opening, the steps, the lists.

Opening a lockout takes the elevator out of service at once, in the same
transaction as the lockout row and the signed ``lockout`` record (step
"opened") appended to the elevator's chain. Every later step (notice posted,
contractor notified, contractor arrived, repaired, rescue arrived, people
released, returned to service, cancelled) appends its own signed ``lockout``
record and updates the row (audited). The caller commits.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from elevator_safety import audit
from elevator_safety.auth.models import OrgKind, Role, User
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import Lockout, LockoutCause, LockoutStatus, NotifyChannel
from elevator_safety.records.models import (
    Finding,
    FindingStatus,
    Meaning,
    Record,
    RecordKind,
    Severity,
)
from elevator_safety.records.photos import save_photo
from elevator_safety.records.services import (
    DuplicateSubmission,
    SignatureSpec,
    append,
    check_signing_password,
    find_by_idempotency_key,
)
from elevator_safety.registry.models import Elevator, ElevatorStatus
from elevator_safety.scoping import elevator_scope, local_today

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


# --- the steps after opening ---------------------------------------------------------------


class Step(enum.StrEnum):
    """The steps of a lockout; each one is a signed ``lockout`` record."""

    opened = "opened"  # 停用: the elevator is out of service
    notice_posted = "notice_posted"  # 停用/禁止使用 notice posted in a visible place
    contractor_notified = "contractor_notified"  # 通知维保单位
    contractor_arrived = "contractor_arrived"  # 维保人员到场
    repaired = "repaired"  # 维修: the contractor's repair record
    rescue_arrived = "rescue_arrived"  # 救援到场 (entrapment)
    released = "released"  # 解困 (entrapment)
    returned = "returned"  # 恢复使用, by the safety officer
    cancelled = "cancelled"  # 撤销: a false alarm, with its reason


STEP_LABELS = {
    Step.opened: _l("Lockout opened"),
    Step.notice_posted: _l("Prohibition notice posted"),
    Step.contractor_notified: _l("Contractor notified"),
    Step.contractor_arrived: _l("Contractor arrived"),
    Step.repaired: _l("Repair recorded"),
    Step.rescue_arrived: _l("Rescue arrived"),
    Step.released: _l("People released"),
    Step.returned: _l("Returned to service"),
    Step.cancelled: _l("Lockout cancelled"),
}

#: Roles that may take each step at all (others: 403). Who exactly: ``may_take``.
STEP_ROLES: dict[Step, tuple[Role, ...]] = {
    Step.notice_posted: OFFICER_ROLES + CONTRACTOR_ROLES,
    Step.contractor_notified: OFFICER_ROLES,
    Step.contractor_arrived: OFFICER_ROLES + CONTRACTOR_ROLES,
    Step.repaired: CONTRACTOR_ROLES,
    Step.rescue_arrived: OFFICER_ROLES + CONTRACTOR_ROLES,
    Step.released: OFFICER_ROLES + CONTRACTOR_ROLES,
    Step.returned: OFFICER_ROLES,
    Step.cancelled: OFFICER_ROLES,
}
#: Roles that may open a lockout at all.
OPEN_ROLES = OFFICER_ROLES + CONTRACTOR_ROLES
#: Entrapment steps: only for a lockout with an entrapment.
ENTRAPMENT_STEPS = (Step.rescue_arrived, Step.released)
#: Longest free texts kept in a record.
MAX_TEXT = 2000


def may_take(user: User, lockout: Lockout, step: Step, on: date) -> bool:
    """Whether the user is a party that may take the step on this lockout.

    The company's safety officers and director take the officer's steps; the
    technicians and manager of the contractor with the contract in force take
    the contractor's steps (the repair only them).
    """
    if user.role not in STEP_ROLES.get(step, ()):
        return False
    elevator = lockout.elevator
    officer_side = step in (Step.contractor_notified, Step.returned, Step.cancelled)
    contractor_side = step is Step.repaired
    if officer_side:
        return is_company_officer(user, elevator)
    if contractor_side:
        return is_contracted(user, elevator, on)
    return is_company_officer(user, elevator) or is_contracted(user, elevator, on)


def may_take_role(user: User, step: Step) -> bool:
    """Whether the user's role may take the step on some lockout."""
    return user.role in STEP_ROLES.get(step, ())


def _clean(text: str | None, limit: int = MAX_TEXT) -> str | None:
    text = (text or "").strip()
    return text[:limit] or None


def serious_findings_open(lockout: Lockout) -> list[Finding]:
    """Return the serious findings linked to the lockout that are not completed yet."""
    return list(
        db.session.scalars(
            select(Finding)
            .where(
                Finding.lockout_id == lockout.id,
                Finding.severity == Severity.serious,
                Finding.status.not_in([FindingStatus.completed, FindingStatus.verified]),
            )
            .order_by(Finding.id)
        )
    )


def step_refusal(lockout: Lockout, step: Step, now: datetime | None = None) -> str | None:
    """Return why the step cannot be taken now on this lockout, or None when it can."""
    if not lockout.is_open:
        return _("This lockout is closed (%(status)s).", status=lockout.status_label)
    if step in ENTRAPMENT_STEPS and not lockout.entrapment:
        return _("This lockout has no entrapment.")
    if step is Step.notice_posted and lockout.notice_posted_at is not None:
        return _("The prohibition notice was already recorded.")
    if step is Step.contractor_notified and lockout.notified_at is not None:
        return _("The contractor's notification was already recorded.")
    if step is Step.contractor_arrived and lockout.contractor_arrived_at is not None:
        return _("The contractor's arrival was already recorded.")
    if step is Step.repaired and lockout.contractor_arrived_at is None:
        return _("Record the contractor's arrival before the repair.")
    if step is Step.rescue_arrived and lockout.rescue_arrived_at is not None:
        return _("The rescue's arrival was already recorded.")
    if step is Step.released:
        if lockout.released_at is not None:
            return _("The release of the trapped people was already recorded.")
        if lockout.rescue_arrived_at is None:
            return _("Record the rescue's arrival before the release.")
    if step is Step.returned:
        return return_refusal(lockout)
    return None


def return_refusal(lockout: Lockout) -> str | None:
    """Return why the elevator cannot be returned to service yet, or None."""
    missing = []
    if lockout.notice_posted_at is None:
        missing.append(_("the prohibition notice"))
    if lockout.notified_at is None:
        missing.append(_("the contractor's notification"))
    if lockout.repair_record_id is None:
        missing.append(_("the contractor's repair record"))
    if lockout.entrapment and lockout.released_at is None:
        missing.append(_("the release of the trapped people"))
    if missing:
        return _(
            "The elevator cannot be returned to service before these are recorded: %(steps)s.",
            steps=", ".join(missing),
        )
    serious = serious_findings_open(lockout)
    if serious:
        return _(
            "The serious hazard %(items)s is not rectified yet: complete its rectification "
            "before returning the elevator to service.",
            items=", ".join(f"#{f.id} {f.item_label}" for f in serious),
        )
    return None


def _check_time(
    lockout: Lockout,
    moment: datetime | None,
    now: datetime,
    *,
    field: str = "occurred_at",
    not_before: datetime | None = None,
    not_before_message: str | None = None,
) -> datetime:
    """Return the step's time: now by default, never in the future or before the lockout."""
    moment = moment or now
    if moment > now:
        raise DomainError(_("The time cannot be in the future."), field=field)
    earliest = not_before or lockout.opened_at
    if moment < earliest:
        raise DomainError(
            not_before_message or _("The time cannot be before the lockout was opened."),
            field=field,
        )
    return moment


def _store_photo(upload: FileStorage | None, actor: User, elevator: Elevator) -> list[str]:
    """Store an optional photo and return [its hash] (or [])."""
    if upload is None or not getattr(upload, "filename", None):
        return []
    try:
        return [save_photo(upload, actor, elevator).sha256]
    except DomainError as error:
        raise DomainError(error.message, field="photo") from error


def _begin(
    lockout: Lockout,
    actor: User,
    password: str | None,
    step: Step,
    idempotency_key: str | None,
    now: datetime,
) -> None:
    """Refuse a duplicate form, a party not allowed, a step out of order, a wrong password."""
    existing = find_by_idempotency_key(idempotency_key)
    if existing is not None:
        raise DuplicateSubmission(existing)
    if not may_take(actor, lockout, step, local_today(now)):
        raise DomainError(_("You may not record this step of the lockout."))
    refusal = step_refusal(lockout, step, now)
    if refusal:
        raise DomainError(refusal)
    check_signing_password(actor, password)


def _write(
    lockout: Lockout,
    actor: User,
    step: Step,
    occurred_at: datetime,
    details: dict[str, Any],
    *,
    meaning: Meaning = Meaning.recorded,
    reason: str | None = None,
    idempotency_key: str | None = None,
    changes: dict[str, Any],
) -> Record:
    """Append the step's record and apply the changes to the row, audited."""
    record = append(
        lockout.elevator,
        RecordKind.lockout,
        lockout_body(lockout, step.value, **details),
        actor,
        occurred_at=occurred_at,
        signatures=[SignatureSpec(actor, meaning, reason=reason)],
        idempotency_key=idempotency_key,
    )
    if step is Step.repaired:  # the lockout points to the latest repair record
        changes = {**changes, "repair_record_id": record.id}
    audit_changes: dict[str, list[Any]] = {}
    for name, value in changes.items():
        old = getattr(lockout, name)
        setattr(lockout, name, value)
        audit_changes[name] = [_plain(old), _plain(value)]
    audit_changes["step"] = [None, step.value]
    audit.record(
        "update",
        lockout,
        changes=audit_changes,
        organisation_id=actor.organisation_id,
        user_id=actor.id,
        label=f"{lockout.elevator.equipment_code} lockout #{lockout.id}",
    )
    db.session.flush()
    return record


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def post_notice(
    lockout: Lockout,
    actor: User,
    password: str | None,
    *,
    occurred_at: datetime | None = None,
    photo: FileStorage | None = None,
    note: str | None = None,
    idempotency_key: str | None = None,
) -> Record:
    """Record the prohibition notice posted in a visible place (the lockout is secured)."""
    now = now_utc()
    _begin(lockout, actor, password, Step.notice_posted, idempotency_key, now)
    moment = _check_time(lockout, occurred_at, now)
    photos = _store_photo(photo, actor, lockout.elevator)
    return _write(
        lockout,
        actor,
        Step.notice_posted,
        moment,
        {"posted_at": moment, "note": _clean(note), "photos": photos},
        idempotency_key=idempotency_key,
        changes={"notice_posted_at": moment},
    )


def notify_contractor(
    lockout: Lockout,
    actor: User,
    password: str | None,
    *,
    channel: NotifyChannel | str | None,
    party: str | None,
    occurred_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> Record:
    """Record how and whom the contractor was notified (phone, app, 96333 platform)."""
    now = now_utc()
    _begin(lockout, actor, password, Step.contractor_notified, idempotency_key, now)
    if channel not in NotifyChannel._value2member_map_:
        raise DomainError(_("Choose how the contractor was notified."), field="channel")
    who = _clean(party, 200)
    if not who:
        raise DomainError(_("Say who was called at the contractor."), field="party")
    moment = _check_time(lockout, occurred_at, now)
    chosen = NotifyChannel(str(channel))
    contract = lockout.elevator.active_contract(local_today(moment))
    return _write(
        lockout,
        actor,
        Step.contractor_notified,
        moment,
        {
            "notified_at": moment,
            "channel": chosen.value,
            "party": who,
            "contractor": contract.contractor.name if contract else None,
            "contractor_id": contract.contractor_id if contract else None,
        },
        idempotency_key=idempotency_key,
        changes={"notified_at": moment, "notify_channel": chosen, "notified_party": who},
    )


def record_arrival(
    lockout: Lockout,
    actor: User,
    password: str | None,
    *,
    occurred_at: datetime | None = None,
    idempotency_key: str | None = None,
) -> Record:
    """Record the contractor's arrival on site."""
    now = now_utc()
    _begin(lockout, actor, password, Step.contractor_arrived, idempotency_key, now)
    moment = _check_time(lockout, occurred_at, now)
    return _write(
        lockout,
        actor,
        Step.contractor_arrived,
        moment,
        {"arrived_at": moment},
        idempotency_key=idempotency_key,
        changes={"contractor_arrived_at": moment},
    )


def record_repair(
    lockout: Lockout,
    actor: User,
    password: str | None,
    *,
    found: str | None,
    parts_replaced: list[str] | None = None,
    occurred_at: datetime | None = None,
    photo: FileStorage | None = None,
    idempotency_key: str | None = None,
) -> Record:
    """Record the contractor's repair: what was found, the parts replaced (维修记录).

    Needs the arrival recorded first. A second repair (the first did not hold)
    is a new record; the lockout then points to the latest one.
    """
    now = now_utc()
    _begin(lockout, actor, password, Step.repaired, idempotency_key, now)
    what = _clean(found)
    if not what:
        raise DomainError(_("Say what was found and repaired."), field="found")
    assert lockout.contractor_arrived_at is not None  # noqa: S101 - step_refusal checked it
    moment = _check_time(
        lockout,
        occurred_at,
        now,
        not_before=lockout.contractor_arrived_at,
        not_before_message=_("The repair cannot be before the contractor's arrival."),
    )
    parts = [part[:200] for part in (p.strip() for p in parts_replaced or []) if part]
    photos = _store_photo(photo, actor, lockout.elevator)
    return _write(
        lockout,
        actor,
        Step.repaired,
        moment,
        {
            "repaired_at": moment,
            "found": what,
            "parts_replaced": parts,
            "photos": photos,
            "technician": {
                "user_id": actor.id,
                "name": actor.name,
                "certificate_no": actor.certificate_no,
            },
        },
        idempotency_key=idempotency_key,
        changes={"repaired_at": moment},
    )


def record_rescue_arrival(
    lockout: Lockout,
    actor: User,
    password: str | None,
    *,
    occurred_at: datetime | None = None,
    late_reason: str | None = None,
    idempotency_key: str | None = None,
) -> Record:
    """Record the rescue's arrival at an entrapment; late is late whatever the reason."""
    now = now_utc()
    _begin(lockout, actor, password, Step.rescue_arrived, idempotency_key, now)
    assert lockout.alarm_at is not None  # noqa: S101 - an entrapment has its alarm time
    moment = _check_time(
        lockout,
        occurred_at,
        now,
        not_before=lockout.alarm_at,
        not_before_message=_("The rescue cannot arrive before the alarm."),
    )
    reason = _clean(late_reason)
    elapsed = moment - lockout.alarm_at
    late = elapsed > timedelta(minutes=lockout.rescue_limit_minutes or 0)
    return _write(
        lockout,
        actor,
        Step.rescue_arrived,
        moment,
        {
            "rescue_arrived_at": moment,
            "alarm_at": lockout.alarm_at,
            "elapsed_seconds": int(elapsed.total_seconds()),
            "limit_minutes": lockout.rescue_limit_minutes,
            "late": late,
            "late_reason": reason,
        },
        idempotency_key=idempotency_key,
        changes={"rescue_arrived_at": moment, "late_reason": reason},
    )


def record_release(
    lockout: Lockout,
    actor: User,
    password: str | None,
    *,
    occurred_at: datetime | None = None,
    injured_count: int | None = 0,
    injuries: str | None = None,
    idempotency_key: str | None = None,
) -> Record:
    """Record when the trapped people were released, and any injuries."""
    now = now_utc()
    _begin(lockout, actor, password, Step.released, idempotency_key, now)
    injured = injured_count or 0
    if injured < 0 or injured > (lockout.trapped_count or 0):
        raise DomainError(
            _(
                "The number injured is between 0 and the number trapped (%(num)d).",
                num=lockout.trapped_count or 0,
            ),
            field="injured_count",
        )
    text = _clean(injuries)
    if injured and not text:
        raise DomainError(_("Describe the injuries."), field="injuries")
    assert lockout.rescue_arrived_at is not None  # noqa: S101 - step_refusal checked it
    moment = _check_time(
        lockout,
        occurred_at,
        now,
        not_before=lockout.rescue_arrived_at,
        not_before_message=_("The release cannot be before the rescue arrived."),
    )
    return _write(
        lockout,
        actor,
        Step.released,
        moment,
        {"released_at": moment, "injured_count": injured, "injuries": text},
        idempotency_key=idempotency_key,
        changes={"released_at": moment, "injured_count": injured, "injuries": text},
    )


def return_to_service(
    lockout: Lockout,
    actor: User,
    password: str | None,
    *,
    occurred_at: datetime | None = None,
    note: str | None = None,
    idempotency_key: str | None = None,
) -> Record:
    """The safety officer returns the elevator to service after the contractor's repair.

    Refused until the notice, the notification and the repair record (and, with
    an entrapment, the release) are recorded, and while a serious hazard linked
    to the lockout is not rectified. Restores the elevator's status from before.
    """
    now = now_utc()
    _begin(lockout, actor, password, Step.returned, idempotency_key, now)
    assert lockout.repaired_at is not None  # noqa: S101 - return_refusal checked it
    moment = _check_time(
        lockout,
        occurred_at,
        now,
        not_before=lockout.repaired_at,
        not_before_message=_("The return to service cannot be before the repair."),
    )
    record = _write(
        lockout,
        actor,
        Step.returned,
        moment,
        {
            "returned_at": moment,
            "repair_record_id": lockout.repair_record_id,
            "status_after": lockout.status_before.value,
            "note": _clean(note),
        },
        meaning=Meaning.returned_to_service,
        idempotency_key=idempotency_key,
        changes={
            "status": LockoutStatus.returned,
            "returned_at": moment,
            "returned_by_id": actor.id,
        },
    )
    _set_status(lockout.elevator, lockout.status_before, actor, "lockout returned")
    db.session.flush()
    return record


def cancel_lockout(
    lockout: Lockout,
    actor: User,
    password: str | None,
    *,
    reason: str | None,
    idempotency_key: str | None = None,
) -> Record:
    """Cancel a lockout opened by mistake (a false alarm): the reason is recorded, not erased."""
    now = now_utc()
    _begin(lockout, actor, password, Step.cancelled, idempotency_key, now)
    why = _clean(reason)
    if not why:
        raise DomainError(_("Give the reason for the cancellation."), field="reason")
    record = _write(
        lockout,
        actor,
        Step.cancelled,
        now,
        {"cancelled_at": now, "reason": why, "status_after": lockout.status_before.value},
        meaning=Meaning.cancelled,
        reason=why,
        idempotency_key=idempotency_key,
        changes={"status": LockoutStatus.cancelled, "cancelled_at": now, "cancel_reason": why},
    )
    _set_status(lockout.elevator, lockout.status_before, actor, "lockout cancelled")
    db.session.flush()
    return record


# --- entrapment timer and flags -------------------------------------------------------------


def rescue_elapsed(lockout: Lockout, now: datetime | None = None) -> timedelta | None:
    """Return the time from the alarm to the rescue's arrival (or to now while under way)."""
    if not lockout.entrapment or lockout.alarm_at is None:
        return None
    end = lockout.rescue_arrived_at or now or now_utc()
    return max(end - lockout.alarm_at, timedelta(0))


def rescue_late(lockout: Lockout, now: datetime | None = None) -> bool | None:
    """Whether the rescue arrived (or is still awaited) after the limit; None without entrapment.

    Exactly the limit is in time; a second more is late.
    """
    elapsed = rescue_elapsed(lockout, now)
    if elapsed is None:
        return None
    return elapsed > timedelta(minutes=lockout.rescue_limit_minutes or 0)


def rescue_under_way(lockout: Lockout) -> bool:
    """Whether people wait for the rescue: an open entrapment whose rescue has not arrived."""
    return lockout.is_open and lockout.entrapment and lockout.rescue_arrived_at is None


def clock_text(elapsed: timedelta | None) -> str:
    """Return a duration as minutes:seconds (minutes may exceed 59)."""
    if elapsed is None:
        return ""
    seconds = int(elapsed.total_seconds())
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def notify_minutes() -> int:
    """Return the minutes allowed for posting the notice and notifying the contractor."""
    return int(current_app.config["LOCKOUT_NOTIFY_MINUTES"])


def late_steps(lockout: Lockout, now: datetime | None = None) -> list[Step]:
    """Return the first steps (notice, notification) done, or still missing, after the limit."""
    limit = lockout.opened_at + timedelta(minutes=notify_minutes())
    now = now or now_utc()
    late = []
    for step, at in (
        (Step.notice_posted, lockout.notice_posted_at),
        (Step.contractor_notified, lockout.notified_at),
    ):
        if (at is not None and at > limit) or (at is None and lockout.is_open and now > limit):
            late.append(step)
    return late


def is_long_running(lockout: Lockout, now: datetime | None = None) -> bool:
    """Whether an open lockout has lasted more than LOCKOUT_LONG_DAYS."""
    days = int(current_app.config["LOCKOUT_LONG_DAYS"])
    return lockout.is_open and (now or now_utc()) - lockout.opened_at > timedelta(days=days)


def next_steps(lockout: Lockout) -> list[Step]:
    """Return the steps that can be taken now, in the usual order."""
    order = [
        Step.rescue_arrived,
        Step.released,
        Step.notice_posted,
        Step.contractor_notified,
        Step.contractor_arrived,
        Step.repaired,
        Step.returned,
    ]
    if not lockout.is_open:
        return []
    return [step for step in order if step_refusal(lockout, step) is None]


# --- lists, the elevator page and the home page ---------------------------------------------


def scoped_lockouts(user: User) -> Select[tuple[Lockout]]:
    """Return a select() of the lockouts of the elevators the user may see."""
    return select(Lockout).join(Lockout.elevator).join(Elevator.site).where(elevator_scope(user))


def get_lockout(user: User, lockout_id: int) -> Lockout | None:
    """Load a lockout of an elevator the user may see, or None."""
    return db.session.scalar(scoped_lockouts(user).where(Lockout.id == lockout_id))


def lockouts_of(elevator: Elevator, limit: int = 5) -> list[Lockout]:
    """Return an elevator's last lockouts, newest first."""
    return list(
        db.session.scalars(
            select(Lockout)
            .where(Lockout.elevator_id == elevator.id)
            .order_by(Lockout.opened_at.desc(), Lockout.id.desc())
            .limit(limit)
        )
    )


def open_lockout_ids(elevator_ids: Iterable[int]) -> set[int]:
    """Return which of the elevators have an open lockout (one query)."""
    ids = list(elevator_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(Lockout.elevator_id).where(
                Lockout.elevator_id.in_(ids), Lockout.status == LockoutStatus.open
            )
        )
    )


def count_open_lockouts(user: User) -> int:
    """Return the number of open lockouts in the user's scope (home dashboard)."""
    query = scoped_lockouts(user).where(Lockout.status == LockoutStatus.open)
    return int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def open_lockouts_for(user: User, limit: int = 10) -> list[Lockout]:
    """Return the user's open lockouts, entrapments first, oldest first (home dashboard)."""
    return list(
        db.session.scalars(
            scoped_lockouts(user)
            .where(Lockout.status == LockoutStatus.open)
            .order_by(Lockout.entrapment.desc(), Lockout.opened_at, Lockout.id)
            .limit(limit)
        )
    )


def records_of(lockout: Lockout) -> list[Record]:
    """Return the ``lockout`` records of this lockout, in chain order."""
    rows = db.session.scalars(
        select(Record)
        .where(Record.elevator_id == lockout.elevator_id, Record.kind == RecordKind.lockout)
        .order_by(Record.seq)
    )
    return [r for r in rows if r.data["body"].get("lockout_id") == lockout.id]


def lockout_state(lockout: Lockout | None) -> dict[str, Any] | None:
    """Return the lockout's state as stored in a patrol of the out-of-service elevator."""
    if lockout is None:
        return None
    return {
        "id": lockout.id,
        "status": lockout.status.value,
        "cause": lockout.cause.value,
        "opened_at": lockout.opened_at,
        "notice_posted": lockout.notice_posted_at is not None,
        "contractor_notified": lockout.notified_at is not None,
        "contractor_arrived": lockout.contractor_arrived_at is not None,
        "repaired": lockout.repair_record_id is not None,
        "entrapment": lockout.entrapment,
    }


def locked_message(lockout: Lockout) -> str:
    """Return the refusal of a normal maintenance record while the elevator is locked out."""
    return _(
        "This elevator is locked out (lockout #%(id)d): repairs are recorded on the lockout, "
        "and maintenance records of a normal level wait until it is returned to service.",
        id=lockout.id,
    )
