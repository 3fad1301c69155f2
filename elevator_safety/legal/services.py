"""Inspections and other legal duties (D11), additions and advertising (D10), misuse (D3).

- Inspection reports (定期检验 / 自行检测) are ``inspection`` records in the
  elevator's chain; each item to rectify opens a rectification (D9), and the
  elevator's last inspection date, result and next due date are updated
  (audited) with the cycle of ``legal/cycle.py``.
- Additions and advertising (加装/广告) are ``addition`` records with their
  safety review; a refused or missing review opens a rectification (D10).
- Misuse incidents (违规乘用) are ``misuse`` records naming one of the ten
  prohibited acts (the list of ``patrols/checklists.py``, shared with patrols).
- Emergency plans (应急预案) and drills (应急演练) are entries of the site's
  register chain; certificates of safety staff and technicians are registry
  rows (edited, audited).

The caller (a view) commits once; every function here only adds and flushes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from elevator_safety import audit
from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.legal import cycle
from elevator_safety.lockouts.services import (
    CONTRACTOR_ROLES,
    OFFICER_ROLES,
    is_company_officer,
    is_contracted,
)
from elevator_safety.patrols import checklists
from elevator_safety.patrols.services import MISUSE_ACTIONS, installation_locale
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
)
from elevator_safety.rectifications.services import open_finding
from elevator_safety.registers import chain
from elevator_safety.registers.models import (
    Certificate,
    CertificateKind,
    RegisterEntry,
    RegisterKind,
)
from elevator_safety.registry.models import (
    RESULT_LABELS,
    Contract,
    Elevator,
    ElevatorStatus,
    InspectionResult,
    Site,
)
from elevator_safety.scoping import elevator_scope, local_today, scoped_elevators, scoped_sites

# --- vocabularies -------------------------------------------------------------------

#: Kinds of inspection report.
INSPECTION_TYPES = (cycle.INSPECTION, cycle.SELF_TEST)
INSPECTION_TYPE_LABELS: dict[str, Any] = {
    cycle.INSPECTION: _l("Periodic inspection (定期检验)"),
    cycle.SELF_TEST: _l("Annual self-test (自行检测)"),
}
RESULT_CHOICES = tuple(result.value for result in InspectionResult)
#: Rows of "items to rectify" offered by the inspection form.
INSPECTION_ITEM_ROWS = 5

#: What was added to the car (D10).
ADDITION_WHATS = ("equipment", "advertising", "other")
ADDITION_WHAT_LABELS = {
    "equipment": _l("Added equipment"),
    "advertising": _l("Advertising"),
    "other": _l("Other addition"),
}

#: What was done about a misuse incident: the patrol's answers, and "other".
MISUSE_ACTION_CODES = (*MISUSE_ACTIONS, "other")
MISUSE_ACTION_LABELS = {
    "dissuaded": _l("Dissuaded"),
    "reported": _l("Reported (police or management)"),
    "other": _l("Other action"),
}

#: Who records certificates: the company's admin and safety director, a contractor's manager.
CERTIFICATE_EDITOR_ROLES = (Role.admin, Role.safety_director, Role.contractor_manager)


# --- permissions --------------------------------------------------------------------


def can_record_inspection(user: User, elevator: Elevator, on: date) -> bool:
    """The company's officers and director record reports; the contractor on contract self-tests."""
    return is_company_officer(user, elevator) or is_contracted(user, elevator, on)


def can_record_inspection_type(user: User, elevator: Elevator, kind: str) -> bool:
    """Only the management unit records a periodic inspection (it receives the body's report)."""
    return kind == cycle.SELF_TEST or is_company_officer(user, elevator)


def can_record_addition(user: User, elevator: Elevator) -> bool:
    """The company's safety officers and director keep the register of additions (D10)."""
    return is_company_officer(user, elevator)


def can_record_misuse(user: User, elevator: Elevator, on: date) -> bool:
    """The company's officers and director, or the contractor on contract, who witnessed it."""
    return is_company_officer(user, elevator) or is_contracted(user, elevator, on)


