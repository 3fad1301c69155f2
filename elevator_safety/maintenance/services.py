"""Maintenance visits (D1): record them, confirm them on site or reject them.

A visit is a ``maintenance`` record in the elevator's chain; its data lives in
the record's canonical content. Its review is a ``confirmation`` or
``rejection`` record whose ``subject_id`` is the visit: the state of a visit is
derived from those (there is no mutable state column). Problems found become
rows of ``Finding`` owned by the property company.

The functions add and flush; the caller (request, command) commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased
from werkzeug.datastructures import FileStorage

from elevator_safety import config as config_defaults
from elevator_safety.auth.models import Role, User
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.lockouts.services import locked_message, open_lockout_of
from elevator_safety.maintenance.items import LEVEL_ORDER, ItemList, field_name, list_for
from elevator_safety.records.models import (
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
)
from elevator_safety.rectifications.services import open_finding
from elevator_safety.registry.models import (
    LEVEL_LABELS,
    Contract,
    Elevator,
    MaintenanceLevel,
)

#: Roles of a contractor that record maintenance.
TECHNICIAN_ROLES = (Role.technician, Role.contractor_manager)
#: Roles of a property company that review maintenance (who exactly: can_review).
REVIEWER_ROLES = (Role.safety_officer, Role.safety_director)

#: How each maintenance item was handled.
RESULTS = ("done", "adjusted", "replaced", "not_applicable")
RESULT_LABELS = {
    "done": _l("Done"),
    "adjusted": _l("Adjusted"),
    "replaced": _l("Part replaced"),
    "not_applicable": _l("Not applicable"),
}

#: The states of a visit, derived from its review records.
AWAITING, CONFIRMED, REJECTED = "awaiting", "confirmed", "rejected"
STATES = (AWAITING, CONFIRMED, REJECTED)
STATE_LABELS = {
    AWAITING: _l("Awaiting confirmation"),
    CONFIRMED: _l("Confirmed on site"),
    REJECTED: _l("Rejected"),
}

#: The words of the signatures, stored in the content (the regulation's language).
CONFIRMED_STATEMENT = "现场监督确认"
REJECTED_STATEMENT = "退回"

#: Longest free texts kept in a record.
MAX_NOTE = 500
MAX_TEXT = 2000


def interval_days() -> dict[MaintenanceLevel, int]:
    """Return the longest gap allowed between confirmed visits of each level."""
    # A site may override some levels only; the others keep config.py's defaults.
    configured = config_defaults.MAINTENANCE_INTERVAL_DAYS | (
        current_app.config.get("MAINTENANCE_INTERVAL_DAYS") or {}
    )
    return {level: int(configured[level.value]) for level in LEVEL_ORDER}


def min_technicians() -> int:
    """Return how many certified technicians must be present at a visit."""
    return int(current_app.config["MAINTENANCE_MIN_TECHNICIANS"])  # default in config.py


def site_zone(elevator: Elevator) -> ZoneInfo:
    """Return the time zone of the elevator's site."""
    return ZoneInfo(elevator.site.timezone or "Asia/Shanghai")


def site_today(elevator: Elevator, now: datetime | None = None) -> date:
    """Return today's date at the elevator's site."""
    return (now or now_utc()).astimezone(site_zone(elevator)).date()


def level_label(level: str | MaintenanceLevel | None) -> str:
    """Return a level in the user's language (the raw value if unknown)."""
    try:
        return str(LEVEL_LABELS[MaintenanceLevel(level)]) if level else "—"
    except ValueError:
        return str(level)


# --- who may do what --------------------------------------------------------


def contract_for_visit(elevator: Elevator, user: User, on: date) -> Contract | None:
    """Return the user's company's contract in force for the elevator on a date."""
    for contract in elevator.contracts:
        if contract.contractor_id == user.organisation_id and contract.is_active(on):
            return contract
    return None


def can_record(user: User, elevator: Elevator, on: date) -> bool:
    """Technicians of the contractor with the active contract record maintenance."""
    return user.role in TECHNICIAN_ROLES and contract_for_visit(elevator, user, on) is not None


