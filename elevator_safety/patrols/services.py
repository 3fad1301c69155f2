"""Daily patrols: submit a patrol (or an out-of-service check), open findings, daily state.

A patrol is a ``patrol`` record in the elevator's chain (records.services.append)
whose body holds the checklist id and version, every item's answer, the
readings as decimal strings with the limits applied, and the photo hashes.
Each failed item (a reading outside its limits is a failed item) opens a
Finding in the same transaction. The caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from elevator_safety.auth.models import Role, User
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.lockouts.services import lockout_state, open_lockout_of
from elevator_safety.patrols import checklists
from elevator_safety.patrols.checklists import Checklist, Item
from elevator_safety.records.models import (
    Finding,
    FindingSource,
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
    site_date,
)
from elevator_safety.rectifications.services import open_finding
from elevator_safety.registry.models import Elevator, ElevatorStatus

#: Roles that record patrols (for their own company's elevators).
PATROL_ROLES = (Role.safety_officer, Role.safety_director)
#: Answers of a pass/fail item.
RESULTS = ("pass", "fail", "na")
#: What a misuse entry says was done about it.
MISUSE_ACTIONS = ("dissuaded", "reported")
#: What the officer found at an out-of-service elevator.
STATUS_SEEN = ("stopped", "under_repair", "in_use")
#: A reading as typed: up to three digits, up to two decimals, optional sign.
READING_RE = re.compile(r"^-?\d{1,3}(?:\.\d{1,2})?$")


# --- permissions --------------------------------------------------------------


def can_patrol(user: User, elevator: Elevator) -> bool:
    """Safety officers and the safety director patrol their own company's elevators."""
    return user.role in PATROL_ROLES and elevator.site.organisation_id == user.organisation_id


# --- answers ------------------------------------------------------------------


@dataclass
class ItemAnswer:
    """The officer's answer to one checklist item."""

    #: pass / fail / na for pass/fail items (readings get theirs from their limits).
    result: str | None = None
    #: The reading, or None when the item was marked not applicable.
    value: Decimal | None = None
    note: str | None = None
    serious: bool = False
    photo: FileStorage | None = None


@dataclass
class MisuseAnswer:
    """A prohibited passenger act observed during the patrol (duty D3)."""

    act: str
    action: str
    note: str | None = None


