"""Patrol pages: the patrol form (phone first), the patrol list, today's round, the QR label.

The record of a patrol is shown by the records blueprint (/records/<id>) with
templates/records/kinds/patrol.html; the elevator page includes
templates/patrols/_elevator_panel.html. Both get what they need from the
template globals registered here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from elevator_safety.auth.models import Role
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.formviews import field_error
from elevator_safety.paging import paginate
from elevator_safety.patrols import checklists, forms, services
from elevator_safety.patrols.checklists import DUTY_TITLES, PATROL_DUTIES, Checklist, Item
from elevator_safety.records.models import Finding, Record, RecordKind
from elevator_safety.records.services import DuplicateSubmission, Effective, find_by_idempotency_key
from elevator_safety.registry.models import STATUS_LABELS, Elevator, ElevatorStatus, Site
from elevator_safety.scoping import (
    elevator_scope,
    get_elevator_or_404,
    local_today,
    scoped_elevators,
    scoped_sites,
)
from elevator_safety.security import require, role_required

bp = Blueprint("patrols", __name__)

RESULT_LABELS = {c.value: c.label for c in forms.RESULT_CHOICES}
MISUSE_ACTION_LABELS = {c.value: c.label for c in forms.MISUSE_ACTION_CHOICES}
STATUS_SEEN_LABELS = {c.value: c.label for c in forms.STATUS_SEEN_CHOICES}


# --- helpers ------------------------------------------------------------------


def duty_groups(items: list[Item]) -> list[dict[str, Any]]:
    """Group items by duty, in duty order."""
    groups = []
    for duty in PATROL_DUTIES:
        members = [item for item in items if item.duty == duty]
        if members:
            groups.append({"duty": duty, "title": DUTY_TITLES[duty], "members": members})
    return groups


def limits_label(item: Item) -> str:
    """Return the configured limits of a reading item as text."""
    low, high = checklists.limits(item)
    return services.limits_text(low, high, item.unit)


def _status(form_posted: bool) -> int:
    return 422 if form_posted else 200


def _duplicate(record: Record):  # type: ignore[no-untyped-def]
    """Send a resubmitted form to the record it already created."""
    db.session.rollback()
    flash(_("This patrol was already recorded; here it is."), "info")
    return redirect(url_for("records.detail", record_id=record.id))


def _raced(token: str | None, error: IntegrityError):  # type: ignore[no-untyped-def]
    """Two copies of one form arrived together (double tap): send the loser to the winner's record.

    The copies race on the form token and on the rows of the same photos; the
    one that lost finds the record the other one committed.
    """
    db.session.rollback()
    existing = find_by_idempotency_key(token)
    if existing is None:
        raise error  # not a double submission: a real bug, shown as such
    return _duplicate(existing)


def _saved(record: Record):  # type: ignore[no-untyped-def]
    record_id, seq = record.id, record.seq  # read before the commit expires them (no reload)
    # Counted inside the transaction: after the commit, one query would open another.
    failed = services.failed_counts([record_id]).get(record_id, 0)
    db.session.commit()
    if failed:
        flash(
            ngettext(
                "Patrol recorded and signed (#%(seq)d in the chain); %(num)d finding opened.",
                "Patrol recorded and signed (#%(seq)d in the chain); %(num)d findings opened.",
                failed,
                seq=seq,
            ),
            "warning",
        )
    else:
        flash(_("Patrol recorded and signed (#%(seq)d in the chain).", seq=seq), "success")
    return redirect(url_for("records.detail", record_id=record_id))


# --- the patrol form ----------------------------------------------------------


@bp.route("/elevators/<int:elevator_id>/patrols/new", methods=["GET", "POST"])
@role_required(Role.safety_officer, Role.safety_director)
def new(elevator_id: int):  # type: ignore[no-untyped-def]
    """Record a daily patrol of an elevator (or the state of an out-of-service one)."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    require(services.can_patrol(current_user, elevator))
    if request.method == "POST":
        existing = find_by_idempotency_key(request.form.get("idempotency_key"))
        if existing is not None:
            return _duplicate(existing)
    if elevator.status != ElevatorStatus.in_service:
        return _out_of_service(elevator)
    checklist = checklists.current_for(elevator.kind.value)
    items = checklist.items_for(elevator.kind.value)
    form = forms.make_patrol_form(items)
    if form.validate_on_submit():
        try:
            record = services.submit_patrol(
                elevator,
                current_user,
                form.password.data,
                checklist,
                forms.answers(form, items),
                now=now_utc(),
                misuse=forms.misuse(form),
                note=form.note.data,
                idempotency_key=form.idempotency_key.data,
            )
        except DuplicateSubmission as duplicate:
            return _duplicate(duplicate.record)
        except DomainError as error:
            db.session.rollback()
            field_error(form, error, "password")
        except IntegrityError as error:
            return _raced(form.idempotency_key.data, error)
        else:
            return _saved(record)
    return render_template(
        "patrols/new.html",
        elevator=elevator,
        checklist=checklist,
        form=form,
        groups=duty_groups(items),
        limits_label=limits_label,
        acts=checklists.prohibited_acts(),
        posted=request.method == "POST",
    ), _status(request.method == "POST")