def can_review(user: User, record: Record) -> bool:
    """The elevator's responsible safety officer, or the company's safety director."""
    if record.kind != RecordKind.maintenance:
        return False
    elevator = record.elevator
    if user.role == Role.safety_officer:
        return elevator.safety_officer_id == user.id
    if user.role == Role.safety_director:
        return elevator.site.organisation_id == user.organisation_id
    return False


def eligible_technicians(organisation_id: int) -> list[User]:
    """Return the active technicians and managers of a contractor."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.organisation_id == organisation_id,
                User.role.in_(TECHNICIAN_ROLES),
                User.active.is_(True),
            )
            .order_by(User.name, User.id)
        )
    )


# --- state ------------------------------------------------------------------


def _review_exists(kind: RecordKind):  # type: ignore[no-untyped-def]
    review = aliased(Record)
    return exists().where(and_(review.subject_id == Record.id, review.kind == kind))


def state_clause(state: str):  # type: ignore[no-untyped-def]
    """Return a WHERE clause on Record selecting the maintenance records in a state."""
    confirmed = _review_exists(RecordKind.confirmation)
    rejected = _review_exists(RecordKind.rejection)
    if state == CONFIRMED:
        return confirmed
    if state == REJECTED:
        return and_(rejected, ~confirmed)
    return and_(~confirmed, ~rejected)


def reviews_of(record_ids: Iterable[int]) -> dict[int, Record]:
    """Return the review (confirmation first, else rejection) of each reviewed record."""
    ids = list(record_ids)
    if not ids:
        return {}
    found: dict[int, Record] = {}
    rows = db.session.scalars(
        select(Record)
        .where(
            Record.subject_id.in_(ids),
            Record.kind.in_([RecordKind.confirmation, RecordKind.rejection]),
        )
        .order_by(Record.seq)
    )
    for review in rows:
        assert review.subject_id is not None  # noqa: S101 - the query selects subjects
        current = found.get(review.subject_id)
        if current is None or (
            current.kind == RecordKind.rejection and review.kind == RecordKind.confirmation
        ):
            found[review.subject_id] = review
    return found


def state_from(review: Record | None) -> str:
    """Return the state a review gives a visit."""
    if review is None:
        return AWAITING
    return CONFIRMED if review.kind == RecordKind.confirmation else REJECTED


def state_of(record: Record) -> str:
    """Return awaiting, confirmed or rejected for a maintenance record."""
    return state_from(reviews_of([record.id]).get(record.id))


# --- days since the last confirmed visit of each level ---------------------


def last_confirmed_by_level(elevator: Elevator) -> dict[MaintenanceLevel, date | None]:
    """Return the day of the last confirmed visit of each level, in one query.

    Levels are cumulative: a confirmed quarterly visit is also the last
    half-monthly visit if it is the latest of the two.
    """
    rows = db.session.execute(
        select(Record.level, func.max(Record.occurred_on))
        .where(
            Record.elevator_id == elevator.id,
            Record.kind == RecordKind.maintenance,
            _review_exists(RecordKind.confirmation),
        )
        .group_by(Record.level)
    ).all()
    per_level: dict[MaintenanceLevel, date] = {}
    for level, day in rows:
        if level in MaintenanceLevel._value2member_map_ and day is not None:
            per_level[MaintenanceLevel(level)] = day
    result: dict[MaintenanceLevel, date | None] = {}
    for index, level in enumerate(LEVEL_ORDER):
        days = [per_level[lv] for lv in LEVEL_ORDER[index:] if lv in per_level]
        result[level] = max(days) if days else None
    return result


@dataclass
class LevelStatus:
    """How long ago a level was last done (confirmed), against its interval."""

    level: MaintenanceLevel
    last: date | None
    days: int | None
    interval: int

    @property
    def label(self) -> str:
        """Return the level in the user's language."""
        return level_label(self.level)

    @property
    def overdue(self) -> bool:
        """Return whether the interval has passed since the last confirmed visit."""
        return self.days is not None and self.days > self.interval


