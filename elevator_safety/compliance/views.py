"""Compliance pages: the open alerts in the user's scope, and the elevator page's duty panel.

The director's matrix and the role dashboards are planned (issue 5); this is
the list every role already needs: what the rules found, with the reason and a
link to the evidence or to where it must be recorded.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from elevator_safety.compliance import engine
from elevator_safety.compliance.models import STATE_LABELS, STATE_RANK, Alert, State
from elevator_safety.paging import paginate
from elevator_safety.registry.models import Elevator, Site
from elevator_safety.scoping import elevator_scope

bp = Blueprint("compliance", __name__)

#: States an alert can have, worst first (the filter's choices).
ALERT_STATES = sorted(
    (s for s in State if s not in (State.ok, State.not_applicable)),
    key=lambda s: -STATE_RANK[s],
)


@bp.get("/alerts")
@login_required
def index():  # type: ignore[no-untyped-def]
    """List the open alerts of the elevators in scope, worst first, with filters."""
    duty = request.args.get("duty", "")
    state = request.args.get("state", "")
    elevator = request.args.get("elevator", "")
    query = (
        select(Alert)
        .join(Elevator, Alert.elevator_id == Elevator.id)
        .join(Site, Elevator.site_id == Site.id)
        .where(elevator_scope(current_user), Alert.resolved_at.is_(None))
        .options(selectinload(Alert.elevator).selectinload(Elevator.site))
    )
    if duty in engine.DUTIES:
        query = query.where(Alert.duty == duty)
    else:
        duty = ""
    if elevator.isdigit():
        query = query.where(Alert.elevator_id == int(elevator))
    else:
        elevator = ""
    if state in {s.value for s in ALERT_STATES}:
        query = query.where(Alert.state == State(state))
    else:
        state = ""
    page = paginate(query.order_by(Alert.raised_at.desc(), Alert.id.desc()))
    return render_template(
        "compliance/index.html",
        page=page,
        duty=duty,
        state=state,
        elevator=elevator,
        duties=engine.DUTIES,
        states=ALERT_STATES,
        views={a.id: _view(a) for a in page.items},
    )


def _view(alert: Alert) -> dict[str, Any]:
    rule = engine.rule_by_code(alert.rule)
    detail = (alert.detail or {}).get("detail")
    return {
        "title": str(rule.title) if rule else alert.rule,
        "message": rule.message(detail) if rule else alert.rule,
        "link": rule.link(alert.elevator_id, detail) if rule else None,
    }


@bp.app_template_global()
def compliance_panel(elevator: Elevator) -> dict[str, Any]:
    """Return the elevator's duty states and open alerts (for the elevator page)."""
    states = engine.status_matrix([elevator.id]).get(elevator.id, {})
    return {"states": states, "alerts": engine.open_alerts(elevator.id)}


@bp.app_template_global()
def compliance_state_label(state: State | str) -> str:
    """Return a duty state in the user's language."""
    return str(STATE_LABELS[State(state)])
