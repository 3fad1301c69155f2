"""Pages of the dashboards package.

- ``/dashboards/matrix``: the safety director's compliance matrix (安全总监):
  the company's elevators × duties D1..D11, counts per site and a 12-week trend.
- ``/dashboards/district``: the regulator's district overview (监管): compliance
  by property company and by contractor, hard stops, late rescues, worst elevators.
- ``/sites/<id>/reviews/new?kind=weekly|monthly``: the safety director signs the
  weekly check (周排查) or monthly review (月调度) of Order No. 74, a snapshot of
  the site's matrix with the director's findings, kept in the site's register chain;
  ``/sites/<id>/reviews`` lists them.

The matrix and the district pages are sized for a company or district of
20,000 elevators (docs/performance.md): numbers come from services' aggregate
queries and the site filter's options from tables (not a Jinja loop); the matrix
shows the counts per site 25 sites a page and pages over elevator ids before
loading 25 elevators.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from wtforms import TextAreaField
from wtforms.validators import Length

from elevator_safety.auth.models import Organisation, OrgKind, Role
from elevator_safety.compliance import engine
from elevator_safety.compliance.models import STATE_LABELS
from elevator_safety.dashboards import reviews, services, tables, trend
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.formviews import field_error, form_status
from elevator_safety.paging import ListPagination, paginate
from elevator_safety.records.forms import REQUIRED, RecordForm, SignatureMixin
from elevator_safety.records.services import DuplicateSubmission
from elevator_safety.registers import chain
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


def _site_choices(query: Select[Any]) -> list[Any]:
    """Return (id, name) rows of the sites of a query, for a filter's options (no ORM objects)."""
    return list(db.session.execute(query.with_only_columns(Site.id, Site.name)))


def _in_order(ids: list[int]) -> list[Elevator]:
    """Load elevators with their site by id, in the order of the ids.

    The page is chosen over ids only: sorting 20,000 whole elevator rows to
    keep 25 of them costs three times as much.
    """
    if not ids:
        return []
    query = select(Elevator).where(Elevator.id.in_(ids)).options(joinedload(Elevator.site))
    loaded = {elevator.id: elevator for elevator in db.session.scalars(query)}
    return [loaded[elevator_id] for elevator_id in ids]


@bp.get("/dashboards/matrix")
@role_required(Role.safety_director, Role.admin, Role.safety_officer)
def matrix():  # type: ignore[no-untyped-def]
    """Show the company's elevators × duties with each duty's state, site counts and trend."""
    require(current_user.organisation.kind == OrgKind.property_company)
    site_id = _int_arg("site")
    site = get_site_or_404(current_user, site_id) if site_id is not None else None
    scope = _scope(site.id if site else None)
    ids = (
        select(Elevator.id)
        .join(Site, Elevator.site_id == Site.id)
        .where(elevator_scope(current_user))
        .order_by(Site.name, Elevator.equipment_code, Elevator.id)
    )
    if site is not None:
        ids = ids.where(Site.id == site.id)
    page = paginate(ids)
    now = now_utc()
    states = engine.status_matrix(page.items) if page.items else {}
    site_rates = services.site_rates(scope)
    total = services.sum_rates(site_rates)
    site_page = ListPagination(site_rates, "sites")
    ends = services.week_ends(now, current_app.config["TIMEZONE"])
    key = ("company", current_user.organisation_id, site.id if site else None)
    # Now is the share of the elevators without a failing open alert: the total's share.
    points = [*services.past_trend(key, scope, ends[:-1]), (now, total.share)]
    return render_template(
        "dashboards/matrix.html",
        page=page,
        elevators=_in_order(page.items),
        states=states,
        state_labels={state.value: str(label) for state, label in STATE_LABELS.items()},
        duties=engine.DUTIES,
        site_options=tables.site_options(
            _site_choices(scoped_sites(current_user).order_by(Site.name)), site_id
        ),
        site=site,
        site_page=site_page,
        # the links to sign the weekly check and the monthly review of each site
        can_review=current_user.role == Role.safety_director,
        total=total,
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
    company_rates, contractor_rates = services.company_and_contractor_rates(scope, local_today(now))
    return render_template(
        "dashboards/district.html",
        site=site,
        company=company,
        site_options=tables.site_options(_site_choices(sites_query), site_id),
        companies=companies,
        total=services.sum_rates(company_rates),
        company_rates=company_rates,
        contractor_rates=contractor_rates,
        hard_stops=services.hard_stop_count(scope),
        rescues=services.late_rescues(scope, now),
        rescue_days=services.RESCUE_WINDOW_DAYS,
        worst=services.worst_elevators(scope),
    )


# --- the safety director's weekly check and monthly review (周排查、月调度) ----------------


class ReviewForm(RecordForm, SignatureMixin):
    """A weekly check or monthly review: the director's findings and decisions, signed."""

    comments = TextAreaField(
        _l("Findings and decisions"),
        validators=[REQUIRED, Length(max=4000, message=_l("At most %(max)d characters."))],
        description=_l(
            "What you checked, the problems found and what is decided: who does what by when."
        ),
    )


def _review_kind() -> str:
    kind = request.args.get("kind", "weekly")
    if kind not in reviews.KINDS:
        abort(404)
    return kind


@bp.route("/sites/<int:site_id>/reviews/new", methods=["GET", "POST"])
@role_required(Role.safety_director)
def new_review(site_id: int):  # type: ignore[no-untyped-def]
    """Sign the site's weekly check (周排查) or monthly review (月调度) with the matrix snapshot."""
    kind = _review_kind()
    site = get_site_or_404(current_user, site_id)
    require(reviews.can_review(current_user, site))
    if request.method == "POST":
        existing = chain.find_by_idempotency_key(request.form.get("idempotency_key"))
        if existing is not None:
            flash(_("This form was already submitted; here is what it recorded."), "info")
            return redirect(url_for("registers.entry", entry_id=existing.id))
    form = ReviewForm()
    now = now_utc()
    today = chain.site_day(site, now)
    if form.validate_on_submit():
        try:
            entry = reviews.sign_review(
                site,
                kind,
                current_user,
                form.password.data,
                comments=form.comments.data or "",
                now=now,
                idempotency_key=form.idempotency_key.data,
            )
        except DuplicateSubmission as duplicate:
            db.session.rollback()
            return redirect(url_for("registers.entry", entry_id=duplicate.record.id))
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        except IntegrityError:
            db.session.rollback()
            existing = chain.find_by_idempotency_key(form.idempotency_key.data)
            if existing is None:
                raise
            return redirect(url_for("registers.entry", entry_id=existing.id))
        else:
            db.session.commit()
            flash(_("Review signed and recorded in the site's register."), "success")
            return redirect(url_for("registers.entry", entry_id=entry.id))
    return render_template(
        "dashboards/review_form.html",
        site=site,
        kind=kind,
        title=reviews.KIND_TITLES[kind],
        period=reviews.period_of(kind, today),
        existing=reviews.existing_review(site, kind, today),
        snapshot=reviews.snapshot(site),
        duties=engine.DUTIES,
        form=form,
    ), form_status()


@bp.get("/sites/<int:site_id>/reviews")
@role_required(*reviews.READ_ROLES)
def site_reviews(site_id: int):  # type: ignore[no-untyped-def]
    """List a site's signed weekly checks and monthly reviews, newest first."""
    site = get_site_or_404(current_user, site_id)
    page = paginate(reviews.reviews_of(site))
    return render_template(
        "dashboards/reviews.html",
        site=site,
        page=page,
        can_review=reviews.can_review(current_user, site),
    )