def level_statuses(
    elevator: Elevator, levels: Sequence[MaintenanceLevel], now: datetime | None = None
) -> list[LevelStatus]:
    """Return the days since the last confirmed visit of each level of a plan."""
    today = site_today(elevator, now)
    last = last_confirmed_by_level(elevator)
    intervals = interval_days()
    return [
        LevelStatus(
            level=level,
            last=last[level],
            days=(today - last[level]).days if last[level] is not None else None,  # type: ignore[operator]
            interval=intervals[level],
        )
        for level in levels
    ]


# --- recording a visit ------------------------------------------------------


@dataclass
class Coworker:
    """A technician present who is typed in (an agency worker, say), not chosen."""

    name: str | None = None
    certificate_no: str | None = None


@dataclass
class ExtraItem:
    """A free-text item, when the kind's list is incomplete."""

    text: str | None = None
    result: str | None = None
    note: str | None = None


@dataclass
class ProblemFound:
    """A problem found during the visit: it becomes a Finding."""

    description: str | None = None
    severity: str | None = None
    photo: FileStorage | None = None


@dataclass
class VisitInput:
    """What the technician entered; record_visit checks all of it."""

    level: str | None = None
    visit_date: date | None = None
    arrival: time | None = None
    departure: time | None = None
    technician_ids: list[int] = field(default_factory=list)
    coworkers: list[Coworker] = field(default_factory=list)
    #: item code -> (result, note)
    answers: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    extra_items: list[ExtraItem] = field(default_factory=list)
    parts_replaced: list[str] = field(default_factory=list)
    problems: list[ProblemFound] = field(default_factory=list)
    photos: list[FileStorage] = field(default_factory=list)
    remarks: str | None = None


