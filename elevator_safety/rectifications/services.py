"""Rectifications (整改, duty D9): the one place findings are opened and moved.

Every record kind that finds a problem calls ``open_finding``; the state
machine (start, complete, verify, reopen) lives in ``TRANSITIONS`` and
``transition``; completion, verification and reopening each append a signed
record (``rectification`` in the elevator's chain, or a site register entry
for a site-wide finding). A serious hazard on an elevator cannot be worked on
until the elevator is locked out for it (SAMR Order No. 74: stop and report),
and its creation notifies the company's safety directors.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from elevator_safety import audit
from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import Lockout, LockoutCause
from elevator_safety.lockouts.services import open_lockout, open_lockout_of
from elevator_safety.notifications.services import active_users, notify
from elevator_safety.records.models import (
    Finding,
    FindingSource,
    FindingStatus,
    Meaning,
    Record,
    RecordKind,
    Severity,
    default_deadline,
)
from elevator_safety.records.photos import save_photo
from elevator_safety.records.services import SignatureSpec, append, check_signing_password
from elevator_safety.registers import chain as site_chain
from elevator_safety.registers.models import RegisterEntry, RegisterKind
from elevator_safety.registry.models import Elevator, Site
from elevator_safety.scoping import local_today

OFFICER_ROLES = (Role.safety_officer, Role.safety_director)
CONTRACTOR_ROLES = (Role.technician, Role.contractor_manager)
#: States in which the owner still has work to do ("open" in the lists).
OPEN_STATES = (FindingStatus.open, FindingStatus.in_progress, FindingStatus.reopened)
DUTIES = tuple(f"D{n}" for n in range(1, 12))
DUTY_LABELS = {
    "D1": _l("D1 Maintenance contractor and on-site confirmation"),
    "D2": _l("D2 Use sign, notices and warning signs"),
    "D3": _l("D3 Daily patrol and misuse"),
    "D4": _l("D4 Special keys and tools"),
    "D5": _l("D5 Machine room, shaft and pit"),
    "D6": _l("D6 Emergency alarm and duty room"),
    "D7": _l("D7 Video surveillance"),
    "D8": _l("D8 Faults: notice and contractor"),
    "D9": _l("D9 Rectification of problems raised"),
    "D10": _l("D10 Added equipment and advertising"),
    "D11": _l("D11 Inspection, self-test, registration, drills"),
}


class Action(enum.StrEnum):
    """What a user can do to a rectification."""

    start = "start"  # 开始整改
    complete = "complete"  # 整改完成
    verify = "verify"  # 验证
    reopen = "reopen"  # 重新打开


ACTION_LABELS = {
    Action.start: _l("Start work"),
    Action.complete: _l("Mark completed"),
    Action.verify: _l("Verify"),
    Action.reopen: _l("Reopen"),
}


@dataclass(frozen=True)
class Transition:
    """An allowed move: from which states, to which state, by which party."""

    sources: frozenset[FindingStatus]
    target: FindingStatus
    #: "owner": the owner organisation's people; "verifier": the company's officers.
    party: str


#: The one table of allowed moves; every other (state, action) pair is refused.
TRANSITIONS: dict[Action, Transition] = {
    Action.start: Transition(
        frozenset({FindingStatus.open, FindingStatus.reopened}), FindingStatus.in_progress, "owner"
    ),
    Action.complete: Transition(
        frozenset({FindingStatus.open, FindingStatus.in_progress, FindingStatus.reopened}),
        FindingStatus.completed,
        "owner",
    ),
    Action.verify: Transition(
        frozenset({FindingStatus.completed}), FindingStatus.verified, "verifier"
    ),
    Action.reopen: Transition(
        frozenset({FindingStatus.completed}), FindingStatus.reopened, "verifier"
    ),
}

#: Meaning of the signature of the record each signed action appends.
ACTION_MEANINGS = {
    Action.complete: Meaning.completed,
    Action.verify: Meaning.verified,
    Action.reopen: Meaning.reopened,
}


# --- who may do what -----------------------------------------------------------------


def is_company_officer(user: User, finding: Finding) -> bool:
    """A safety officer or director of the property company that manages the finding's site."""
    return (
        user.role in OFFICER_ROLES
        and user.organisation.kind == OrgKind.property_company
        and user.organisation_id == finding.site.organisation_id
    )


