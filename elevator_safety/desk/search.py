"""The desk's queries: the elevator search and the "downloads of our documents" list.

The search starts from ``scoping.scoped_elevators`` so that a regulator only
ever finds the elevators of its own district, a property company its own and a
contractor those under a contract in force today. Every criterion is a
case-insensitive substring except the compliance state, which is the worst
open alert of the elevator (the same alerts as ``compliance.engine.status_matrix``):
``ok`` means no open alert that is due soon, an open finding, overdue or a hard
stop.

The downloads list reads the audit entries that the document routes write
(``action="download"``) and keeps those whose object belongs to a property
company: a record (through its elevator and site), an elevator (through its
site), a site, or a bulk export of one of its sites or of a district where it
has a site.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select

from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import Organisation, User
from elevator_safety.compliance.models import STATE_RANK, Alert, State
from elevator_safety.dashboards.services import FAILING
from elevator_safety.desk.models import ExportJob
from elevator_safety.extensions import db
from elevator_safety.records.models import Record
from elevator_safety.registry.models import Contract, Elevator, Site
from elevator_safety.scoping import scoped_elevators

#: States offered by the search's compliance filter, best first.
SEARCH_STATES: tuple[State, ...] = (State.ok, *FAILING)

#: Audit object types of the documents (written by the download routes) and of bulk exports.
DOWNLOAD_ACTION = "download"
EXPORT_OBJECT = "export"


@dataclass(frozen=True)
class Criteria:
    """What the desk's search looks for; an empty string means "any"."""

    site: str = ""
    company: str = ""
    contractor: str = ""
    code: str = ""
    rescue: str = ""
    state: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Criteria:
        """Read the criteria from query arguments (unknown states are ignored)."""
        values = {f.name: (args.get(f.name) or "").strip()[:200] for f in fields(cls)}
        if values["state"] not in {s.value for s in SEARCH_STATES}:
            values["state"] = ""
        return cls(**values)

    @property
    def empty(self) -> bool:
        """Return whether no criterion is set."""
        return not any(getattr(self, f.name) for f in fields(self))


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    """Return a case-insensitive substring test with LIKE wildcards in ``text`` escaped."""
    return func.lower(column).contains(text.lower(), autoescape=True)


def _compact(text: str) -> str:
    """Return a code as stored: without spaces."""
    return "".join(text.split())


def _state_clause(state: State) -> ColumnElement[bool]:
    """Return a clause: the elevator's worst open alert is ``state`` (``ok``: none failing)."""
    if state == State.ok:
        failing = select(Alert.elevator_id).where(
            Alert.resolved_at.is_(None), Alert.state.in_(FAILING)
        )
        return Elevator.id.not_in(failing)
    rank = case({s: STATE_RANK[s] for s in FAILING}, value=Alert.state, else_=0)
    worst = (
        select(Alert.elevator_id)
        .where(Alert.resolved_at.is_(None))
        .group_by(Alert.elevator_id)
        .having(func.max(rank) == STATE_RANK[state])
    )
    return Elevator.id.in_(worst)


def _contractor_clause(text: str, on: date) -> ColumnElement[bool]:
    """Return a clause: a contractor whose name contains ``text`` holds a contract in force."""
    return exists().where(
        Contract.elevator_id == Elevator.id,
        Contract.start_date <= on,
        Contract.end_date >= on,
        Contract.contractor_id == Organisation.id,
        _contains(Organisation.name, text),
    )


def search_elevators(user: User, criteria: Criteria, on: date) -> Select[Any]:
    """Return the user's elevators matching the criteria, by site then equipment code."""
    query = scoped_elevators(user, on)
    if criteria.site:
        query = query.where(_contains(Site.name, criteria.site))
    if criteria.company:
        companies = select(Organisation.id).where(_contains(Organisation.name, criteria.company))
        query = query.where(Site.organisation_id.in_(companies))
    if criteria.contractor:
        query = query.where(_contractor_clause(criteria.contractor, on))
    if criteria.code:
        code = _compact(criteria.code)
        query = query.where(
            or_(_contains(Elevator.equipment_code, code), _contains(Elevator.registration_no, code))
        )
    if criteria.rescue:
        query = query.where(_contains(Elevator.rescue_code, _compact(criteria.rescue)))
    if criteria.state:
        query = query.where(_state_clause(State(criteria.state)))
    return query.order_by(Site.name, Elevator.equipment_code, Elevator.id)


def worst_states(matrix: Mapping[int, Mapping[str, State]]) -> dict[int, State]:
    """Return each elevator's worst duty state from a status matrix (``ok`` when none fails)."""
    worst: dict[int, State] = {}
    for elevator_id, duties in matrix.items():
        states = [s for s in duties.values() if s in FAILING]
        worst[elevator_id] = max(states, key=STATE_RANK.__getitem__) if states else State.ok
    return worst


# --- downloads of a property company's documents ---------------------------------------


def _company_sites(company_id: int) -> Select[Any]:
    return select(Site.id).where(Site.organisation_id == company_id)


def _company_elevators(company_id: int) -> Select[Any]:
    return (
        select(Elevator.id)
        .join(Site, Elevator.site_id == Site.id)
        .where(Site.organisation_id == company_id)
    )


def _owned_object(company_id: int) -> ColumnElement[bool]:
    """Return a clause: the audit entry's object belongs to the company."""
    record_owned = exists().where(
        Record.id == AuditEntry.object_id,
        Record.elevator_id.in_(_company_elevators(company_id)),
    )
    district_codes = select(Site.district_code).where(Site.organisation_id == company_id)
    export_owned = exists().where(
        ExportJob.id == AuditEntry.object_id,
        or_(
            ExportJob.site_id.in_(_company_sites(company_id)),
            ExportJob.district_code.in_(district_codes),
        ),
    )
    return or_(
        and_(AuditEntry.object_type == "record", record_owned),
        and_(
            AuditEntry.object_type == "elevator",
            AuditEntry.object_id.in_(_company_elevators(company_id)),
        ),
        and_(
            AuditEntry.object_type == "site",
            AuditEntry.object_id.in_(_company_sites(company_id)),
        ),
        and_(AuditEntry.object_type == EXPORT_OBJECT, export_owned),
    )


def company_downloads(company_id: int) -> Select[Any]:
    """Return the audit entries of the downloads of a company's documents, newest first."""
    return (
        select(AuditEntry)
        .where(AuditEntry.action == DOWNLOAD_ACTION, _owned_object(company_id))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )


def who(entries: Iterable[AuditEntry]) -> tuple[dict[int, User], dict[int, Organisation]]:
    """Return the users and organisations named by some audit entries, by id (two queries)."""
    entries = list(entries)
    user_ids = {e.user_id for e in entries if e.user_id is not None}
    org_ids = {e.organisation_id for e in entries if e.organisation_id is not None}
    users = db.session.scalars(select(User).where(User.id.in_(user_ids)))
    orgs = db.session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))
    return {u.id: u for u in users}, {o.id: o for o in orgs}
