"""Contractor handovers (移交检查): start, inspection checklist, three signatures, switch.

A handover moves ``started`` → ``handed_over`` (the outgoing contractor's
manager signs 移交) → ``received`` (the incoming contractor's manager signs
接收) → ``confirmed`` (the property company confirms; the old contracts end the
day before the handover date and new ones start on it), or ``cancelled`` before
confirmation. Each signing step appends a ``handover`` record, carrying its
signature, to the chain of every elevator of the handover.

Who may do what is decided by the named predicates below (views answer 403 when
they refuse); which handovers a user sees is decided by ``scoped_handovers``
(views answer 404 outside it). Services add and flush; the caller commits, and
rolls back when a service raises (a refused confirmation then leaves nothing).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, false, func, or_, select, update

from elevator_safety import audit
from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records import services as records
from elevator_safety.records.models import (
    Finding,
    FindingStatus,
    Handover,
    HandoverStatus,
    Meaning,
    Record,
    RecordKind,
    Signature,
    handover_elevators,
)
from elevator_safety.registry import services as registry
from elevator_safety.registry.models import Contract, Elevator, Site

# --- the inspection checklist (data) -------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    """One question of the handover inspection, in both interface languages."""

    code: str
    label_en: str
    label_zh: str

    def label(self) -> str:
        """Return the label in the user's language."""
        return localised(self.label_en, self.label_zh)


#: The handover inspection (移交检查) the property company fills in; each answer is yes/no.
CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("archive", "Archive complete and handed over", "档案资料完整并移交"),
    ChecklistItem("keys_tools", "Keys and tools handed over", "钥匙和工具已移交"),
    ChecklistItem(
        "open_findings",
        "Open findings and rectifications listed with who owns them",
        "未完成整改已列明并明确责任方",
    ),
    ChecklistItem(
        "equipment_checked",
        "Equipment state checked by the incoming contractor",
        "设备状况已由接收单位检查",
    ),
    ChecklistItem(
        "car_signs",
        "Signs in the car updated with the new contractor's name and phone",
        "轿厢内维保单位名称和电话已更新",
    ),
)
CHECKLIST_CODES = tuple(item.code for item in CHECKLIST)


def localised(english: str, chinese: str) -> str:
    """Return the text in the user's language (Chinese unless English was chosen)."""
    locale = get_locale()
    return chinese if locale is None or locale.language != "en" else english


# --- steps and states ------------------------------------------------------------------------


class Step(enum.StrEnum):
    """The three signatures of a handover, in order."""

    hand_over = "hand_over"  # 移交: the outgoing contractor's manager
    receive = "receive"  # 接收: the incoming contractor's manager
    confirm = "confirm"  # 确认: the property company (admin or safety director)


STEP_MEANING = {
    Step.hand_over: Meaning.handed_over,
    Step.receive: Meaning.received,
    Step.confirm: Meaning.handover_confirmed,
}
#: The status a step starts from, and the status it leads to.
STEP_FROM = {
    Step.hand_over: HandoverStatus.started,
    Step.receive: HandoverStatus.handed_over,
    Step.confirm: HandoverStatus.received,
}
STEP_TO = {
    Step.hand_over: HandoverStatus.handed_over,
    Step.receive: HandoverStatus.received,
    Step.confirm: HandoverStatus.confirmed,
}
NEXT_STEP = {status: step for step, status in STEP_FROM.items()}
#: A handover in one of these states still has work to do.
OPEN_STATUSES = (HandoverStatus.started, HandoverStatus.handed_over, HandoverStatus.received)

STATUS_LABELS = {
    HandoverStatus.started: _l("Started"),
    HandoverStatus.handed_over: _l("Handed over"),
    HandoverStatus.received: _l("Received"),
    HandoverStatus.confirmed: _l("Confirmed"),
    HandoverStatus.cancelled: _l("Cancelled"),
}
STEP_LABELS = {
    Step.hand_over: _l("Hand over"),
    Step.receive: _l("Receive"),
    Step.confirm: _l("Confirm the handover"),
}

#: Property-company roles that start, inspect, confirm and cancel handovers.
PROPERTY_ROLES = (Role.admin, Role.safety_director)


# --- permission predicates -------------------------------------------------------------------


def can_start_handover(user: User) -> bool:
    """Property-company admins and safety directors start handovers of their elevators."""
    return user.role in PROPERTY_ROLES and user.organisation.kind == OrgKind.property_company


