"""Scope queries by the current user: the one place that decides who sees what.

Property-company users see their company's sites; contractor users see the
elevators under an active contract with their organisation (losing them the day
after the contract ends); regulators see their district. Every view that lists
or loads sites, elevators or contracts goes through these functions.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app
from sqlalchemy import Select, and_, exists, false, select
from sqlalchemy.orm import contains_eager

from elevator_safety.auth.models import OrgKind, User
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.registry.models import Contract, Elevator, Site


def local_today(now: datetime | None = None) -> date:
    """Return today's date in the installation's time zone."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return (now or now_utc()).astimezone(zone).date()


def active_contract_clause(contractor_id: int, on: date):  # type: ignore[no-untyped-def]
    """Return an EXISTS clause: the elevator has a contract with the contractor in force."""
    return exists().where(
        and_(
            Contract.elevator_id == Elevator.id,
            Contract.contractor_id == contractor_id,
            Contract.start_date <= on,
            Contract.end_date >= on,
        )
    )


def elevator_scope(user: User, on: date | None = None):  # type: ignore[no-untyped-def]
    """Return the WHERE clause limiting elevators to the user's scope (join Site first)."""
    org = user.organisation
    if org.kind == OrgKind.property_company:
        return Site.organisation_id == org.id
    if org.kind == OrgKind.contractor:
        return active_contract_clause(org.id, on or local_today())
    if org.kind == OrgKind.regulator and org.district_code:
        return Site.district_code == org.district_code
    return false()


def site_scope(user: User, on: date | None = None):  # type: ignore[no-untyped-def]
    """Return the WHERE clause limiting sites to the user's scope."""
    org = user.organisation
    if org.kind == OrgKind.property_company:
        return Site.organisation_id == org.id
    if org.kind == OrgKind.regulator and org.district_code:
        return Site.district_code == org.district_code
    if org.kind == OrgKind.contractor:
        return Site.id.in_(
            select(Elevator.site_id).where(active_contract_clause(org.id, on or local_today()))
        )
    return false()


def scoped_elevators(user: User, on: date | None = None) -> Select:
    """Return a select() of the elevators the user may see."""
    return select(Elevator).join(Elevator.site).where(elevator_scope(user, on))


def scoped_sites(user: User, on: date | None = None) -> Select:
    """Return a select() of the sites the user may see."""
    return select(Site).where(site_scope(user, on))


def scoped_contracts(user: User, on: date | None = None) -> Select:
    """Return a select() of the contracts the user may see.

    Contractors see their own contracts (current or past); others see the
    contracts of the elevators in their scope.
    """
    org = user.organisation
    query = select(Contract).join(Contract.elevator).join(Elevator.site)
    if org.kind == OrgKind.contractor:
        return query.where(Contract.contractor_id == org.id)
    return query.where(elevator_scope(user, on))


def get_elevator_or_404(user: User, elevator_id: int) -> Elevator:
    """Load an elevator the user may see, or answer 404."""
    elevator = db.session.scalar(
        scoped_elevators(user)
        .where(Elevator.id == elevator_id)
        .options(contains_eager(Elevator.site))  # the scope joined it already: no second query
    )
    if elevator is None:
        abort(404)
    return elevator


def get_site_or_404(user: User, site_id: int) -> Site:
    """Load a site the user may see, or answer 404."""
    site = db.session.scalar(scoped_sites(user).where(Site.id == site_id))
    if site is None:
        abort(404)
    return site


def get_contract_or_404(user: User, contract_id: int) -> Contract:
    """Load a contract the user may see, or answer 404."""
    contract = db.session.scalar(scoped_contracts(user).where(Contract.id == contract_id))
    if contract is None:
        abort(404)
    return contract