def is_site_officer(user: User, site: Site) -> bool:
    """A safety officer or director of the company that manages the site."""
    return (
        user.role in OFFICER_ROLES
        and user.organisation.kind == OrgKind.property_company
        and user.organisation_id == site.organisation_id
    )


def contracted_elevators(user: User, site: Site, on: date) -> list[Elevator]:
    """Return the site's elevators under a contract with the user's contractor in force."""
    if user.role not in CONTRACTOR_ROLES:
        return []
    return [e for e in site.elevators if is_contracted(user, e, on)]


def can_record_plan(user: User, site: Site) -> bool:
    """The site's company's officers and director file the emergency plan."""
    return is_site_officer(user, site)


def can_record_drill(user: User, site: Site, on: date) -> bool:
    """The company records the site's drill; a contractor its own drill at a site it serves."""
    return is_site_officer(user, site) or bool(contracted_elevators(user, site, on))


def can_edit_certificates(user: User) -> bool:
    """Company admins and safety directors, and contractor managers, keep their staff's."""
    if user.role == Role.contractor_manager:
        return user.organisation.kind == OrgKind.contractor
    return (
        user.role in (Role.admin, Role.safety_director)
        and user.organisation.kind == OrgKind.property_company
    )


# --- small helpers ------------------------------------------------------------------


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _before_writing(user: User, password: str | None, idempotency_key: str | None) -> None:
    check_signing_password(user, password)
    existing = find_by_idempotency_key(idempotency_key)
    if existing is not None:
        raise DuplicateSubmission(existing)


def moment_of(day: date, zone: str, now: datetime) -> datetime:
    """Return the moment recorded for an event known by its day: noon there, or now if earlier."""
    noon = datetime.combine(day, time(12), tzinfo=ZoneInfo(zone or "Asia/Shanghai"))
    return min(noon.astimezone(now.tzinfo), now)


def site_today(site: Site, now: datetime) -> date:
    """Return today's date at the site."""
    return now.astimezone(ZoneInfo(site.timezone or "Asia/Shanghai")).date()


def result_label(result: str | None) -> str:
    """Return an inspection result in the user's language."""
    if not result:
        return ""
    try:
        return str(RESULT_LABELS[InspectionResult(result)])
    except ValueError:
        return result


# --- inspection reports (D11) -------------------------------------------------------


@dataclass
class InspectionInput:
    """What the inspection form says."""

    type: str
    inspected_on: date
    inspection_body: str
    report_no: str
    result: str
    #: (description, severity) of each item to rectify.
    items: list[tuple[str, str]] = field(default_factory=list)
    note: str | None = None


@dataclass
class InspectionOutcome:
    """What recording a report did."""

    record: Record
    findings: list[Finding]
    #: Whether the elevator's last inspection and next due date were updated.
    updated: bool
    next_due: date
    next_kind: str | None
    cycle_known: bool


def due_after(elevator: Elevator, done_on: date) -> tuple[date, str | None, int | None]:
    """Return (due date, kind, year) of the test after one done on ``done_on``.

    Without an acceptance date the cycle is unknown: one year after the test.
    """
    if elevator.acceptance_date is None:
        return cycle.anniversary(done_on, 1), None, None
    due = cycle.next_due(
        elevator.acceptance_date, done_on, current_app.config["INSPECTION_EARLY_MONTHS"]
    )
    return due.due_on, due.kind, due.year