def can_manage_handover(user: User, handover: Handover) -> bool:
    """The handover's property company (admin or director) fills, confirms and cancels it."""
    return can_start_handover(user) and user.organisation_id == handover.organisation_id


def may_sign_step(user: User, step: Step) -> bool:
    """Return whether the user's role signs this kind of step at all (else 403)."""
    if step is Step.confirm:
        return can_start_handover(user)
    return user.role == Role.contractor_manager and user.organisation.kind == OrgKind.contractor


def can_sign_handover(user: User, handover: Handover, step: Step) -> bool:
    """The outgoing manager signs 移交, the incoming manager 接收, the company confirms."""
    if not may_sign_step(user, step):
        return False
    if step is Step.hand_over:
        return user.organisation_id == handover.outgoing_contractor_id
    if step is Step.receive:
        return user.organisation_id == handover.incoming_contractor_id
    return can_manage_handover(user, handover)


def can_cancel_handover(user: User, handover: Handover) -> bool:
    """The property company cancels its handovers (before confirmation)."""
    return can_manage_handover(user, handover)


# --- scope -------------------------------------------------------------------------------------


def scoped_handovers(user: User) -> Select:
    """Return a select() of the handovers the user may see.

    The property company sees its own; the outgoing and incoming contractors see
    those they are party to (even once the elevators left their contract);
    regulators see those with an elevator in their district.
    """
    org = user.organisation
    query = select(Handover)
    if org.kind == OrgKind.property_company:
        return query.where(Handover.organisation_id == org.id)
    if org.kind == OrgKind.contractor:
        return query.where(
            or_(
                Handover.outgoing_contractor_id == org.id,
                Handover.incoming_contractor_id == org.id,
            )
        )
    if org.kind == OrgKind.regulator and org.district_code:
        in_district = (
            exists()
            .where(handover_elevators.c.handover_id == Handover.id)
            .where(handover_elevators.c.elevator_id == Elevator.id)
            .where(Elevator.site_id == Site.id)
            .where(Site.district_code == org.district_code)
        )
        return query.where(in_district)
    return query.where(false())


def get_handover(user: User, handover_id: int) -> Handover | None:
    """Return a handover the user may see, or None."""
    return db.session.scalar(scoped_handovers(user).where(Handover.id == handover_id))


def is_overdue(handover: Handover, today: date) -> bool:
    """A handover not confirmed (nor cancelled) whose date has passed is overdue."""
    return handover.status in OPEN_STATUSES and handover.handover_date < today


def overdue_clause(today: date):  # type: ignore[no-untyped-def]
    """Return the WHERE clause of overdue handovers."""
    return Handover.status.in_(OPEN_STATUSES) & (Handover.handover_date < today)