class VisitRefused(DomainError):
    """The visit was not recorded; ``problems`` maps form field names to messages."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__(_("The maintenance record was not saved: correct the marked fields."))
        self.problems = problems


class _Problems:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)


def _clean(text: str | None, limit: int = MAX_TEXT) -> str | None:
    text = (text or "").strip()
    return text[:limit] or None


def _cert_key(certificate_no: str) -> str:
    return "".join(certificate_no.split()).upper()


def _has_upload(upload: FileStorage | None) -> bool:
    return upload is not None and bool(upload.filename)


@dataclass
class _Checked:
    """The parts of a visit that passed the checks, ready for the record."""

    level: MaintenanceLevel | None = None
    contract: Contract | None = None
    arrival_at: datetime | None = None
    departure_at: datetime | None = None
    technicians: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    extra_items: list[dict[str, Any]] = field(default_factory=list)
    problems: list[_Problem] = field(default_factory=list)


@dataclass
class _Problem:
    """A problem that passed the checks."""

    description: str
    severity: Severity
    photo: FileStorage | None


def _check_level_and_dates(
    elevator: Elevator, author: User, visit: VisitInput, now: datetime, out: _Checked, p: _Problems
) -> None:
    if not visit.level:
        p.add("level", _("Choose the maintenance level."))
    elif visit.level not in MaintenanceLevel._value2member_map_:
        p.add("level", _("Choose one of the maintenance levels."))
    else:
        out.level = MaintenanceLevel(visit.level)
    if visit.visit_date is None:
        p.add("visit_date", _("Give the date of the visit."))
        return
    future = visit.visit_date > site_today(elevator, now)
    if future:
        p.add("visit_date", _("The visit date is in the future."))
    out.contract = contract_for_visit(elevator, author, visit.visit_date)
    if out.contract is None:
        p.add(
            "visit_date",
            _(
                "Your company had no maintenance contract in force for this elevator on "
                "%(date)s: only the contractor with the active contract may record its "
                "maintenance.",
                date=visit.visit_date.isoformat(),
            ),
        )
    elif out.level is not None and out.level not in out.contract.levels:
        plan = ", ".join(level_label(lv) for lv in out.contract.levels)
        p.add(
            "level",
            _(
                "%(level)s is not in the maintenance plan of the contract (%(plan)s).",
                level=level_label(out.level),
                plan=plan,
            ),
        )
    zone = site_zone(elevator)
    if visit.arrival is None:
        p.add("arrival", _("Give the arrival time."))
    if visit.departure is None:
        p.add("departure", _("Give the departure time."))
    if visit.arrival is None or visit.departure is None:
        return
    out.arrival_at = datetime.combine(visit.visit_date, visit.arrival, zone).astimezone(UTC)
    out.departure_at = datetime.combine(visit.visit_date, visit.departure, zone).astimezone(UTC)
    if out.departure_at <= out.arrival_at:
        p.add("departure", _("The departure must be after the arrival."))
    if not future:
        if out.arrival_at > now:
            p.add("arrival", _("The arrival time is in the future."))
        elif out.departure_at > now and out.departure_at > out.arrival_at:
            p.add("departure", _("The departure time is in the future."))


def _check_technicians(author: User, visit: VisitInput, out: _Checked, p: _Problems) -> None:
    colleagues = {u.id: u for u in eligible_technicians(author.organisation_id)}
    seen: set[str] = set()
    for user_id in dict.fromkeys(visit.technician_ids):
        user = colleagues.get(user_id)
        if user is None:
            p.add("technicians", _("Choose technicians of your own company."))
            continue
        cert = (user.certificate_no or "").strip()
        if not cert:
            p.add(
                "technicians",
                _(
                    "%(name)s has no operator certificate number on record: choose someone "
                    "else, or ask your manager to add the number.",
                    name=user.name,
                ),
            )
            continue
        seen.add(_cert_key(cert))
        out.technicians.append(
            {"user_id": user.id, "name": user.name, "certificate_no": cert, "source": "account"}
        )
    for index, coworker in enumerate(visit.coworkers):
        name = _clean(coworker.name, 100)
        typed = _clean(coworker.certificate_no, 64)
        if not name and not typed:
            continue
        if not name:
            p.add(f"coworkers-{index}-name", _("Give the technician's name."))
            continue
        if not typed:
            p.add(
                f"coworkers-{index}-certificate_no",
                _("Give the technician's operator certificate number."),
            )
            continue
        if _cert_key(typed) in seen:
            p.add(f"coworkers-{index}-certificate_no", _("This certificate is already listed."))
            continue
        seen.add(_cert_key(typed))
        out.technicians.append(
            {"user_id": None, "name": name, "certificate_no": typed, "source": "typed"}
        )
    needed = min_technicians()
    if len(out.technicians) < needed:
        p.add(
            "technicians",
            _(
                "At least %(num)d technicians must be present, each with an operator "
                "certificate number.",
                num=needed,
            ),
        )


def _check_items(
    elevator: Elevator, visit: VisitInput, item_list: ItemList, out: _Checked, p: _Problems
) -> None:
    if out.level is None:
        return
    for item in item_list.for_level(out.level):
        result, note = visit.answers.get(item.code, (None, None))
        if not result:
            p.add(field_name(item.code), _("Answer this item."))
        elif result not in RESULTS:
            p.add(field_name(item.code), _("Choose one of the answers."))
        else:
            out.items.append(
                {
                    "code": item.code,
                    "level": item.level.value,
                    "item": item.text,
                    "result": result,
                    "note": _clean(note, MAX_NOTE),
                }
            )
    if not item_list.complete:
        for index, extra in enumerate(visit.extra_items):
            text = _clean(extra.text, 300)
            if not text:
                continue
            if extra.result not in RESULTS:
                p.add(f"extra_items-{index}-result", _("Answer this item."))
                continue
            out.extra_items.append(
                {"item": text, "result": extra.result, "note": _clean(extra.note, MAX_NOTE)}
            )
        if not item_list.for_level(out.level) and not out.extra_items:
            p.add(
                "extra_items",
                _("The item list for this kind of elevator is incomplete: add the items you did."),
            )
    replaced = any(i["result"] == "replaced" for i in out.items + out.extra_items)
    if replaced and not visit.parts_replaced:
        p.add("parts_replaced", _("Name the parts you replaced, one per line."))


def _check_problems(visit: VisitInput, out: _Checked, p: _Problems) -> None:
    for index, problem in enumerate(visit.problems):
        description = _clean(problem.description)
        if not description:
            if _has_upload(problem.photo):
                p.add(f"problems-{index}-description", _("Describe the problem."))
            continue
        severity = problem.severity or ""
        if severity not in Severity._value2member_map_:
            p.add(f"problems-{index}-severity", _("Choose ordinary or serious."))
            continue
        out.problems.append(_Problem(description, Severity(severity), problem.photo))


def check_visit(
    elevator: Elevator, author: User, visit: VisitInput, now: datetime | None = None
) -> tuple[dict[str, list[str]], _Checked]:
    """Check a visit without writing anything; return the problems by field."""
    now = now or now_utc()
    p = _Problems()
    out = _Checked()
    if author.role not in TECHNICIAN_ROLES:
        p.add("technicians", _("Only technicians of the maintenance contractor record visits."))
    _check_level_and_dates(elevator, author, visit, now, out, p)
    _check_technicians(author, visit, out, p)
    _check_items(elevator, visit, list_for(elevator.kind), out, p)
    _check_problems(visit, out, p)
    lockout = open_lockout_of(elevator)
    if lockout is not None and out.level is not None:
        # D8: while locked out, repairs are recorded on the lockout, not as a visit.
        p.add("lockout", locked_message(lockout))
    return p.errors, out


def record_visit(
    elevator: Elevator,
    author: User,
    visit: VisitInput,
    password: str | None,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Record:
    """Check, sign and append a maintenance visit; its problems become findings."""
    existing = find_by_idempotency_key(idempotency_key)
    if existing is not None:
        raise DuplicateSubmission(existing)
    now = now or now_utc()
    problems, checked = check_visit(elevator, author, visit, now)
    try:
        check_signing_password(author, password)
    except DomainError as error:
        problems.setdefault("password", []).append(error.message)
    if problems:
        raise VisitRefused(problems)
    assert checked.level is not None  # noqa: S101 - checked above
    assert checked.contract is not None  # noqa: S101
    assert checked.arrival_at is not None  # noqa: S101
    assert checked.departure_at is not None  # noqa: S101
    assert visit.visit_date is not None  # noqa: S101

    def stored(upload: FileStorage, name: str) -> str:
        try:
            return save_photo(upload, author, elevator).sha256
        except DomainError as error:
            raise VisitRefused({name: [error.message]}) from error

    photo_hashes = [stored(upload, "photos") for upload in visit.photos if _has_upload(upload)]
    problem_rows: list[dict[str, Any]] = []
    for index, problem in enumerate(checked.problems):
        photo = (
            stored(problem.photo, f"problems-{index}-photo")
            if problem.photo is not None and _has_upload(problem.photo)
            else None
        )
        problem_rows.append(
            {"description": problem.description, "severity": problem.severity.value, "photo": photo}
        )
    item_list = list_for(elevator.kind)
    contract = checked.contract
    body = {
        "level": checked.level.value,
        "visit_date": visit.visit_date,
        "arrival_at": checked.arrival_at,
        "departure_at": checked.departure_at,
        "timezone": str(site_zone(elevator)),
        "contract": {
            "id": contract.id,
            "contract_no": contract.contract_no,
            "contractor_id": contract.contractor_id,
            "contractor": contract.contractor.name,
            "qualification_no": contract.contractor.qualification_no,
            "level_plan": contract.level_plan,
        },
        "technicians": checked.technicians,
        "checklist": {
            "id": item_list.id,
            "title": item_list.title,
            "status": item_list.status,
            "version": item_list.version,
        },
        "items": checked.items,
        "extra_items": checked.extra_items,
        "parts_replaced": [part[:200] for part in visit.parts_replaced],
        "problems": problem_rows,
        "photos": photo_hashes,
        "remarks": _clean(visit.remarks),
    }
    record = append(
        elevator,
        RecordKind.maintenance,
        body,
        author,
        occurred_at=checked.arrival_at,
        level=checked.level.value,
        signatures=[SignatureSpec(author, Meaning.submitted)],
        idempotency_key=idempotency_key,
    )
    for problem, row in zip(checked.problems, problem_rows, strict=True):
        # D9: rectify the problems raised by the maintenance unit (owned by the company).
        open_finding(
            site=elevator.site,
            elevator=elevator,
            source=FindingSource.maintenance,
            duty="D9",
            item_label=problem.description,
            description=problem.description,
            author=author,
            severity=problem.severity,
            source_record=record,
            photo_hashes=[row["photo"]] if row["photo"] else [],
        )
    return record


# --- confirming and rejecting ----------------------------------------------


def _lock_chain(elevator_id: int) -> None:
    """Serialise reviews of one elevator so a record is never reviewed twice."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Elevator.id).where(Elevator.id == elevator_id).with_for_update())


