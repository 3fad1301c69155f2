"""Pages of the dashboards package.

- ``/dashboards/matrix``: the safety director's compliance matrix (安全总监):
  the company's elevators × duties D1..D11, counts per site and a 12-week trend.
- ``/dashboards/district``: the regulator's district overview (监管): compliance
  by property company and by contractor, hard stops, late rescues, worst elevators.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import Select, select

from elevator_safety.auth.models import Organisation, OrgKind, Role
from elevator_safety.compliance import engine
from elevator_safety.dashboards import services, trend
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.paging import paginate
from elevator_safety.registry.models import Elevator, Site
from elevator_safety.scoping import elevator_scope, get_site_or_404, local_today, scoped_sites
from elevator_safety.security import require, role_required

bp = Blueprint("dashboards", __name__)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _scope(site_id: int | None = None, company_id: int | None = None) -> Select[Any]:
    """Return a select of the ids of the elevators in the user's scope, filtered."""
    query = select(Elevator.id).join(Site, Elevator.site_id == Site.id)
    query = query.where(elevator_scope(current_user))
    if site_id is not None:
        query = query.where(Site.id == site_id)
    if company_id is not None:
        query = query.where(Site.organisation_id == company_id)
    return query


@bp.get("/dashboards/matrix")
@role_required(Role.safety_director, Role.admin, Role.safety_officer)
def matrix():  # type: ignore[no-untyped-def]
    """Show the company's elevators × duties with each duty's state, site counts and trend."""
    require(current_user.organisation.kind == OrgKind.property_company)
    site_id = _int_arg("site")
    site = get_site_or_404(current_user, site_id) if site_id is not None else None
    scope = _scope(site.id if site else None)
    page = paginate(
        select(Elevator)
        .join(Site, Elevator.site_id == Site.id)
        .where(Elevator.id.in_(scope))
        .order_by(Site.name, Elevator.equipment_code, Elevator.id)
    )
    now = now_utc()
    states = engine.status_matrix([e.id for e in page.items]) if page.items else {}
    points = services.compliant_trend(scope, services.week_ends(now))
    return render_template(
        "dashboards/matrix.html",
        page=page,
        states=states,
        duties=engine.DUTIES,
        sites=db.session.scalars(scoped_sites(current_user).order_by(Site.name)).all(),
        site=site,
        site_rates=services.site_rates(scope),
        total=services.total_rate(scope),
        points=points,
        chart=trend.render(points, current_app.config["TIMEZONE"]),
    )


@bp.get("/dashboards/district")
@role_required(Role.regulator)
def district():  # type: ignore[no-untyped-def]
    """Show the district's compliance by company and contractor, and where it is worst."""
    site_id = _int_arg("site")
    company_id = _int_arg("company")
    site = get_site_or_404(current_user, site_id) if site_id is not None else None
    companies = db.session.scalars(
        select(Organisation)
        .where(
            Organisation.id.in_(scoped_sites(current_user).with_only_columns(Site.organisation_id))
        )
        .order_by(Organisation.name)
    ).all()
    company = None
    if company_id is not None:
        company = next((c for c in companies if c.id == company_id), None)
        if company is None:
            abort(404)
    sites_query = scoped_sites(current_user).order_by(Site.name)
    if company is not None:
        sites_query = sites_query.where(Site.organisation_id == company.id)
    scope = _scope(site.id if site else None, company.id if company else None)
    now = now_utc()
    return render_template(
        "dashboards/district.html",
        site=site,
        company=company,
        sites=db.session.scalars(sites_query).all(),
        companies=companies,
        total=services.total_rate(scope),
        company_rates=services.company_rates(scope),
        contractor_rates=services.contractor_rates(scope, local_today(now)),
        hard_stops=services.hard_stop_count(scope),
        rescues=services.late_rescues(scope, now),
        rescue_days=services.RESCUE_WINDOW_DAYS,
        worst=services.worst_elevators(scope),
    )