def is_owner_user(user: User, finding: Finding) -> bool:
    """One of the owner organisation's people who do the fix.

    A property-company owner acts through its safety officers and director, a
    contractor owner through its technicians and manager.
    """
    if user.organisation_id != finding.owner_organisation_id:
        return False
    kind = user.organisation.kind
    if kind == OrgKind.property_company:
        return user.role in OFFICER_ROLES
    if kind == OrgKind.contractor:
        return user.role in CONTRACTOR_ROLES
    return False


def may_act(user: User, finding: Finding, action: Action) -> bool:
    """Return whether the user is the party of the action (whatever the state)."""
    party = TRANSITIONS[action].party
    if party == "owner":
        return is_owner_user(user, finding)
    return is_company_officer(user, finding)


def allowed(finding: Finding, action: Action) -> bool:
    """Return whether the state machine allows the action in the finding's state."""
    return finding.status in TRANSITIONS[action].sources


def available_actions(user: User, finding: Finding) -> list[Action]:
    """Return the actions the user may take on the finding now."""
    return [a for a in Action if allowed(finding, a) and may_act(user, finding, a)]


def can_lock_out(user: User, finding: Finding) -> bool:
    """The company's officers, or the owner's contracted people, may stop the elevator."""
    elevator = finding.elevator
    if elevator is None:
        return False
    if is_company_officer(user, finding):
        return True
    return is_owner_user(user, finding) and any(
        c.contractor_id == user.organisation_id and c.is_active(local_today())
        for c in elevator.contracts
    )


# --- scope, overdue ----------------------------------------------------------------------


def finding_scope(user: User):  # type: ignore[no-untyped-def]
    """Return the WHERE clause of the findings the user may see (join Finding.site first).

    Property companies see their sites' findings, contractors the findings they
    own, regulators their district's.
    """
    org = user.organisation
    if org.kind == OrgKind.property_company:
        return Site.organisation_id == org.id
    if org.kind == OrgKind.contractor:
        return Finding.owner_organisation_id == org.id
    if org.kind == OrgKind.regulator and org.district_code:
        return Site.district_code == org.district_code
    return false()


def scoped_findings(user: User):  # type: ignore[no-untyped-def]
    """Return a select() of the findings the user may see."""
    return select(Finding).join(Site, Finding.site_id == Site.id).where(finding_scope(user))


def get_finding(user: User, finding_id: int) -> Finding | None:
    """Load a finding the user may see, or None."""
    return db.session.scalar(scoped_findings(user).where(Finding.id == finding_id))


def is_overdue(finding: Finding, now: datetime | None = None) -> bool:
    """Not completed or verified, and past its deadline."""
    return finding.status in OPEN_STATES and finding.deadline < (now or now_utc())


def overdue_clause(now: datetime | None = None):  # type: ignore[no-untyped-def]
    """Return the SQL version of ``is_overdue``."""
    return and_(Finding.status.in_(OPEN_STATES), Finding.deadline < (now or now_utc()))


def needs_lockout(finding: Finding) -> bool:
    """A serious hazard on an elevator must stop the elevator before it is worked on."""
    return finding.severity == Severity.serious and finding.elevator_id is not None


def lockout_of(finding: Finding) -> Lockout | None:
    """Return the lockout linked to the finding, if any."""
    return db.session.get(Lockout, finding.lockout_id) if finding.lockout_id else None