def _check_reviewable(record: Record, user: User, idempotency_key: str | None) -> None:
    existing = find_by_idempotency_key(idempotency_key)
    if existing is not None:
        raise DuplicateSubmission(existing)
    if record.kind != RecordKind.maintenance:
        raise DomainError(_("Only maintenance records are confirmed or rejected."))
    if not can_review(user, record):
        raise DomainError(
            _("Only the elevator's responsible safety officer or the safety director may review.")
        )
    _lock_chain(record.elevator_id)
    state = state_of(record)
    if state != AWAITING:
        raise DomainError(already_reviewed_message(state))


def already_reviewed_message(state: str) -> str:
    """Return the message shown when a reviewed record is reviewed again."""
    if state == CONFIRMED:
        return _("This maintenance record was already confirmed; it cannot be reviewed again.")
    return _(
        "This maintenance record was already rejected; it cannot be reviewed again. "
        "The contractor submits a new record."
    )


def confirm(
    record: Record,
    user: User,
    password: str | None,
    remarks: str | None = None,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Record:
    """Confirm a maintenance record on site (现场监督确认) with a signature."""
    _check_reviewable(record, user, idempotency_key)
    lockout = open_lockout_of(record.elevator)
    if lockout is not None and record.level in MaintenanceLevel._value2member_map_:
        # D8: no confirmed maintenance of a normal level while the elevator is locked out.
        raise DomainError(locked_message(lockout))
    check_signing_password(user, password)
    return append(
        record.elevator,
        RecordKind.confirmation,
        {
            "decision": CONFIRMED,
            "statement": CONFIRMED_STATEMENT,
            "remarks": _clean(remarks),
        },
        user,
        occurred_at=now or now_utc(),
        signatures=[SignatureSpec(user, Meaning.confirmed, subject=record)],
        subject=record,
        idempotency_key=idempotency_key,
    )


def reject(
    record: Record,
    user: User,
    password: str | None,
    reason: str | None,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Record:
    """Reject a maintenance record (退回) with a required reason and a signature."""
    _check_reviewable(record, user, idempotency_key)
    cleaned = _clean(reason)
    if not cleaned:
        raise DomainError(_("Give the reason for the rejection."), field="reason")
    check_signing_password(user, password)
    return append(
        record.elevator,
        RecordKind.rejection,
        {"decision": REJECTED, "statement": REJECTED_STATEMENT, "reason": cleaned},
        user,
        occurred_at=now or now_utc(),
        signatures=[SignatureSpec(user, Meaning.rejected, reason=cleaned, subject=record)],
        subject=record,
        idempotency_key=idempotency_key,
    )


# --- lists and the elevator page -------------------------------------------


def maintenance_records(elevator_id: int, limit: int | None = None) -> list[Record]:
    """Return an elevator's maintenance records, newest visit first."""
    query = (
        select(Record)
        .where(Record.elevator_id == elevator_id, Record.kind == RecordKind.maintenance)
        .order_by(Record.occurred_at.desc(), Record.seq.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def awaiting_records(elevator_id: int) -> list[Record]:
    """Return an elevator's maintenance records that nobody has reviewed yet."""
    return list(
        db.session.scalars(
            select(Record)
            .where(
                Record.elevator_id == elevator_id,
                Record.kind == RecordKind.maintenance,
                state_clause(AWAITING),
            )
            .order_by(Record.occurred_at, Record.seq)
        )
    )
