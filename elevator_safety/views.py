"""The home page: what the user is responsible for, at a glance."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from elevator_safety.auth.models import OrgKind
from elevator_safety.extensions import db
from elevator_safety.registry.models import Contract, Elevator, Site
from elevator_safety.scoping import elevator_scope, local_today, scoped_contracts

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    """Show counts of the elevators in scope and contracts ending soon."""
    today = local_today()
    by_status: dict[str, int] = {
        str(status): count
        for status, count in db.session.execute(
            select(Elevator.status, func.count(Elevator.id))
            .join(Elevator.site)
            .where(elevator_scope(current_user, today))
            .group_by(Elevator.status)
        ).all()
    }
    site_count = db.session.scalar(
        select(func.count(func.distinct(Site.id)))
        .select_from(Elevator)
        .join(Elevator.site)
        .where(elevator_scope(current_user, today))
    )
    horizon = today + timedelta(days=current_app.config["CONTRACT_EXPIRY_WARNING_DAYS"])
    expiring = []
    if current_user.organisation.kind != OrgKind.regulator:
        expiring = list(
            db.session.scalars(
                scoped_contracts(current_user, today)
                .where(Contract.start_date <= today, Contract.end_date >= today)
                .where(Contract.end_date <= horizon)
                .order_by(Contract.end_date, Contract.id)
                .limit(20)
            )
        )
    mine = []
    if current_user.role == "safety_officer":
        mine = list(
            db.session.scalars(
                select(Elevator)
                .where(Elevator.safety_officer_id == current_user.id)
                .order_by(Elevator.equipment_code)
                .limit(50)
            )
        )
    return render_template(
        "index.html",
        by_status=by_status,
        total=sum(by_status.values()),
        site_count=site_count or 0,
        expiring=expiring,
        mine=mine,
        today=today,
    )