def _link_lockout(finding: Finding, lockout: Lockout, actor: User | None) -> None:
    if finding.lockout_id == lockout.id:
        return
    old = finding.lockout_id
    finding.lockout_id = lockout.id
    audit.record(
        "update",
        finding,
        changes={"lockout_id": [old, lockout.id]},
        organisation_id=actor.organisation_id if actor else None,
        user_id=actor.id if actor else None,
        label=_label(finding),
    )


def ensure_locked_out(finding: Finding, actor: User | None) -> None:
    """Refuse work on a serious hazard until the elevator is locked out for it.

    An open lockout of the elevator counts (and is linked to the finding).
    """
    if not needs_lockout(finding) or finding.lockout_id is not None:
        return
    current = open_lockout_of(finding.elevator) if finding.elevator is not None else None
    if current is None:
        raise DomainError(
            _(
                "Serious hazard: the elevator must be locked out before the rectification "
                "can go on. Use “Lock out now”."
            )
        )
    _link_lockout(finding, current, actor)


def lock_out_for(finding: Finding, actor: User, password: str | None, description: str) -> Lockout:
    """Stop the elevator for a serious finding in one step (or link its open lockout).

    Opens a lockout with cause "serious hazard" through the lockouts service,
    which signs a ``lockout`` record and takes the elevator out of service.
    """
    elevator = finding.elevator
    if elevator is None:
        raise DomainError(_("This rectification concerns no elevator."))
    if finding.status in (FindingStatus.completed, FindingStatus.verified):
        raise DomainError(_("This rectification is already completed."))
    current = open_lockout_of(elevator)
    if current is not None:
        _link_lockout(finding, current, actor)
        return current
    lockout = open_lockout(
        elevator,
        actor,
        password,
        cause=LockoutCause.serious_hazard,
        description=description,
    )
    _link_lockout(finding, lockout, actor)
    return lockout


def lockout_description(finding: Finding) -> str:
    """Return the prefilled description of the one-step lockout."""
    return _(
        "Serious hazard (rectification #%(id)d): %(item)s. %(description)s",
        id=finding.id,
        item=finding.item_label,
        description=finding.description,
    ).strip()


# --- opening -------------------------------------------------------------------------------


def _label(finding: Finding) -> str:
    place = finding.elevator.equipment_code if finding.elevator else finding.site.name
    return f"{place} {finding.duty} {finding.item_label[:60]}"


def place_of(finding: Finding) -> str:
    """Return where the finding is: elevator code and location, or the site's name."""
    elevator = finding.elevator
    if elevator is None:
        return finding.site.name
    return f"{finding.site.name} {elevator.equipment_code}"


def _deadline_text(finding: Finding) -> str:
    zone = ZoneInfo(finding.site.timezone or "Asia/Shanghai")
    return finding.deadline.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def finding_link(finding: Finding) -> str:
    """Return the path of the finding's page."""
    return f"/rectifications/{finding.id}"


def open_finding(
    *,
    site: Site,
    elevator: Elevator | None,
    source: FindingSource,
    duty: str,
    item_label: str,
    description: str,
    author: User | None,
    severity: Severity = Severity.ordinary,
    owner_organisation_id: int | None = None,
    deadline: datetime | None = None,
    source_record: Record | None = None,
    source_entry: RegisterEntry | None = None,
    source_reference: str | None = None,
    item_code: str | None = None,
    photo_hashes: Sequence[str] = (),
) -> Finding:
    """Open a rectification in the caller's transaction, audit it and notify.

    The owner defaults to the property company of the site; the deadline to
    the severity's default (RECTIFICATION_DEADLINE_HOURS) from now. A serious
    hazard notifies the company's safety directors and the elevator's safety
    officer; a contractor owner's managers hear of every new finding they own.
    """
    created = now_utc()
    finding = Finding(
        site_id=site.id,
        elevator_id=elevator.id if elevator else None,
        source=source,
        source_record_id=source_record.id if source_record else None,
        source_entry_id=source_entry.id if source_entry else None,
        source_reference=source_reference,
        item_code=item_code,
        item_label=item_label[:300],
        duty=duty,
        severity=severity,
        description=description,
        photo_hashes=list(photo_hashes),
        status=FindingStatus.open,
        owner_organisation_id=owner_organisation_id or site.organisation_id,
        deadline=deadline or default_deadline(severity, created),
        created_by_id=author.id if author else None,
        created_at=created,
        updated_at=created,
    )
    db.session.add(finding)
    db.session.flush()
    audit.record(
        "create",
        finding,
        changes=audit.snapshot(finding, ["source", "duty", "severity", "deadline"]),
        organisation_id=author.organisation_id if author else site.organisation_id,
        user_id=author.id if author else None,
        label=f"{elevator.equipment_code if elevator else site.name} {duty} {item_label[:60]}",
    )
    _notify_opened(finding, author)
    return finding