def overdue_handovers(user: User, today: date, limit: int | None = 50) -> list[Handover]:
    """Return the overdue handovers the user may see, oldest date first (for the home page)."""
    query = (
        scoped_handovers(user)
        .where(overdue_clause(today))
        .order_by(Handover.handover_date, Handover.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def count_overdue(user: User, today: date) -> int:
    """Return how many overdue handovers the user may see."""
    query = scoped_handovers(user).where(overdue_clause(today)).with_only_columns(Handover.id)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def handovers_of_elevator(user: User, elevator: Elevator, limit: int = 20) -> list[Handover]:
    """Return the handovers of an elevator that the user may see, newest first."""
    on_elevator = exists().where(
        handover_elevators.c.handover_id == Handover.id,
        handover_elevators.c.elevator_id == elevator.id,
    )
    return list(
        db.session.scalars(
            scoped_handovers(user)
            .where(on_elevator)
            .order_by(Handover.created_at.desc(), Handover.id.desc())
            .limit(limit)
        )
    )


def open_handover_elevators(elevator_ids: Iterable[int]) -> dict[int, int]:
    """Return {elevator id: handover id} for the elevators already in an unfinished handover."""
    ids = list(elevator_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(handover_elevators.c.elevator_id, Handover.id)
        .join(Handover, Handover.id == handover_elevators.c.handover_id)
        .where(handover_elevators.c.elevator_id.in_(ids), Handover.status.in_(OPEN_STATUSES))
    ).all()
    return {elevator_id: handover_id for elevator_id, handover_id in rows}


# --- reading a handover ---------------------------------------------------------------------


def level_plan_of(handover: Handover) -> str:
    """Return the level plan chosen for the new contract."""
    return handover.new_level_plan


def answers_of(handover: Handover) -> dict[str, dict[str, Any]]:
    """Return the checklist answers: {code: {"ok": bool, "note": str}} (unanswered absent)."""
    stored = handover.checklist or {}
    return {
        code: dict(stored[code]) for code in CHECKLIST_CODES if isinstance(stored.get(code), dict)
    }


def unanswered_items(handover: Handover) -> list[ChecklistItem]:
    """Return the checklist items that have no yes/no answer yet."""
    answers = answers_of(handover)
    return [
        item for item in CHECKLIST if not isinstance(answers.get(item.code, {}).get("ok"), bool)
    ]


def checklist_snapshot(handover: Handover) -> list[dict[str, Any]]:
    """Return the checklist as it stands, both languages, for a record's content."""
    answers = answers_of(handover)
    return [
        {
            "code": item.code,
            "label_en": item.label_en,
            "label_zh": item.label_zh,
            "ok": answers.get(item.code, {}).get("ok"),
            "note": answers.get(item.code, {}).get("note") or None,
        }
        for item in CHECKLIST
    ]


def open_findings(elevator_ids: Iterable[int]) -> list[Finding]:
    """Return the open findings (rectifications to do) of some elevators."""
    ids = list(elevator_ids)
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Finding)
            .where(Finding.elevator_id.in_(ids), Finding.status == FindingStatus.open)
            .order_by(Finding.elevator_id, Finding.created_at, Finding.id)
        )
    )


def next_step(handover: Handover) -> Step | None:
    """Return the step the handover waits for, if any."""
    return NEXT_STEP.get(handover.status)


def next_actor(handover: Handover) -> str:
    """Return who must act next, for the user."""
    if handover.status is HandoverStatus.started and unanswered_items(handover):
        return _(
            "%(org)s (administrator or safety director) completes the inspection checklist; "
            "then the outgoing contractor's manager signs the handover.",
            org=handover.organisation.name,
        )
    step = next_step(handover)
    if step is Step.hand_over:
        return _(
            "The manager of %(org)s (outgoing contractor) signs the handover (移交).",
            org=handover.outgoing.name,
        )
    if step is Step.receive:
        return _(
            "The manager of %(org)s (incoming contractor) signs the receipt (接收).",
            org=handover.incoming.name,
        )
    if step is Step.confirm:
        return _(
            "%(org)s (administrator or safety director) confirms the handover.",
            org=handover.organisation.name,
        )
    return ""


@dataclass
class SignedStep:
    """One signing step as shown on the handover page: the signature and its records."""

    step: Step
    signature: Signature
    records: list[Record] = field(default_factory=list)


def handover_records(handover: Handover) -> list[Record]:
    """Return the records the handover's steps appended, in the order they were written."""
    ids = [e.id for e in handover.elevators]
    if not ids:
        return []
    candidates = db.session.scalars(
        select(Record)
        .where(Record.kind == RecordKind.handover, Record.elevator_id.in_(ids))
        .order_by(Record.created_at, Record.id)
    )
    return [r for r in candidates if r.data.get("body", {}).get("handover_id") == handover.id]


def signed_steps(handover: Handover) -> list[SignedStep]:
    """Return the signatures made so far, one per step, with the records that carry them."""
    found = handover_records(handover)
    by_step: dict[Step, SignedStep] = {}
    signatures = {
        s.record_id: s
        for s in db.session.scalars(
            select(Signature).where(Signature.record_id.in_([r.id for r in found] or [0]))
        )
    }
    for record in found:
        step = Step(record.data["body"]["step"])
        signature = signatures.get(record.id)
        if signature is None:
            continue
        entry = by_step.setdefault(step, SignedStep(step, signature))
        entry.records.append(record)
    return [by_step[step] for step in Step if step in by_step]


# --- start -----------------------------------------------------------------------------------


@dataclass
class StartValues:
    """What the start form gives the service (None where the form had no valid value)."""

    elevators: list[Elevator]
    incoming: Organisation | None
    handover_date: date | None
    new_contract_end: date | None
    level_plan: list[str] | str


def _codes(elevators: Iterable[Elevator]) -> str:
    return ", ".join(e.equipment_code for e in elevators)