def parse_reading(text: str | None) -> Decimal | None:
    """Return the number typed in a reading field, or None when it is not one."""
    cleaned = (text or "").strip().replace(",", ".").replace("．", ".").replace("－", "-")
    if not READING_RE.match(cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
        return None


def reading_result(value: Decimal | None, low: Decimal | None, high: Decimal | None) -> str:
    """Return pass, fail (outside the limits) or na (no reading)."""
    if value is None:
        return "na"
    if (low is not None and value < low) or (high is not None and value > high):
        return "fail"
    return "pass"


def limits_text(low: Any, high: Any, unit: str | None) -> str:
    """Return limits as people write them: 5–40 °C, ≤ 85 %RH, ≥ 5 °C."""
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{low}–{high}{unit}"
    if high is not None:
        return f"≤ {high}{unit}"
    if low is not None:
        return f"≥ {low}{unit}"
    return ""


def _store_photo(upload: FileStorage | None, user: User, elevator: Elevator, name: str) -> list:
    """Store one uploaded photo and return [its hash], or [] without a photo."""
    if upload is None:
        return []
    try:
        return [save_photo(upload, user, elevator).sha256]
    except DomainError as error:
        raise DomainError(error.message, field=name) from error


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


# --- findings -----------------------------------------------------------------


def _open_finding(
    record: Record,
    elevator: Elevator,
    *,
    code: str,
    label: str,
    duty: str,
    severity: Severity,
    description: str,
    photos: Sequence[str],
) -> Finding:
    """Open a rectification for a failed item (owned by the property company)."""
    return open_finding(
        site=elevator.site,
        elevator=elevator,
        source=FindingSource.patrol,
        duty=duty,
        item_label=label,
        description=description,
        author=record.author,
        severity=severity,
        source_record=record,
        item_code=code,
        photo_hashes=photos,
    )


def installation_locale():  # type: ignore[no-untyped-def]
    """Write generated texts in the installation's language (findings outlive the reader)."""
    return force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_Hans_CN"))


# --- submitting ---------------------------------------------------------------


def _before_writing(user: User, password: str | None, idempotency_key: str | None) -> None:
    check_signing_password(user, password)
    existing = find_by_idempotency_key(idempotency_key)
    if existing is not None:  # checked before any photo is stored
        raise DuplicateSubmission(existing)


def submit_patrol(
    elevator: Elevator,
    author: User,
    password: str | None,
    checklist: Checklist,
    answers: dict[str, ItemAnswer],
    *,
    now: datetime,
    misuse: MisuseAnswer | None = None,
    note: str | None = None,
    idempotency_key: str | None = None,
) -> Record:
    """Sign and append a patrol; open a finding for each failed item. Return the record."""
    if elevator.status != ElevatorStatus.in_service:
        raise DomainError(_("This elevator is out of service: record its state instead."))
    items = checklist.items_for(elevator.kind.value)
    missing = [item.code for item in items if item.code not in answers]
    if missing:
        raise ValueError(f"answers missing for {', '.join(missing)}")
    _before_writing(author, password, idempotency_key)
    lang = checklists.default_language()
    body_items: dict[str, dict[str, Any]] = {}
    failures: list[tuple[Item, dict[str, Any]]] = []
    for item in items:
        answer = answers[item.code]
        entry: dict[str, Any] = {
            "duty": item.duty,
            "note": _clean(answer.note),
            "photos": _store_photo(answer.photo, author, elevator, f"{item.code}__photo"),
        }
        if item.is_reading:
            low, high = checklists.limits(item)
            entry |= {
                "value": str(answer.value) if answer.value is not None else None,
                "unit": item.unit,
                "min": str(low) if low is not None else None,
                "max": str(high) if high is not None else None,
                "result": reading_result(answer.value, low, high),
            }
        else:
            if answer.result not in RESULTS:
                raise DomainError(_("Choose pass, fail or not applicable."), f"{item.code}__result")
            entry["result"] = answer.result
        entry["severity"] = (
            (Severity.serious if answer.serious else Severity.ordinary).value
            if entry["result"] == "fail"
            else None
        )
        body_items[item.code] = entry
        if entry["result"] == "fail":
            failures.append((item, entry))
    misuse_entry = None
    if misuse is not None:
        if checklists.act(misuse.act) is None or misuse.action not in MISUSE_ACTIONS:
            raise DomainError(_("Choose which prohibited act you saw."), "misuse_act")
        misuse_entry = {"act": misuse.act, "action": misuse.action, "note": _clean(misuse.note)}
    body = {
        "checklist": checklist.id,
        "checklist_version": checklist.version,
        "elevator_kind": elevator.kind.value,
        "out_of_service": False,
        "items": body_items,
        "misuse": misuse_entry,
        "note": _clean(note),
    }
    record = append(
        elevator,
        RecordKind.patrol,
        body,
        author,
        occurred_at=now,
        signatures=[SignatureSpec(author, Meaning.submitted)],
        idempotency_key=idempotency_key,
    )
    for item, entry in failures:
        label = item.label(lang)
        with installation_locale():
            if item.is_reading:
                generated = _(
                    "%(item)s: %(value)s %(unit)s is outside the limits %(limits)s.",
                    item=label,
                    value=entry["value"],
                    unit=entry["unit"],
                    limits=limits_text(entry["min"], entry["max"], entry["unit"]),
                )
                description = f"{generated} {entry['note']}" if entry["note"] else generated
            else:
                description = entry["note"] or _(
                    "Failed at the daily patrol: %(item)s.", item=label
                )
        _open_finding(
            record,
            elevator,
            code=item.code,
            label=label,
            duty=item.duty,
            severity=Severity(entry["severity"]),
            description=description,
            photos=entry["photos"],
        )
    db.session.flush()
    return record


def submit_out_of_service(
    elevator: Elevator,
    author: User,
    password: str | None,
    *,
    now: datetime,
    status_seen: str,
    notice_posted: bool,
    note: str | None = None,
    photo: FileStorage | None = None,
    idempotency_key: str | None = None,
) -> Record:
    """Sign and append the patrol of an out-of-service elevator: the state found.

    A missing out-of-service notice (D8) and an out-of-service elevator found
    carrying passengers (D3, serious) open findings.
    """
    if status_seen not in STATUS_SEEN:
        raise DomainError(_("Choose what you found."), "status_seen")
    _before_writing(author, password, idempotency_key)
    photos = _store_photo(photo, author, elevator, "photo")
    body = {
        "out_of_service": True,
        "registry_status": elevator.status.value,
        "elevator_kind": elevator.kind.value,
        "status_seen": status_seen,
        "notice_posted": notice_posted,
        "note": _clean(note),
        "photos": photos,
        # D8: the patrol records the state of the elevator's open lockout (None without one).
        "lockout": lockout_state(open_lockout_of(elevator)),
    }
    record = append(
        elevator,
        RecordKind.patrol,
        body,
        author,
        occurred_at=now,
        signatures=[SignatureSpec(author, Meaning.submitted)],
        idempotency_key=idempotency_key,
    )
    with installation_locale():
        texts = {
            "notice": _("Out-of-service notice posted at the landings"),
            "no_notice": _("No out-of-service notice was posted."),
            "in_use": _("Out-of-service elevator not carrying passengers"),
            "carrying": _("The out-of-service elevator was carrying passengers."),
        }
    if not notice_posted:
        _open_finding(
            record,
            elevator,
            code="out_of_service_notice",
            label=texts["notice"],
            duty="D8",
            severity=Severity.ordinary,
            description=_clean(note) or texts["no_notice"],
            photos=photos,
        )
    if status_seen == "in_use":
        _open_finding(
            record,
            elevator,
            code="out_of_service_in_use",
            label=texts["in_use"],
            duty="D3",
            severity=Severity.serious,
            description=_clean(note) or texts["carrying"],
            photos=photos,
        )
    db.session.flush()
    return record


# --- daily state and lists ------------------------------------------------------


@dataclass
class DayState:
    """The patrols of one elevator on one calendar day of its site."""

    day: date
    count: int = 0
    last_at: datetime | None = None
    last_id: int | None = None

    @property
    def done(self) -> bool:
        """The daily duty is met by at least one submitted patrol that day."""
        return self.count > 0


def daily_states(elevators: Iterable[Elevator], now: datetime) -> dict[int, DayState]:
    """Return each elevator's patrol state on the current day of its site's time zone."""
    states = {e.id: DayState(day=site_date(e, now)) for e in elevators}
    if not states:
        return states
    days = {state.day for state in states.values()}
    rows = db.session.execute(
        select(
            Record.elevator_id,
            Record.occurred_on,
            func.count(Record.id),
            func.max(Record.occurred_at),
            func.max(Record.id),
        )
        .where(
            Record.kind == RecordKind.patrol,
            Record.elevator_id.in_(list(states)),
            Record.occurred_on.in_(list(days)),
        )
        .group_by(Record.elevator_id, Record.occurred_on)
    )
    for elevator_id, day, count, last_at, last_id in rows:
        state = states[elevator_id]
        if state.day == day:
            state.count, state.last_at, state.last_id = count, last_at, last_id
    return states


def failed_counts(record_ids: Sequence[int]) -> dict[int, int]:
    """Return the number of findings each record opened."""
    if not record_ids:
        return {}
    rows = db.session.execute(
        select(Finding.source_record_id, func.count(Finding.id))
        .where(Finding.source_record_id.in_(list(record_ids)))
        .group_by(Finding.source_record_id)
    )
    return {record_id: count for record_id, count in rows}


def recent_patrols(elevator: Elevator, limit: int = 5) -> list[Record]:
    """Return an elevator's last patrols, newest first."""
    return list(
        db.session.scalars(
            select(Record)
            .where(Record.elevator_id == elevator.id, Record.kind == RecordKind.patrol)
            .order_by(Record.occurred_at.desc(), Record.id.desc())
            .limit(limit)
        )
    )


@dataclass
class PatrolSummary:
    """What a list shows of one patrol."""

    record: Record
    failed: int = 0
    out_of_service: bool = False
    misuse: bool = False
    checklist: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def summaries(records: Sequence[Record]) -> list[PatrolSummary]:
    """Return list rows for patrol records (one query for their findings)."""
    counts = failed_counts([r.id for r in records])
    rows = []
    for record in records:
        body = record.data["body"]
        rows.append(
            PatrolSummary(
                record=record,
                failed=counts.get(record.id, 0),
                out_of_service=bool(body.get("out_of_service")),
                misuse=bool(body.get("misuse")),
                checklist=(
                    f"{body['checklist']} v{body['checklist_version']}"
                    if body.get("checklist")
                    else None
                ),
            )
        )
    return rows
