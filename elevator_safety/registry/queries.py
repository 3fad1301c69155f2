"""The elevator list's search, filters and sorting, shared by the page and the CSV export."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import Select, exists, func, or_, select

from elevator_safety.auth.models import Organisation, User
from elevator_safety.extensions import db
from elevator_safety.registry.models import Contract, Elevator, ElevatorKind, ElevatorStatus, Site
from elevator_safety.scoping import local_today, scoped_elevators

#: Sort keys offered on the list page: key -> column.
SORTS = {
    "code": Elevator.equipment_code,
    "site": Site.name,
    "district": Site.district_code,
    "kind": Elevator.kind,
    "status": Elevator.status,
    "inspection": Elevator.next_inspection_due,
    "sign": Elevator.use_sign_valid_until,
}
DEFAULT_SORT = "code"


def filtered_elevators(user: User, args: Mapping[str, str], on: date | None = None) -> Select:
    """Return the user's elevators matching the list page's query arguments.

    Arguments: ``q`` (equipment code, rescue code, registration number, site name,
    contractor name; substring, case-insensitive), ``site`` (site id), ``district``
    (district code), ``contractor`` (organisation id of the contractor in force
    today), ``kind``, ``status``, ``sort`` (a key of SORTS, ``-`` prefix for descending).
    """
    today = on or local_today()
    query = scoped_elevators(user, today)
    active = (
        (Contract.elevator_id == Elevator.id)
        & (Contract.start_date <= today)
        & (Contract.end_date >= today)
    )
    text = (args.get("q") or "").strip()
    if text:
        like = f"%{text.lower()}%"
        contractor_match = exists().where(
            active,
            Contract.contractor_id == Organisation.id,
            func.lower(Organisation.name).like(like),
        )
        query = query.where(
            or_(
                func.lower(Elevator.equipment_code).like(like),
                func.lower(Elevator.rescue_code).like(like),
                func.lower(Elevator.registration_no).like(like),
                func.lower(Site.name).like(like),
                contractor_match,
            )
        )
    site = args.get("site")
    if site and site.isdigit():
        query = query.where(Elevator.site_id == int(site))
    district = (args.get("district") or "").strip()
    if district:
        query = query.where(Site.district_code == district)
    contractor = args.get("contractor")
    if contractor and contractor.isdigit():
        query = query.where(exists().where(active, Contract.contractor_id == int(contractor)))
    kind = args.get("kind")
    if kind in {k.value for k in ElevatorKind}:
        query = query.where(Elevator.kind == kind)
    status = args.get("status")
    if status in {s.value for s in ElevatorStatus}:
        query = query.where(Elevator.status == status)
    return query.order_by(*sort_columns(args.get("sort")))


def sort_columns(sort: str | None) -> list:  # type: ignore[type-arg]
    """Return ORDER BY columns for a sort argument, with the id as a tie-breaker."""
    sort = sort or DEFAULT_SORT
    descending = sort.startswith("-")
    column = SORTS.get(sort.lstrip("-"), SORTS[DEFAULT_SORT])
    return [column.desc() if descending else column.asc(), Elevator.id]


def contractor_choices(user: User, on: date | None = None) -> list[Organisation]:
    """Return the contractors in force on the user's elevators (for the filter).

    The scope goes in as an IN subquery: joining Contract onto it would make a
    contractor's scope clause (an EXISTS over Contract) correlate to that join.
    """
    today = on or local_today()
    in_scope = scoped_elevators(user, today).with_only_columns(Elevator.id)
    ids = select(Contract.contractor_id).where(
        Contract.elevator_id.in_(in_scope),
        Contract.start_date <= today,
        Contract.end_date >= today,
    )
    return list(
        db.session.scalars(
            select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)
        )
    )