def record_inspection(
    elevator: Elevator,
    author: User,
    password: str | None,
    data: InspectionInput,
    *,
    now: datetime,
    idempotency_key: str | None = None,
) -> InspectionOutcome:
    """Sign and append an inspection report; open its rectifications; update the elevator."""
    if data.type not in INSPECTION_TYPES:
        raise DomainError(_("Choose the kind of report."), "type")
    if not can_record_inspection_type(author, elevator, data.type):
        raise DomainError(
            _("Only the management unit records periodic inspections; record a self-test."),
            "type",
        )
    if data.result not in RESULT_CHOICES:
        raise DomainError(_("Choose the result."), "result")
    if data.inspected_on > site_today(elevator.site, now):
        raise DomainError(_("The test cannot be in the future."), "inspected_on")
    if elevator.acceptance_date and data.inspected_on < elevator.acceptance_date:
        raise DomainError(
            _(
                "The test cannot be before the acceptance date (%(day)s).",
                day=elevator.acceptance_date.isoformat(),
            ),
            "inspected_on",
        )
    body_name = _clean(data.inspection_body)
    report_no = _clean(data.report_no)
    if not body_name:
        raise DomainError(_("Name who did the test."), "inspection_body")
    if not report_no:
        raise DomainError(_("Enter the report number."), "report_no")
    items = []
    for description, severity in data.items:
        text = _clean(description)
        if text is None:
            continue
        if severity not in (s.value for s in Severity):
            raise DomainError(_("Choose the severity of each item."), "items")
        items.append({"description": text, "severity": severity})
    _before_writing(author, password, idempotency_key)
    due_on, due_kind, due_year = due_after(elevator, data.inspected_on)
    body = {
        "type": data.type,
        "inspected_on": data.inspected_on,
        "inspection_body": body_name,
        "report_no": report_no,
        "result": data.result,
        "items": items,
        "acceptance_date": elevator.acceptance_date,
        "next_due": due_on,
        "next_due_kind": due_kind,
        "next_due_year": due_year,
        "note": _clean(data.note),
    }
    record = append(
        elevator,
        RecordKind.inspection,
        body,
        author,
        occurred_at=moment_of(data.inspected_on, elevator.site.timezone, now),
        signatures=[SignatureSpec(author, Meaning.recorded)],
        idempotency_key=idempotency_key,
    )
    findings = []
    for index, item in enumerate(items, start=1):
        findings.append(
            open_finding(
                site=elevator.site,
                elevator=elevator,
                source=FindingSource.inspection,
                duty="D9",
                item_label=item["description"],
                description=item["description"],
                author=author,
                severity=Severity(item["severity"]),
                source_record=record,
                source_reference=report_no,
                item_code=f"inspection.{index}",
            )
        )
    updated = (
        elevator.last_inspection_date is None or data.inspected_on >= elevator.last_inspection_date
    )
    if updated:
        elevator.last_inspection_date = data.inspected_on
        elevator.last_inspection_result = InspectionResult(data.result)
        elevator.next_inspection_due = due_on
        changes = audit.changed_fields(elevator)
        if changes:
            audit.record(
                "update",
                elevator,
                changes=changes | {"source_record_id": [None, record.id]},
                organisation_id=author.organisation_id,
                user_id=author.id,
                label=elevator.equipment_code,
            )
    db.session.flush()
    return InspectionOutcome(record, findings, updated, due_on, due_kind, due_kind is not None)


@dataclass
class InspectionState:
    """An elevator's inspection status as shown on its page and in the lists."""

    last_on: date | None
    last_result: str | None
    due_on: date | None
    kind: str | None
    year: int | None
    apply_by: date | None
    overdue: bool
    failed: bool
    #: Inside the application window (apply now) but not yet overdue.
    apply_now: bool
    cycle_known: bool

    @property
    def must_not_be_used(self) -> bool:
        """An overdue or failed elevator must not be used (特种设备安全法 art. 40)."""
        return self.overdue or self.failed

    @property
    def kind_label(self) -> str:
        """Return the kind of the next test in the user's language."""
        return str(INSPECTION_TYPE_LABELS[self.kind]) if self.kind else ""