def _notify_opened(finding: Finding, author: User | None) -> None:
    params = {
        "id": finding.id,
        "place": place_of(finding),
        "item": finding.item_label[:120],
        "deadline": _deadline_text(finding),
    }
    link = finding_link(finding)
    author_id = author.id if author else None
    if finding.severity == Severity.serious:
        readers: list[User | None] = list(
            active_users(finding.site.organisation_id, Role.safety_director)
        )
        if finding.elevator is not None:
            readers.append(finding.elevator.safety_officer)
        notify([u for u in readers if u and u.id != author_id], "serious_finding", params, link)
    owner = db.session.get(Organisation, finding.owner_organisation_id)
    if owner is not None and owner.kind == OrgKind.contractor:
        managers = active_users(owner.id, Role.contractor_manager)
        notify(
            [u for u in managers if u.id != author_id],
            "finding_assigned",
            params | {"owner": owner.name},
            link,
        )


# --- moving --------------------------------------------------------------------------------


def refusal(finding: Finding, action: Action) -> str:
    """Return why the state machine refuses the action in the finding's state."""
    return _(
        "“%(action)s” is not possible: the rectification is %(state)s.",
        action=str(ACTION_LABELS[action]),
        state=finding.status_label.lower(),
    )


def _store_photos(uploads: Sequence[FileStorage], actor: User, finding: Finding) -> list[str]:
    uploads = [u for u in uploads if u and getattr(u, "filename", None)]
    if not uploads:
        return []
    if finding.elevator is None:
        raise DomainError(
            _("Photos can be attached only to rectifications of an elevator."), field="photos"
        )
    hashes = []
    for upload in uploads:
        try:
            hashes.append(save_photo(upload, actor, finding.elevator).sha256)
        except DomainError as error:
            raise DomainError(error.message, field="photos") from error
    return hashes


def _append_evidence(
    finding: Finding,
    action: Action,
    actor: User,
    text: str,
    photos: list[str],
    idempotency_key: str | None,
    at: datetime,
) -> Record | RegisterEntry:
    meaning = ACTION_MEANINGS[action]
    body: dict[str, Any] = {
        "finding_id": finding.id,
        "action": action.value,
        "text": text,
        "photos": photos,
        "item_label": finding.item_label,
        "duty": finding.duty,
        "severity": finding.severity.value,
        "source": finding.source.value,
        "owner": finding.owner_organisation.name,
        "deadline": finding.deadline,
        "overdue": finding.deadline < at,
    }
    reason = text if action == Action.reopen else None
    if finding.elevator is not None:
        return append(
            finding.elevator,
            RecordKind.rectification,
            body,
            actor,
            occurred_at=at,
            signatures=[SignatureSpec(actor, meaning, reason)],
            idempotency_key=idempotency_key,
        )
    return site_chain.append_entry(
        finding.site,
        RegisterKind.rectification,
        body,
        actor,
        occurred_at=at,
        signatures=[SignatureSpec(actor, meaning, reason)],
        ok=action != Action.reopen,
        idempotency_key=idempotency_key,
    )