def _conflicting_contract(
    elevator: Elevator, start: date, end: date, exclude_ids: Iterable[int]
) -> Contract | None:
    """Return a contract of the elevator overlapping [start, end] other than the excluded."""
    query = select(Contract).where(
        Contract.elevator_id == elevator.id,
        Contract.start_date <= end,
        Contract.end_date >= start,
    )
    excluded = list(exclude_ids)
    if excluded:
        query = query.where(Contract.id.not_in(excluded))
    return db.session.scalar(query.order_by(Contract.start_date, Contract.id).limit(1))


def _overlap_message(elevator: Elevator, other: Contract) -> str:
    # Same wording as registry.services.check_contract, prefixed with the elevator.
    message = _(
        "This elevator already has a contract with %(org)s from %(start)s to "
        "%(end)s; an elevator has at most one contract at a time.",
        org=other.contractor.name,
        start=other.start_date.isoformat(),
        end=other.end_date.isoformat(),
    )
    return f"{elevator.equipment_code}: {message}"


def contracts_to_end(elevator: Elevator, outgoing_id: int, handover_date: date) -> list[Contract]:
    """Return the outgoing contractor's contracts of the elevator in force on or after the date."""
    return [
        c
        for c in elevator.contracts
        if c.contractor_id == outgoing_id and c.end_date >= handover_date
    ]


def contract_problems(
    elevator: Elevator, outgoing_id: int, handover_date: date, new_end: date
) -> list[str]:
    """Return why the contract switch of one elevator cannot be made (empty when it can)."""
    problems = []
    ending = contracts_to_end(elevator, outgoing_id, handover_date)
    for contract in ending:
        if contract.start_date >= handover_date:
            problems.append(
                _(
                    "%(code)s: the contract with %(org)s starts on %(date)s, not before the "
                    "handover date, so it cannot end the day before; choose a later date.",
                    code=elevator.equipment_code,
                    org=contract.contractor.name,
                    date=contract.start_date.isoformat(),
                )
            )
    other = _conflicting_contract(elevator, handover_date, new_end, [c.id for c in ending])
    if other is not None:
        problems.append(_overlap_message(elevator, other))
    return problems


def check_start(
    actor: User, values: StartValues, today: date
) -> tuple[registry.Problems, Organisation | None]:
    """Check a new handover; return the problems by field and the outgoing contractor."""
    problems = registry.Problems()
    elevators = values.elevators
    outgoing: Organisation | None = None
    if not elevators:
        problems.add("elevator_ids", _("Choose at least one elevator."))
    if any(e.site.organisation_id != actor.organisation_id for e in elevators):
        problems.add("elevator_ids", _("Choose elevators of your own company."))
    current = {e.id: e.active_contract(today) for e in elevators}
    without = [e for e in elevators if current[e.id] is None]
    if without:
        problems.add(
            "elevator_ids",
            _(
                "No maintenance contract is in force today for %(codes)s: a handover changes "
                "the current contractor (enter a new contract instead).",
                codes=_codes(without),
            ),
        )
    contractors = {c.contractor_id: c.contractor for c in current.values() if c is not None}
    if len(contractors) > 1:
        problems.add(
            "elevator_ids",
            _(
                "These elevators have different contractors (%(names)s): start one handover "
                "per outgoing contractor.",
                names=", ".join(sorted(org.name for org in contractors.values())),
            ),
        )
    elif len(contractors) == 1:
        outgoing = next(iter(contractors.values()))
    busy = open_handover_elevators(e.id for e in elevators)
    if busy:
        problems.add(
            "elevator_ids",
            _(
                "Already in an unfinished handover: %(codes)s.",
                codes=_codes(e for e in elevators if e.id in busy),
            ),
        )
    incoming = values.incoming
    if incoming is None or incoming.kind != OrgKind.contractor:
        problems.add("incoming_contractor_id", _("Choose a maintenance contractor."))
    elif outgoing is not None and incoming.id == outgoing.id:
        problems.add(
            "incoming_contractor_id",
            _(
                "The incoming contractor must differ from the outgoing one (%(org)s).",
                org=outgoing.name,
            ),
        )
    start, end = values.handover_date, values.new_contract_end
    if start is None:
        problems.add("handover_date", _("This field is required."))
    elif start < today:
        problems.add(
            "handover_date",
            _("The handover date cannot be in the past: access changes on that date."),
        )
    if (
        start is not None
        and incoming is not None
        and incoming.qualification_expires is not None
        and incoming.qualification_expires < start
    ):
        problems.add(
            "incoming_contractor_id",
            _(
                "The qualification of %(org)s expires on %(date)s, before the handover date.",
                org=incoming.name,
                date=incoming.qualification_expires.isoformat(),
            ),
        )
    if end is None:
        problems.add("new_contract_end", _("This field is required."))
    elif start is not None and end < start:
        problems.add(
            "new_contract_end",
            _("The new contract cannot end before the handover date."),
        )
    try:
        registry.parse_level_plan(values.level_plan)
    except DomainError as error:
        problems.add("level_plan", error.message)
    if outgoing is not None and start is not None and end is not None and end >= start:
        for elevator in elevators:
            for message in contract_problems(elevator, outgoing.id, start, end):
                problems.add("handover_date", message)
    return problems, outgoing