def inspection_state(elevator: Elevator, today: date) -> InspectionState:
    """Return the elevator's inspection status on a day."""
    kind = year = None
    computed = None
    if elevator.acceptance_date is not None:
        computed = cycle.next_due(
            elevator.acceptance_date,
            elevator.last_inspection_date,
            current_app.config["INSPECTION_EARLY_MONTHS"],
        )
        kind, year = computed.kind, computed.year
    due_on = elevator.next_inspection_due
    if due_on is None and computed is not None:
        # Without any test on file, year 1 is only assumed for an elevator still before it;
        # an older one shows "no test on file" rather than a stop based on missing data.
        if elevator.last_inspection_date is not None or computed.due_on >= today:
            due_on = computed.due_on
        else:
            kind = year = None
    apply_on = (
        cycle.apply_by(due_on, current_app.config["INSPECTION_APPLY_DAYS"]) if due_on else None
    )
    overdue = due_on is not None and today > due_on
    result = elevator.last_inspection_result.value if elevator.last_inspection_result else None
    return InspectionState(
        last_on=elevator.last_inspection_date,
        last_result=result,
        due_on=due_on,
        kind=kind,
        year=year,
        apply_by=apply_on,
        overdue=overdue,
        failed=result == InspectionResult.failed.value,
        apply_now=bool(apply_on and not overdue and today >= apply_on),
        cycle_known=elevator.acceptance_date is not None,
    )


#: Filters of the inspection list.
DUE_FILTERS = ("due", "overdue", "failed", "unknown", "all")


def due_query(user: User, today: date, state: str = "due", within_days: int = 30) -> Select[Any]:
    """Return the user's elevators in service filtered by inspection state, soonest due first."""
    query = scoped_elevators(user).where(Elevator.status != ElevatorStatus.decommissioned)
    if state == "overdue":
        query = query.where(Elevator.next_inspection_due < today)
    elif state == "failed":
        query = query.where(Elevator.last_inspection_result == InspectionResult.failed)
    elif state == "unknown":
        query = query.where(Elevator.next_inspection_due.is_(None))
    elif state == "due":
        query = query.where(Elevator.next_inspection_due <= today + timedelta(days=within_days))
    return query.order_by(
        Elevator.next_inspection_due.is_(None),
        Elevator.next_inspection_due,
        Elevator.equipment_code,
    )


def inspections_due(user: User, within_days: int = 30, today: date | None = None) -> list[Elevator]:
    """Return the user's elevators whose test is overdue or due within ``within_days``."""
    day = today or local_today()
    query = due_query(user, day, "due", within_days).options(selectinload(Elevator.site))
    return list(db.session.scalars(query))


# --- additions and advertising (D10) ------------------------------------------------


@dataclass
class AdditionInput:
    """What the addition form says."""

    what: str
    description: str
    location: str | None = None
    installed_on: date | None = None
    installer: str | None = None
    weight_kg: Decimal | None = None
    reviewed: bool = False
    reviewer: str | None = None
    approved: bool = False
    review_note: str | None = None
    note: str | None = None


def record_addition(
    elevator: Elevator,
    author: User,
    password: str | None,
    data: AdditionInput,
    *,
    now: datetime,
    idempotency_key: str | None = None,
) -> tuple[Record, Finding | None]:
    """Sign and append an addition with its safety review; a refused or missing review opens a
    rectification (D10). Return the record and the finding, if any."""
    if data.what not in ADDITION_WHATS:
        raise DomainError(_("Choose what was added."), "what")
    description = _clean(data.description)
    if not description:
        raise DomainError(_("Describe what was added."), "description")
    if data.installed_on and data.installed_on > site_today(elevator.site, now):
        raise DomainError(_("The installation date cannot be in the future."), "installed_on")
    if data.weight_kg is not None and data.weight_kg <= 0:
        raise DomainError(_("Must be greater than zero."), "weight_kg")
    reviewer = _clean(data.reviewer)
    if data.approved and not data.reviewed:
        raise DomainError(_("Only a reviewed addition can be approved."), "approved")
    if data.reviewed and not reviewer:
        raise DomainError(_("Name who reviewed and decided."), "reviewer")
    _before_writing(author, password, idempotency_key)
    body = {
        "what": data.what,
        "description": description,
        "location": _clean(data.location),
        "installed_on": data.installed_on,
        "installer": _clean(data.installer),
        "weight_kg": str(data.weight_kg) if data.weight_kg is not None else None,
        "review": {
            "reviewed": data.reviewed,
            "reviewer": reviewer,
            "approved": data.approved if data.reviewed else False,
            "note": _clean(data.review_note),
        },
        "note": _clean(data.note),
    }
    record = append(
        elevator,
        RecordKind.addition,
        body,
        author,
        occurred_at=moment_of(data.installed_on, elevator.site.timezone, now)
        if data.installed_on
        else now,
        signatures=[SignatureSpec(author, Meaning.recorded)],
        idempotency_key=idempotency_key,
    )
    finding = None
    if not data.approved:
        with installation_locale():
            if data.reviewed:
                label = _("Addition refused by its safety review: %(what)s", what=description)
            else:
                label = _("Addition without a safety review: %(what)s", what=description)
        finding = open_finding(
            site=elevator.site,
            elevator=elevator,
            source=FindingSource.addition,
            duty="D10",
            item_label=label,
            description=_clean(data.review_note) or label,
            author=author,
            source_record=record,
            item_code="addition.refused" if data.reviewed else "addition.unreviewed",
        )
    db.session.flush()
    return record, finding