def transition(
    finding: Finding,
    action: Action,
    actor: User,
    *,
    password: str | None = None,
    text: str | None = None,
    photos: Sequence[FileStorage] = (),
    idempotency_key: str | None = None,
) -> Record | RegisterEntry | None:
    """Move a finding by an action; return the signed evidence appended (None for "start").

    Refuses (DomainError) a move the table does not allow, a user who is not
    the action's party, a missing text, a wrong password, and work on a
    serious hazard whose elevator is not locked out. The caller commits.
    """
    rule = TRANSITIONS[action]
    if not may_act(actor, finding, action):
        if rule.party == "owner":
            raise DomainError(_("Only the owner of the rectification can do this."))
        raise DomainError(
            _("Only a safety officer or the safety director of the company can do this.")
        )
    if finding.status not in rule.sources:
        raise DomainError(refusal(finding, action))
    text = (text or "").strip()
    if action == Action.complete and not text:
        raise DomainError(_("Describe what was done."), field="text")
    if action == Action.reopen and not text:
        raise DomainError(_("Give the reason for reopening."), field="text")
    if action in ACTION_MEANINGS:
        check_signing_password(actor, password)
    if rule.target in (FindingStatus.in_progress, FindingStatus.completed):
        ensure_locked_out(finding, actor)
    now = now_utc()
    evidence: Record | RegisterEntry | None = None
    if action in ACTION_MEANINGS:
        stored = _store_photos(photos, actor, finding) if action == Action.complete else []
        evidence = _append_evidence(finding, action, actor, text, stored, idempotency_key, now)
    old = finding.status
    finding.status = rule.target
    finding.updated_at = now
    changes: dict[str, Any] = {"status": [old.value, rule.target.value]}
    if action == Action.complete:
        changes["completed_at"] = [
            finding.completed_at.isoformat() if finding.completed_at else None,
            now.isoformat(),
        ]
        finding.completed_at = now
        finding.verified_at = None
    elif action == Action.verify:
        finding.verified_at = now
        changes["verified_at"] = [None, now.isoformat()]
    elif action == Action.reopen:
        changes["reason"] = [None, text]
    audit.record(
        action.value,
        finding,
        changes=changes,
        organisation_id=actor.organisation_id,
        user_id=actor.id,
        label=_label(finding),
    )
    _notify_moved(finding, action, actor, text)
    return evidence


def _notify_moved(finding: Finding, action: Action, actor: User, text: str) -> None:
    params = {"id": finding.id, "place": place_of(finding), "actor": actor.name}
    link = finding_link(finding)
    if action == Action.complete:
        readers: list[User | None] = []
        if finding.elevator is not None:
            readers.append(finding.elevator.safety_officer)
        else:
            readers += active_users(finding.site.organisation_id, *OFFICER_ROLES)
        notify([u for u in readers if u and u.id != actor.id], "finding_completed", params, link)
    elif action in (Action.reopen, Action.verify):
        owner = db.session.get(Organisation, finding.owner_organisation_id)
        if owner is None:
            return
        roles = CONTRACTOR_ROLES if owner.kind == OrgKind.contractor else OFFICER_ROLES
        readers = list(active_users(owner.id, *roles))
        if owner.kind == OrgKind.property_company and finding.elevator is not None:
            # the company's own fix: the elevator's officer, not every officer
            readers = [finding.elevator.safety_officer]
        kind = "finding_reopened" if action == Action.reopen else "finding_verified"
        notify(
            [u for u in readers if u and u.id != actor.id],
            kind,
            params | {"reason": text},
            link,
        )


# --- evidence and history --------------------------------------------------------------------