def start_handover(actor: User, values: StartValues, today: date) -> Handover:
    """Start a handover of some elevators to another contractor (status: started)."""
    if not can_start_handover(actor):
        raise DomainError(_("You may not start a handover."))
    problems, outgoing = check_start(actor, values, today)
    if (
        problems
        or outgoing is None
        or values.incoming is None
        or values.handover_date is None
        or values.new_contract_end is None
    ):
        raise registry.RegistryValidationError(problems)
    handover = Handover(
        organisation_id=actor.organisation_id,
        outgoing_contractor_id=outgoing.id,
        incoming_contractor_id=values.incoming.id,
        handover_date=values.handover_date,
        new_contract_end=values.new_contract_end,
        status=HandoverStatus.started,
        new_level_plan=registry.parse_level_plan(values.level_plan),
        checklist={},
        created_by_id=actor.id,
        elevators=sorted(values.elevators, key=lambda e: e.equipment_code),
    )
    db.session.add(handover)
    db.session.flush()
    audit.record(
        "create",
        handover,
        organisation_id=handover.organisation_id,
        user_id=actor.id,
        label=_label(handover),
        changes={
            "elevators": [None, [e.equipment_code for e in handover.elevators]],
            "outgoing": [None, outgoing.name],
            "incoming": [None, values.incoming.name],
            "handover_date": [None, handover.handover_date.isoformat()],
            "new_contract_end": [None, handover.new_contract_end.isoformat()],
            "level_plan": [None, level_plan_of(handover)],
            "status": [None, handover.status.value],
        },
    )
    return handover


def _label(handover: Handover) -> str:
    return f"#{handover.id} {handover.outgoing.name} → {handover.incoming.name}"


# --- checklist ---------------------------------------------------------------------------------


def save_checklist(
    actor: User, handover: Handover, answers: Mapping[str, tuple[bool | None, str | None]]
) -> None:
    """Save the inspection answers {code: (yes/no or None, note)}.

    Allowed while the handover is started (the outgoing contractor signs what it
    says). A "no" needs a note saying why; unanswered items may wait.
    """
    if not can_manage_handover(actor, handover):
        raise DomainError(_("You may not fill in this checklist."))
    if handover.status is not HandoverStatus.started:
        raise DomainError(
            _("The checklist can only be changed before the outgoing contractor signs.")
        )
    problems = registry.Problems()
    stored = dict(handover.checklist or {})
    before = answers_of(handover)
    for item in CHECKLIST:
        ok, note = answers.get(item.code, (None, None))
        note = (note or "").strip()
        if ok is False and not note:
            problems.add(f"{item.code}_note", _("Say why in a note when the answer is no."))
        if ok is None:
            stored.pop(item.code, None)
        else:
            stored[item.code] = {"ok": ok, "note": note}
    if problems:
        raise registry.RegistryValidationError(problems)
    handover.checklist = stored  # a new dict: JSON columns do not track in-place changes
    after = answers_of(handover)
    changes = {
        code: [before.get(code), after.get(code)]
        for code in CHECKLIST_CODES
        if before.get(code) != after.get(code)
    }
    if changes:
        handover.updated_at = now_utc()
        audit.record(
            "update",
            handover,
            organisation_id=handover.organisation_id,
            user_id=actor.id,
            label=_label(handover),
            changes=changes,
        )
    db.session.flush()


# --- signing steps -----------------------------------------------------------------------------