# --- misuse incidents (D3) ----------------------------------------------------------


@dataclass
class MisuseInput:
    """What the misuse form says."""

    occurred_at: datetime
    act: str
    action: str
    note: str | None = None
    photo: FileStorage | None = None


def record_misuse(
    elevator: Elevator,
    author: User,
    password: str | None,
    data: MisuseInput,
    *,
    now: datetime,
    idempotency_key: str | None = None,
) -> Record:
    """Sign and append a misuse incident naming one of the ten prohibited acts."""
    act = checklists.act(data.act)
    if act is None:
        raise DomainError(_("Choose which prohibited act you saw."), "act")
    if data.action not in MISUSE_ACTION_CODES:
        raise DomainError(_("Choose what was done."), "action")
    if data.occurred_at > now:
        raise DomainError(_("The incident cannot be in the future."), "occurred_at")
    if data.action == "other" and not _clean(data.note):
        raise DomainError(_("Say what was done."), "note")
    _before_writing(author, password, idempotency_key)
    photos = []
    if data.photo is not None:
        try:
            photos.append(save_photo(data.photo, author, elevator).sha256)
        except DomainError as error:
            raise DomainError(error.message, "photo") from error
    body = {
        "act": act.code,
        "act_label": act.label(checklists.default_language()),
        "action": data.action,
        "note": _clean(data.note),
        "photos": photos,
    }
    record = append(
        elevator,
        RecordKind.misuse,
        body,
        author,
        occurred_at=data.occurred_at,
        signatures=[SignatureSpec(author, Meaning.recorded)],
        idempotency_key=idempotency_key,
    )
    db.session.flush()
    return record


def act_label(code: str | None, stored: str | None = None) -> str:
    """Return a prohibited act's label in the user's language (the stored one if unknown)."""
    act = checklists.act(code)
    return act.label() if act else (stored or code or "")


# --- record lists -------------------------------------------------------------------


def recent(elevator: Elevator, kind: RecordKind, limit: int = 5) -> list[Record]:
    """Return the elevator's latest records of a kind."""
    return list(
        db.session.scalars(
            select(Record)
            .where(Record.elevator_id == elevator.id, Record.kind == kind)
            .order_by(Record.occurred_at.desc(), Record.id.desc())
            .limit(limit)
        )
    )


def records_query(user: User, kind: RecordKind) -> Select[Any]:
    """Return the records of a kind on the user's elevators, newest first."""
    return (
        select(Record)
        .join(Elevator, Record.elevator_id == Elevator.id)
        .join(Elevator.site)
        .where(Record.kind == kind, elevator_scope(user))
        .order_by(Record.occurred_at.desc(), Record.id.desc())
    )


# --- emergency plans and drills (D11, site chain) -----------------------------------


