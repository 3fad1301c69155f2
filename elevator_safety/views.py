"""The home page: what the user is responsible for, at a glance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from elevator_safety.auth.models import OrgKind
from elevator_safety.extensions import db
from elevator_safety.lockouts import services as lockouts
from elevator_safety.public import services as public
from elevator_safety.rectifications import services as rectifications
from elevator_safety.registers import services as registers
from elevator_safety.registry.models import Contract, Elevator, Site
from elevator_safety.scoping import elevator_scope, local_today, scoped_contracts

bp = Blueprint("main", __name__)

#: Rows of each "needs attention" list on the home page.
ATTENTION_ROWS = 10


@dataclass
class Attention:
    """What the user should act on first, in this order (a safety officer's morning)."""

    lockouts: list[Any] = field(default_factory=list)
    open_lockouts: int = 0
    reports: list[Any] = field(default_factory=list)
    pending_reports: int = 0
    rectifications: list[Any] = field(default_factory=list)
    overdue_rectifications: int = 0
    keys_out: list[Any] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Return whether there is nothing to act on."""
        return not (self.lockouts or self.reports or self.rectifications or self.keys_out)


def attention() -> Attention:
    """Collect open lockouts, pending public reports, rectifications due and keys still out."""
    user = current_user
    return Attention(
        lockouts=lockouts.open_lockouts_for(user, ATTENTION_ROWS),
        open_lockouts=lockouts.count_open_lockouts(user),
        reports=public.pending_reports_for(user, ATTENTION_ROWS),
        pending_reports=public.count_pending(user),
        rectifications=rectifications.rectifications_due(user, ATTENTION_ROWS),
        overdue_rectifications=rectifications.count_overdue(user),
        keys_out=registers.unreturned_keys_for(user),
    )


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
        attention=attention(),
        by_status=by_status,
        total=sum(by_status.values()),
        site_count=site_count or 0,
        expiring=expiring,
        mine=mine,
        today=today,
    )