def evidence_of(finding: Finding) -> list[Record | RegisterEntry]:
    """Return the signed records of the finding's completion, verification and reopening."""
    items: list[Record | RegisterEntry] = []
    if finding.elevator_id is not None:
        candidates: Sequence[Record | RegisterEntry] = db.session.scalars(
            select(Record)
            .where(
                Record.elevator_id == finding.elevator_id,
                Record.kind == RecordKind.rectification,
                Record.created_at >= finding.created_at,
            )
            .order_by(Record.seq)
        ).all()
    else:
        candidates = db.session.scalars(
            select(RegisterEntry)
            .where(
                RegisterEntry.site_id == finding.site_id,
                RegisterEntry.kind == RegisterKind.rectification,
                RegisterEntry.created_at >= finding.created_at,
            )
            .order_by(RegisterEntry.seq)
        ).all()
    for item in candidates:
        if item.data.get("body", {}).get("finding_id") == finding.id:
            items.append(item)
    return items


def history_of(finding: Finding) -> list[AuditEntry]:
    """Return the audit entries of the finding: creation and every change, oldest first."""
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "Finding", AuditEntry.object_id == finding.id)
            .order_by(AuditEntry.at, AuditEntry.id)
        )
    )


# --- manual creation -------------------------------------------------------------------------


def contractor_in_force(elevator: Elevator) -> Organisation | None:
    """Return the contractor whose contract on the elevator is in force today."""
    today = local_today()
    for contract in elevator.contracts:
        if contract.is_active(today):
            return contract.contractor
    return None


@dataclass
class ManualFinding:
    """What the "new rectification" form gives."""

    site: Site
    elevator: Elevator | None
    source: FindingSource
    source_reference: str | None
    duty: str
    item_label: str
    description: str
    severity: Severity
    owner: str  # "company" or "contractor"
    deadline: datetime | None
    lock_out: bool
    password: str | None


MANUAL_SOURCES = (
    FindingSource.manual,
    FindingSource.regulator_notice,
    FindingSource.inspection,
    FindingSource.public_report,
    FindingSource.handover,
    FindingSource.maintenance,
)


def create_manual(data: ManualFinding, author: User) -> Finding:
    """Open a rectification by hand (safety officer or director); lock out in the same step."""
    if data.site.organisation_id != author.organisation_id or author.role not in OFFICER_ROLES:
        raise DomainError(_("Only the company's safety officers and director open rectifications."))
    if data.elevator is not None and data.elevator.site_id != data.site.id:
        raise DomainError(_("Choose an elevator of the chosen site."), field="elevator_id")
    if data.duty not in DUTIES:
        raise DomainError(_("Choose one of the options."), field="duty")
    if data.source not in MANUAL_SOURCES:
        raise DomainError(_("Choose one of the options."), field="source")
    reference = (data.source_reference or "").strip() or None
    if data.source == FindingSource.regulator_notice and not reference:
        raise DomainError(_("Give the number of the regulator's notice."), field="source_reference")
    if not data.item_label.strip():
        raise DomainError(_("This field is required."), field="item_label")
    if not data.description.strip():
        raise DomainError(_("This field is required."), field="description")
    now = now_utc()
    if data.deadline is not None and data.deadline <= now:
        raise DomainError(_("The deadline cannot be in the past."), field="deadline")
    owner_id = data.site.organisation_id
    if data.owner == "contractor":
        if data.elevator is None:
            raise DomainError(
                _("A contractor can own only a rectification of an elevator."), field="owner"
            )
        contractor = contractor_in_force(data.elevator)
        if contractor is None:
            raise DomainError(_("This elevator has no contractor in force today."), field="owner")
        owner_id = contractor.id
    lock = data.lock_out and data.severity == Severity.serious and data.elevator is not None
    if lock and open_lockout_of(data.elevator) is None:  # type: ignore[arg-type]
        check_signing_password(author, data.password)
    finding = open_finding(
        site=data.site,
        elevator=data.elevator,
        source=data.source,
        duty=data.duty,
        item_label=data.item_label.strip(),
        description=data.description.strip(),
        author=author,
        severity=data.severity,
        owner_organisation_id=owner_id,
        deadline=data.deadline,
        source_reference=reference,
    )
    if lock:
        lock_out_for(finding, author, data.password, lockout_description(finding))
    return finding