def _check_past(day: date, site: Site, now: datetime, name: str) -> None:
    if day > site_today(site, now):
        raise DomainError(_("The date cannot be in the future."), name)


def record_plan(
    site: Site,
    author: User,
    password: str | None,
    *,
    title: str,
    version: str,
    approved_on: date,
    approved_by: str,
    summary: str | None,
    now: datetime,
    idempotency_key: str | None = None,
) -> RegisterEntry:
    """Sign and append the site's emergency plan (应急预案) to its register chain."""
    _check_past(approved_on, site, now, "approved_on")
    if not _clean(title):
        raise DomainError(_("This field is required."), "title")
    if not _clean(approved_by):
        raise DomainError(_("This field is required."), "approved_by")
    check_signing_password(author, password)
    return chain.signed(
        site,
        RegisterKind.emergency_plan,
        {
            "title": _clean(title),
            "version": _clean(version),
            "approved_by": _clean(approved_by),
            "summary": _clean(summary),
        },
        author,
        occurred_at=now,
        on_date=approved_on,
        idempotency_key=idempotency_key,
    )


def record_drill(
    site: Site,
    author: User,
    password: str | None,
    *,
    drill_on: date,
    done_as_planned: bool,
    scenario: str,
    participants: str,
    elevators: list[Elevator],
    lessons: str | None,
    now: datetime,
    idempotency_key: str | None = None,
) -> RegisterEntry:
    """Sign and append an emergency drill (应急演练) of the site or of a contractor."""
    today = site_today(site, now)
    _check_past(drill_on, site, now, "drill_on")
    own_site = is_site_officer(author, site)
    allowed = (
        {e.id for e in site.elevators}
        if own_site
        else {e.id for e in contracted_elevators(author, site, today)}
    )
    if not own_site and not allowed:
        raise DomainError(_("Your organisation does not serve this site."))
    if any(e.id not in allowed for e in elevators):
        raise DomainError(_("Choose elevators of this site that you serve."), "elevator_ids")
    if not _clean(scenario):
        raise DomainError(_("This field is required."), "scenario")
    if not _clean(participants):
        raise DomainError(_("This field is required."), "participants")
    check_signing_password(author, password)
    return chain.signed(
        site,
        RegisterKind.drill,
        {
            "organiser": author.organisation.name,
            "organiser_kind": "site" if own_site else "contractor",
            "scenario": _clean(scenario),
            "participants": _clean(participants),
            "elevators": sorted(e.equipment_code for e in elevators),
            "lessons": _clean(lessons),
        },
        author,
        occurred_at=moment_of(drill_on, site.timezone, now),
        on_date=drill_on,
        ok=done_as_planned,
        idempotency_key=idempotency_key,
    )


@dataclass
class DrillState:
    """When an organisation last drilled and when the next drill is due."""

    organisation: Organisation
    last_on: date | None
    due_on: date | None
    months: int
    today: date

    @property
    def overdue(self) -> bool:
        """Never drilled, or the due date has passed."""
        return self.due_on is None or self.today > self.due_on

    def due_within(self, days: int) -> bool:
        """Return whether the drill is overdue or due within ``days``."""
        return self.due_on is None or self.due_on <= self.today + timedelta(days=days)


@dataclass
class SiteStatus:
    """A site's emergency plan and drill status."""

    site: Site
    plan: RegisterEntry | None
    site_drill: DrillState
    contractors: list[DrillState]

    @property
    def attention(self) -> bool:
        """Return whether anything is missing or overdue."""
        return (
            self.plan is None
            or self.site_drill.overdue
            or any(state.overdue for state in self.contractors)
        )


def _last_drill(organisation_id: int, site_id: int | None) -> date | None:
    query = select(func.max(RegisterEntry.on_date)).where(
        RegisterEntry.kind == RegisterKind.drill,
        RegisterEntry.organisation_id == organisation_id,
        RegisterEntry.ok.is_(True),
    )
    if site_id is not None:
        query = query.where(RegisterEntry.site_id == site_id)
    return db.session.scalar(query)