def _out_of_service(elevator: Elevator):  # type: ignore[no-untyped-def]
    """Record the state of an out-of-service elevator instead of the checklist."""
    form = forms.OutOfServiceForm()
    if form.validate_on_submit():
        try:
            record = services.submit_out_of_service(
                elevator,
                current_user,
                form.password.data,
                now=now_utc(),
                status_seen=form.status_seen.data,
                notice_posted=form.notice_posted.data == "yes",
                note=form.note.data,
                photo=form.photo.data or None,
                idempotency_key=form.idempotency_key.data,
            )
        except DuplicateSubmission as duplicate:
            return _duplicate(duplicate.record)
        except DomainError as error:
            db.session.rollback()
            field_error(form, error, "password")
        except IntegrityError as error:
            return _raced(form.idempotency_key.data, error)
        else:
            return _saved(record)
    return render_template(
        "patrols/out_of_service.html",
        elevator=elevator,
        form=form,
        posted=request.method == "POST",
    ), _status(request.method == "POST")


# --- lists --------------------------------------------------------------------


def _date_arg(name: str) -> tuple[date | None, str | None]:
    """Return a YYYY-MM-DD query argument as a date, and an error message if it is not one."""
    text = (request.args.get(name) or "").strip()
    if not text:
        return None, None
    try:
        return date.fromisoformat(text), None
    except ValueError:
        return None, _("Enter a date as YYYY-MM-DD.")


def _int_arg(name: str) -> int | None:
    return request.args.get(name, type=int)


@bp.get("/patrols")
@login_required
def index():  # type: ignore[no-untyped-def]
    """List the patrols of the user's elevators, newest first, with filters."""
    query = (
        select(Record)
        .join(Elevator, Record.elevator_id == Elevator.id)
        .join(Elevator.site)
        .where(Record.kind == RecordKind.patrol, elevator_scope(current_user))
        .options(
            contains_eager(Record.elevator).contains_eager(Elevator.site),
            selectinload(Record.author),
        )
    )
    errors: dict[str, str] = {}
    site_id = _int_arg("site")
    if site_id:
        query = query.where(Elevator.site_id == site_id)
    elevator_id = _int_arg("elevator")
    elevator = None
    if elevator_id:
        elevator = get_elevator_or_404(current_user, elevator_id)
        query = query.where(Record.elevator_id == elevator.id)
    date_from, error = _date_arg("date_from")
    if error:
        errors["date_from"] = error
    date_to, error = _date_arg("date_to")
    if error:
        errors["date_to"] = error
    if date_from:
        query = query.where(Record.occurred_on >= date_from)
    if date_to:
        query = query.where(Record.occurred_on <= date_to)
    failed = request.args.get("failed", "")
    has_findings = exists().where(Finding.source_record_id == Record.id)
    if failed == "yes":
        query = query.where(has_findings)
    elif failed == "no":
        query = query.where(~has_findings)
    query = query.order_by(Record.occurred_at.desc(), Record.id.desc())
    page = paginate(query)
    sites = db.session.scalars(scoped_sites(current_user).order_by(Site.name, Site.id)).all()
    return render_template(
        "patrols/index.html",
        page=page,
        rows=services.summaries(page.items),
        sites=sites,
        elevator=elevator,
        args=request.args,
        errors=errors,
        can_patrol_today=current_user.role in services.PATROL_ROLES,
    )


@bp.get("/patrols/today")
@role_required(Role.safety_officer, Role.safety_director)
def today():  # type: ignore[no-untyped-def]
    """Show today's round: an officer's elevators (the director's: all) and their patrol state."""
    now = now_utc()
    query = (
        scoped_elevators(current_user)
        .where(Elevator.status != ElevatorStatus.decommissioned)
        .options(contains_eager(Elevator.site), selectinload(Elevator.safety_officer))
        .order_by(Site.name, Elevator.building, Elevator.unit, Elevator.equipment_code)
    )
    if current_user.role == Role.safety_officer:
        query = query.where(Elevator.safety_officer_id == current_user.id)
    elevators = db.session.scalars(query).all()
    states = services.daily_states(elevators, now)
    done = sum(1 for state in states.values() if state.done)
    return render_template(
        "patrols/today.html",
        elevators=elevators,
        states=states,
        done=done,
        today=local_today(now),
        timezone=current_app.config["TIMEZONE"],
        show_officer=current_user.role != Role.safety_officer,
    )