def step_refusal(handover: Handover, step: Step) -> str | None:
    """Return why the step cannot be signed now (out of order, checklist open), or None."""
    status = handover.status
    if status is HandoverStatus.cancelled:
        return _("This handover was cancelled.")
    if status is HandoverStatus.confirmed:
        return _("This handover is already confirmed.")
    if status is not STEP_FROM[step]:
        if list(HandoverStatus).index(status) > list(HandoverStatus).index(STEP_FROM[step]):
            return _("This step is already signed.")
        waiting = next_step(handover)
        return _(
            "Not yet: the handover waits for the step “%(step)s” first.",
            step=STEP_LABELS[waiting] if waiting else "",
        )
    if step in (Step.hand_over, Step.confirm):
        missing = unanswered_items(handover)
        if missing:
            return _(
                "The inspection checklist has unanswered items: %(items)s.",
                items="; ".join(item.label() for item in missing),
            )
    if step is Step.confirm:
        problems = switch_problems(handover)
        if problems:
            return " ".join(problems)
    return None


def _advance(handover: Handover, expected: HandoverStatus, new: HandoverStatus) -> None:
    """Move the status on only if nobody else moved it meanwhile (one winner per step)."""
    result = db.session.execute(
        update(Handover)
        .where(Handover.id == handover.id, Handover.status == expected)
        .values(status=new, updated_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise DomainError(_("Someone else changed this handover meanwhile; reload the page."))
    db.session.refresh(handover)


def _party(org: Organisation) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "qualification_no": org.qualification_no}


def _finding_entry(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "item": finding.item_label,
        "duty": finding.duty,
        "severity": finding.severity.value,
        "description": finding.description,
        "owner": finding.owner_organisation.name,
    }


def record_body(
    handover: Handover, step: Step, elevator: Elevator, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the content a step's record carries for one elevator."""
    return {
        "handover_id": handover.id,
        "step": step.value,
        "property_company": _party(handover.organisation),
        "outgoing": _party(handover.outgoing),
        "incoming": _party(handover.incoming),
        "handover_date": handover.handover_date,
        "new_contract_end": handover.new_contract_end,
        "level_plan": level_plan_of(handover),
        "elevators": [e.equipment_code for e in handover.elevators],
        "checklist": checklist_snapshot(handover),
        "open_findings": [_finding_entry(f) for f in open_findings([elevator.id])],
        **(extra or {}),
    }


def idempotency_key(token: str | None, elevator: Elevator) -> str | None:
    """Return the form token of one elevator's record (one form signs every elevator)."""
    return f"{token}:{elevator.id}" if token else None


def sign_step(
    actor: User,
    handover: Handover,
    step: Step,
    password: str | None,
    *,
    token: str | None = None,
    now: datetime | None = None,
) -> list[Record]:
    """Sign a step: check order and password, append a signed record to every elevator.

    Confirmation also switches the contracts (``switch_contracts``). Raises
    DomainError (or DuplicateSubmission for a resubmitted form) and then the caller
    rolls back, so that nothing of a refused step remains.
    """
    if not can_sign_handover(actor, handover, step):
        raise DomainError(_("You may not sign this step."))
    elevators = list(handover.elevators)
    if token and elevators:
        existing = records.find_by_idempotency_key(idempotency_key(token, elevators[0]))
        if existing is not None:
            raise records.DuplicateSubmission(existing)
    refusal = step_refusal(handover, step)
    if refusal:
        raise DomainError(refusal)
    records.check_signing_password(actor, password)
    moment = now or now_utc()
    before = handover.status
    _advance(handover, STEP_FROM[step], STEP_TO[step])
    changes_by_elevator: dict[int, dict[str, Any]] = {}
    if step is Step.confirm:
        changes_by_elevator = switch_contracts(actor, handover)
    written = []
    for elevator in elevators:
        extra = {"contracts": changes_by_elevator[elevator.id]} if step is Step.confirm else {}
        written.append(
            records.append(
                elevator,
                RecordKind.handover,
                record_body(handover, step, elevator, extra),
                actor,
                occurred_at=moment,
                signatures=[records.SignatureSpec(actor, STEP_MEANING[step])],
                idempotency_key=idempotency_key(token, elevator),
            )
        )
    audit.record(
        "update",
        handover,
        organisation_id=handover.organisation_id,
        user_id=actor.id,
        label=_label(handover),
        changes={"status": [before.value, handover.status.value]},
    )
    return written


# --- the contract switch -------------------------------------------------------------------------


def switch_problems(handover: Handover) -> list[str]:
    """Return why the contracts cannot be switched as planned (empty when they can)."""
    problems = []
    for elevator in handover.elevators:
        problems += contract_problems(
            elevator,
            handover.outgoing_contractor_id,
            handover.handover_date,
            handover.new_contract_end,
        )
    return problems


def switch_contracts(actor: User, handover: Handover) -> dict[int, dict[str, Any]]:
    """End the outgoing contracts the day before the handover date and start the new ones.

    Returns {elevator id: {"ended": [...], "started": {...}}} for the records. Raises
    DomainError (with the registry's message) when a contract cannot be made; the
    caller's rollback then undoes every change.
    """
    day_before = handover.handover_date - timedelta(days=1)
    plan = level_plan_of(handover)
    result: dict[int, dict[str, Any]] = {}
    for elevator in handover.elevators:
        problems = contract_problems(
            elevator,
            handover.outgoing_contractor_id,
            handover.handover_date,
            handover.new_contract_end,
        )
        if problems:
            raise DomainError(" ".join(problems))
        ended = []
        for contract in contracts_to_end(
            elevator, handover.outgoing_contractor_id, handover.handover_date
        ):
            old_end = contract.end_date
            try:
                registry.update_contract(
                    actor,
                    contract,
                    contractor=contract.contractor,
                    start_date=contract.start_date,
                    end_date=day_before,
                    level_plan=contract.level_plan,
                    contract_no=contract.contract_no,
                )
            except registry.RegistryValidationError as error:
                raise DomainError(_first_problem(error, elevator)) from error
            ended.append({"contract_id": contract.id, "old_end": old_end, "new_end": day_before})
        try:
            created = registry.create_contract(
                actor,
                elevator,
                contractor=handover.incoming,
                start_date=handover.handover_date,
                end_date=handover.new_contract_end,
                level_plan=plan,
            )
        except registry.RegistryValidationError as error:
            raise DomainError(_first_problem(error, elevator)) from error
        result[elevator.id] = {
            "ended": ended,
            "started": {
                "contract_id": created.id,
                "contractor": handover.incoming.name,
                "start": created.start_date,
                "end": created.end_date,
                "level_plan": created.level_plan,
            },
        }
    return result


def _first_problem(error: registry.RegistryValidationError, elevator: Elevator) -> str:
    messages = [m for ms in error.problems.errors.values() for m in ms] or [error.message]
    return f"{elevator.equipment_code}: {' '.join(messages)}"


# --- cancel ------------------------------------------------------------------------------------


def cancel_handover(actor: User, handover: Handover, reason: str | None) -> None:
    """Cancel a handover before confirmation, with a reason; the row stays, audited."""
    if not can_cancel_handover(actor, handover):
        raise DomainError(_("You may not cancel this handover."))
    if handover.status is HandoverStatus.confirmed:
        raise DomainError(_("A confirmed handover cannot be cancelled."))
    if handover.status is HandoverStatus.cancelled:
        raise DomainError(_("This handover was cancelled."))
    text = (reason or "").strip()
    if not text:
        raise DomainError(_("Give the reason for the cancellation."), field="reason")
    before = handover.status
    _advance(handover, before, HandoverStatus.cancelled)
    audit.record(
        "cancel",
        handover,
        organisation_id=handover.organisation_id,
        user_id=actor.id,
        label=_label(handover),
        changes={"status": [before.value, HandoverStatus.cancelled.value], "reason": [None, text]},
    )


def cancellation(handover: Handover) -> audit.AuditEntry | None:
    """Return the audit entry of the handover's cancellation (who, when, reason)."""
    return db.session.scalar(
        select(audit.AuditEntry)
        .where(
            audit.AuditEntry.object_type == "Handover",
            audit.AuditEntry.object_id == handover.id,
            audit.AuditEntry.action == "cancel",
        )
        .order_by(audit.AuditEntry.id.desc())
        .limit(1)
    )


def elevators_choosable(user: User, today: date) -> Sequence[Elevator]:
    """Return the company's elevators a handover may be started for, by code."""
    return list(
        db.session.scalars(
            select(Elevator)
            .join(Elevator.site)
            .where(Site.organisation_id == user.organisation_id)
            .order_by(Site.name, Elevator.equipment_code)
        )
    )