def drill_state(org: Organisation, last_on: date | None, months: int, today: date) -> DrillState:
    """Return the drill state of an organisation from its last drill."""
    due = cycle.add_months(last_on, months) if last_on else None
    return DrillState(org, last_on, due, months, today)


def latest_plan(site: Site) -> RegisterEntry | None:
    """Return the site's emergency plan on file (the latest approved)."""
    return db.session.scalar(
        select(RegisterEntry)
        .where(RegisterEntry.site_id == site.id, RegisterEntry.kind == RegisterKind.emergency_plan)
        .order_by(RegisterEntry.on_date.desc(), RegisterEntry.seq.desc())
        .limit(1)
    )


def site_contractors(site: Site, today: date) -> list[Organisation]:
    """Return the contractors with a contract in force on an elevator of the site."""
    return list(
        db.session.scalars(
            select(Organisation)
            .where(
                Organisation.id.in_(
                    select(Contract.contractor_id)
                    .join(Contract.elevator)
                    .where(
                        Elevator.site_id == site.id,
                        Contract.start_date <= today,
                        Contract.end_date >= today,
                    )
                )
            )
            .order_by(Organisation.name)
        )
    )


def site_status(site: Site, today: date) -> SiteStatus:
    """Return the site's plan on file, its own drill state and each contractor's.

    The site's drill counts drills the site's company recorded at this site
    (every SITE_DRILL_MONTHS); a contractor's counts its drills at any site
    (every CONTRACTOR_DRILL_MONTHS: the duty is the contractor's, TSG T5002-2017
    art. 5). Only drills done as planned count.
    """
    config = current_app.config
    own = drill_state(
        site.organisation,
        _last_drill(site.organisation_id, site.id),
        int(config["SITE_DRILL_MONTHS"]),
        today,
    )
    contractors = [
        drill_state(org, _last_drill(org.id, None), int(config["CONTRACTOR_DRILL_MONTHS"]), today)
        for org in site_contractors(site, today)
    ]
    return SiteStatus(site, latest_plan(site), own, contractors)


def drills_due(user: User, within_days: int = 30, today: date | None = None) -> list[SiteStatus]:
    """Return the user's sites where a drill is overdue or due within ``within_days``.

    A contractor sees only its own drill state at the sites it serves.
    """
    day = today or local_today()
    found = []
    sites = db.session.scalars(scoped_sites(user).order_by(Site.name, Site.id))
    for site in sites:
        status = site_status(site, day)
        if user.organisation.kind == OrgKind.contractor:
            status.contractors = [
                s for s in status.contractors if s.organisation.id == user.organisation_id
            ]
            if any(s.due_within(within_days) for s in status.contractors):
                found.append(status)
        elif status.site_drill.due_within(within_days) or any(
            s.due_within(within_days) for s in status.contractors
        ):
            found.append(status)
    return found


def site_entries(site: Site) -> Select[Any]:
    """Return the site's plans and drills, newest first."""
    return (
        select(RegisterEntry)
        .where(
            RegisterEntry.site_id == site.id,
            RegisterEntry.kind.in_((RegisterKind.emergency_plan, RegisterKind.drill)),
        )
        .options(selectinload(RegisterEntry.organisation), selectinload(RegisterEntry.author))
        .order_by(RegisterEntry.on_date.desc(), RegisterEntry.seq.desc())
    )


# --- certificates (D11: certified staff) --------------------------------------------


def certificate_owner_orgs(user: User, today: date) -> Select[Any] | None:
    """Return a select of the organisation ids whose staff's certificates the user sees.

    Property companies and contractors see their own staff's; a regulator sees
    those of the companies with sites in its district and of the contractors
    serving elevators there.
    """
    org = user.organisation
    if org.kind in (OrgKind.property_company, OrgKind.contractor):
        return select(Organisation.id).where(Organisation.id == org.id)
    if org.kind == OrgKind.regulator and org.district_code:
        companies = select(Site.organisation_id).where(Site.district_code == org.district_code)
        contractors = (
            select(Contract.contractor_id)
            .join(Contract.elevator)
            .join(Elevator.site)
            .where(
                Site.district_code == org.district_code,
                Contract.start_date <= today,
                Contract.end_date >= today,
            )
        )
        return select(Organisation.id).where(
            Organisation.id.in_(companies) | Organisation.id.in_(contractors)
        )
    return None