# --- lists and dashboard -------------------------------------------------------------------


def list_query(user: User, filters: dict[str, Any], now: datetime | None = None):  # type: ignore[no-untyped-def]
    """Return the select() of the list page with its filters applied.

    filters: state (open / completed / verified / all), overdue (bool), severity,
    duty, site (id), elevator (id), owner (mine / company / contractor).
    """
    now = now or now_utc()
    query = scoped_findings(user).options(
        selectinload(Finding.elevator), selectinload(Finding.owner_organisation)
    )
    state = filters.get("state") or "open"
    if state == "open":
        query = query.where(Finding.status.in_(OPEN_STATES))
    elif state in ("completed", "verified"):
        query = query.where(Finding.status == FindingStatus(state))
    if filters.get("overdue"):
        query = query.where(overdue_clause(now))
    if filters.get("severity") in Severity.__members__:
        query = query.where(Finding.severity == Severity(filters["severity"]))
    if filters.get("duty") in DUTIES:
        query = query.where(Finding.duty == filters["duty"])
    if filters.get("site"):
        query = query.where(Finding.site_id == filters["site"])
    if filters.get("elevator"):
        query = query.where(Finding.elevator_id == filters["elevator"])
    owner = filters.get("owner")
    if owner == "mine":
        query = query.where(Finding.owner_organisation_id == user.organisation_id)
    elif owner == "company":
        query = query.where(Finding.owner_organisation_id == Site.organisation_id)
    elif owner == "contractor":
        query = query.where(Finding.owner_organisation_id != Site.organisation_id)
    if state == "open":
        return query.order_by(Finding.deadline, Finding.id)
    return query.order_by(Finding.created_at.desc(), Finding.id.desc())


def rectifications_due(user: User, limit: int = 10) -> list[Finding]:
    """Return the user's open rectifications, the earliest deadline first (home page)."""
    return list(
        db.session.scalars(
            scoped_findings(user)
            .where(Finding.status.in_(OPEN_STATES))
            .options(selectinload(Finding.elevator), selectinload(Finding.site))
            .order_by(Finding.deadline, Finding.id)
            .limit(limit)
        )
    )


def count_overdue(user: User, now: datetime | None = None) -> int:
    """Return how many rectifications in the user's scope are overdue."""
    return (
        db.session.scalar(
            select(func.count(Finding.id))
            .join(Site, Finding.site_id == Site.id)
            .where(finding_scope(user), overdue_clause(now))
        )
        or 0
    )


def open_of_elevator(elevator: Elevator) -> list[Finding]:
    """Return the elevator's rectifications not yet completed, earliest deadline first."""
    return list(
        db.session.scalars(
            select(Finding)
            .where(Finding.elevator_id == elevator.id, Finding.status.in_(OPEN_STATES))
            .order_by(Finding.deadline, Finding.id)
        )
    )


def awaiting_verification(elevator: Elevator) -> int:
    """Return how many of the elevator's rectifications are completed, not yet verified."""
    return (
        db.session.scalar(
            select(func.count(Finding.id)).where(
                Finding.elevator_id == elevator.id,
                Finding.status == FindingStatus.completed,
            )
        )
        or 0
    )


def elevator_code_filter(code: str):  # type: ignore[no-untyped-def]
    """Return a WHERE clause matching findings of elevators by (part of) their code."""
    pattern = f"%{code.strip()}%"
    return Finding.elevator_id.in_(
        select(Elevator.id).where(
            or_(Elevator.equipment_code.ilike(pattern), Elevator.rescue_code.ilike(pattern))
        )
    )