# --- the QR label -------------------------------------------------------------


@bp.get("/elevators/<int:elevator_id>/label")
@login_required
def label(elevator_id: int):  # type: ignore[no-untyped-def]
    """Show a printable label whose QR code opens the elevator's public report page.

    Passengers report problems there without logging in; staff follow its
    "record a patrol" link to the patrol form.
    """
    elevator = get_elevator_or_404(current_user, elevator_id)
    target = url_for("public.report_page", equipment_code=elevator.equipment_code, _external=True)
    return render_template(
        "patrols/label.html",
        elevator=elevator,
        target=target,
        qr_svg=qr_svg(target, elevator.equipment_code),
        hotline=current_app.config["RESCUE_HOTLINE"],
    )


def qr_svg(text: str, title: str) -> Markup:
    """Return a QR code of a text as inline SVG, sized by CSS (class ``qr``), no style attribute."""
    import segno  # here: the documents' QR library loads where a code is drawn

    svg = segno.make(text, error="m").svg_inline(
        scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None, title=title
    )
    # A presentation attribute, not a style: keeps module edges sharp on screens.
    svg = svg.replace("<path ", '<path shape-rendering="crispEdges" ', 1)
    return Markup(svg)  # noqa: S704 - segno's SVG of our own URL; the title is escaped by segno


# --- template globals: the elevator page's panel and the record page's body -----


@bp.app_template_global()
def patrol_panel(elevator: Elevator) -> dict[str, Any]:
    """Return what the elevator page's patrol panel shows."""
    now = now_utc()
    recent = services.recent_patrols(elevator, limit=5)
    return {
        "state": services.daily_states([elevator], now)[elevator.id],
        "recent": services.summaries(recent),
        "can_patrol": (
            current_user.is_authenticated
            and services.can_patrol(current_user, elevator)
            and elevator.status != ElevatorStatus.decommissioned
        ),
    }


def _item_view(item: Item | None, code: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": code,
        "label": item.label() if item else code,
        "duty": entry.get("duty") or (item.duty if item else ""),
        "is_reading": "value" in entry,
        "path": f"items.{code}",
        "entry": entry,
    }


@bp.app_template_global()
def patrol_view(record: Record, effective: Effective) -> dict[str, Any]:
    """Return a patrol record's body, as corrected, grouped by duty with labels."""
    body = effective.body
    if body.get("out_of_service"):
        return {"out_of_service": True, "body": body}
    checklist: Checklist | None = checklists.get(
        body.get("checklist", ""), body.get("checklist_version", 0)
    )
    entries: dict[str, dict[str, Any]] = body.get("items") or {}
    order = [item.code for item in checklist.items] if checklist else []
    codes = [c for c in order if c in entries] + sorted(c for c in entries if c not in order)
    views = [_item_view(checklist.item(c) if checklist else None, c, entries[c]) for c in codes]
    groups = []
    for duty in [*PATROL_DUTIES, *sorted({v["duty"] for v in views} - set(PATROL_DUTIES))]:
        members = [v for v in views if v["duty"] == duty]
        if members:
            groups.append({"duty": duty, "title": DUTY_TITLES.get(duty, ""), "members": members})
    misuse = body.get("misuse")
    act = checklists.act(misuse.get("act")) if misuse else None
    return {
        "out_of_service": False,
        "body": body,
        "checklist": checklist,
        "groups": groups,
        "misuse": misuse,
        "act_label": act.label() if act else (misuse or {}).get("act"),
        "failed": [v for v in views if v["entry"].get("result") == "fail"],
    }


@bp.app_template_global()
def patrol_labels() -> dict[str, Any]:
    """Return the labels of the codes stored in patrol bodies."""
    return {
        "result": RESULT_LABELS,
        "misuse_action": MISUSE_ACTION_LABELS,
        "status_seen": STATUS_SEEN_LABELS,
        "yes_no": {True: _("Yes"), False: _("No")},
        "registry_status": {status.value: label for status, label in STATUS_LABELS.items()},
    }


@bp.app_template_filter("outside_limits")
def outside_limits(entry: dict[str, Any]) -> bool:
    """Return whether a reading's (corrected) value lies outside the limits it was taken with."""
    value = services.parse_reading(entry.get("value"))
    if value is None:
        return False
    low = services.parse_reading(entry.get("min"))
    high = services.parse_reading(entry.get("max"))
    return services.reading_result(value, low, high) == "fail"