def certificates_query(user: User, today: date | None = None) -> Select[Any]:
    """Return the certificates the user may see, soonest expiry first."""
    owners = certificate_owner_orgs(user, today or local_today())
    query = (
        select(Certificate)
        .join(Certificate.user)
        .options(selectinload(Certificate.user).selectinload(User.organisation))
        .order_by(Certificate.expires_on, Certificate.id)
    )
    if owners is None:
        return query.where(Certificate.id.is_(None))
    return query.where(User.organisation_id.in_(owners))


def certificates_expiring(
    user: User, within_days: int | None = None, today: date | None = None
) -> list[Certificate]:
    """Return the user's visible certificates expired or expiring within the warning days."""
    day = today or local_today()
    days = (
        within_days
        if within_days is not None
        else int(current_app.config["CERTIFICATE_EXPIRY_WARNING_DAYS"])
    )
    query = certificates_query(user, day).where(
        Certificate.expires_on <= day + timedelta(days=days)
    )
    return list(db.session.scalars(query))


def certificate_state(certificate: Certificate, today: date) -> str:
    """Return ``expired``, ``expiring`` (within the warning days) or ``valid``."""
    if certificate.expires_on < today:
        return "expired"
    warning = int(current_app.config["CERTIFICATE_EXPIRY_WARNING_DAYS"])
    if certificate.expires_on <= today + timedelta(days=warning):
        return "expiring"
    return "valid"


def certificate_holders(actor: User) -> list[User]:
    """Return the active users of the actor's organisation (whose certificates it keeps)."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.organisation_id == actor.organisation_id, User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


@dataclass
class CertificateInput:
    """What the certificate form says."""

    user_id: int | None
    kind: str
    number: str
    issuer: str | None
    issued_on: date | None
    expires_on: date


def save_certificate(
    actor: User, data: CertificateInput, certificate: Certificate | None = None
) -> Certificate:
    """Create or update a certificate of a user of the actor's organisation (audited)."""
    holder = db.session.get(User, data.user_id) if data.user_id else None
    if holder is None or holder.organisation_id != actor.organisation_id:
        raise DomainError(_("Choose a person of your own organisation."), "user_id")
    try:
        kind = CertificateKind(data.kind)
    except ValueError:
        raise DomainError(_("Choose one of the options."), "kind") from None
    number = _clean(data.number)
    if not number:
        raise DomainError(_("This field is required."), "number")
    if data.issued_on and data.expires_on <= data.issued_on:
        raise DomainError(_("The certificate must expire after it was issued."), "expires_on")
    clash = db.session.scalar(
        select(Certificate).where(Certificate.kind == kind, Certificate.number == number)
    )
    if clash is not None and (certificate is None or clash.id != certificate.id):
        raise DomainError(
            _("A certificate of this kind with this number is already registered."), "number"
        )
    creating = certificate is None
    target = certificate or Certificate()
    target.user_id = holder.id
    target.kind = kind
    target.number = number
    target.issuer = _clean(data.issuer)
    target.issued_on = data.issued_on
    target.expires_on = data.expires_on
    if creating:
        db.session.add(target)
        db.session.flush()
        audit.record(
            "create",
            target,
            changes=audit.snapshot(
                target, ["user_id", "kind", "number", "issuer", "issued_on", "expires_on"]
            ),
            label=f"{holder.name} {number}",
        )
        return target
    changes = audit.changed_fields(target)
    changes.pop("updated_at", None)
    if changes:
        db.session.flush()
        audit.record("update", target, changes=changes, label=f"{holder.name} {number}")
    return target
