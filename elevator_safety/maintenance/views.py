"""Maintenance pages (D1): record a visit, confirm or reject it on site, list visits.

Every elevator is loaded through ``scoping`` (out of scope: 404); every action
is allowed by a predicate of ``maintenance.services`` (refused: 403). The views
parse the form, call a service, commit or roll back, and render.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import Field
from wtforms.fields.choices import SelectChoice

from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.maintenance import services
from elevator_safety.maintenance.forms import ReviewForm, VisitForm, visit_form_class
from elevator_safety.maintenance.items import LEVEL_ORDER, field_name, list_for, note_name
from elevator_safety.paging import paginate
from elevator_safety.records import services as records_services
from elevator_safety.records.models import SEVERITY_LABELS, Record, RecordKind
from elevator_safety.records.services import DuplicateSubmission
from elevator_safety.registry.models import Elevator, MaintenanceLevel, Site
from elevator_safety.scoping import (
    elevator_scope,
    get_elevator_or_404,
    local_today,
    scoped_elevators,
    scoped_sites,
)
from elevator_safety.security import require, role_required
from elevator_safety.templating import local_dt

bp = Blueprint("maintenance", __name__)


# --- helpers for the templates ---------------------------------------------


@bp.app_template_global("maintenance_panel")
def maintenance_panel(elevator: Elevator) -> dict[str, Any]:
    """Return what the elevator page's maintenance panel shows."""
    today = services.site_today(elevator)
    contract = elevator.active_contract(today)
    levels = contract.levels if contract is not None else list(LEVEL_ORDER)
    history = services.maintenance_records(elevator.id, limit=10)
    awaiting = services.awaiting_records(elevator.id)
    reviews = services.reviews_of(r.id for r in history)
    return {
        "contract": contract,
        "statuses": services.level_statuses(elevator, levels),
        "history": [(r, services.state_from(reviews.get(r.id))) for r in history],
        "awaiting": awaiting,
        "can_record": services.can_record(current_user, elevator, today),
        "may_review": {r.id for r in awaiting if services.can_review(current_user, r)},
        "state_labels": services.STATE_LABELS,
        "level_label": services.level_label,
    }


@bp.app_template_global("maintenance_review_info")
def maintenance_review_info(record: Record) -> dict[str, Any]:
    """Return a maintenance record's state and whether the user may review it."""
    review = services.reviews_of([record.id]).get(record.id)
    state = services.state_from(review)
    return {
        "state": state,
        "state_label": services.STATE_LABELS[state],
        "review": review,
        "can_review": state == services.AWAITING and services.can_review(current_user, record),
        "result_labels": services.RESULT_LABELS,
        "severity_labels": {k.value: v for k, v in SEVERITY_LABELS.items()},
        "level_label": services.level_label,
    }


@bp.app_template_global("maintenance_local_time")
def maintenance_local_time(value: str | None, zone: str | None = None) -> str:
    """Format a UTC time stored in a record's content in the site's zone."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return str(value)
    return local_dt(moment, zone)


def _status(request_method: str) -> int:
    """Return 200 for a page, 422 for a posted form that was refused."""
    return 422 if request_method == "POST" else 200


# --- recording a visit ------------------------------------------------------


def _field(form: VisitForm, name: str) -> Field | None:
    """Return a form field by its name, also inside lists (``problems-0-photo``)."""
    parts = name.split("-")
    if parts[0] not in form:
        return None
    current: Any = form[parts[0]]
    try:
        if len(parts) == 3:
            current = current.entries[int(parts[1])].form[parts[2]]
    except (IndexError, KeyError, ValueError):
        return None
    return current  # type: ignore[no-any-return]


def _apply(form: VisitForm, problems: dict[str, list[str]], *, only_clean: bool) -> None:
    """Copy a service's problems onto the fields (fields already marked keep theirs)."""
    for name, messages in problems.items():
        target = _field(form, name)
        if target is None:
            for message in messages:
                flash(message, "error")
            continue
        if only_clean and target.errors:
            continue
        if not isinstance(target.errors, list):
            target.errors = list(target.errors)
        for message in messages:
            if message not in target.errors:
                target.errors.append(message)


def _visit_input(form: VisitForm, item_codes: list[str]) -> services.VisitInput:
    """Return what the form holds as the service's input."""
    answers = {
        code: (form[field_name(code)].data or None, form[note_name(code)].data)
        for code in item_codes
    }
    return services.VisitInput(
        level=form.level.data or None,
        visit_date=form.visit_date.data,
        arrival=form.arrival.data,
        departure=form.departure.data,
        technician_ids=list(form.technicians.data or []),
        coworkers=[
            services.Coworker(e.form.data["name"], e.form.data["certificate_no"])
            for e in form.coworkers.entries
        ],
        answers=answers,
        extra_items=[
            services.ExtraItem(e.form.data["text"], e.form.data["result"], e.form.data["note"])
            for e in form.extra_items.entries
        ],
        parts_replaced=[
            line.strip() for line in (form.parts_replaced.data or "").splitlines() if line.strip()
        ],
        problems=[
            services.ProblemFound(
                e.form.data["description"], e.form.data["severity"], e.form.data["photo"]
            )
            for e in form.problems.entries
        ],
        photos=[f for f in (form.photos.data or []) if getattr(f, "filename", None)],
        remarks=form.remarks.data,
    )


def _requested_level(levels: list[MaintenanceLevel]) -> MaintenanceLevel:
    """Return the level whose items the form shows: the one asked for, else the plan's first."""
    wanted = request.form.get("level") or request.args.get("level")
    if wanted and wanted in MaintenanceLevel._value2member_map_:
        return MaintenanceLevel(wanted)
    return levels[0] if levels else LEVEL_ORDER[0]


def _visit_day(elevator: Elevator) -> date:
    """Return the visit date typed in the form, else today at the site."""
    typed = request.form.get("visit_date")
    if typed:
        try:
            return date.fromisoformat(typed)
        except ValueError:
            pass
    return services.site_today(elevator)


def _with_blank_rows(form: VisitForm) -> None:
    """Keep a blank row at the end of the lists so that one more can be typed."""
    for name, keys in (
        ("coworkers", ("name", "certificate_no")),
        ("extra_items", ("text",)),
        ("problems", ("description",)),
    ):
        rows = form[name]
        if all(any((e.form.data.get(k) or "").strip() for k in keys) for e in rows.entries):
            rows.append_entry()


@bp.route("/elevators/<int:elevator_id>/maintenance/new", methods=["GET", "POST"])
@role_required(*services.TECHNICIAN_ROLES)
def new_visit(elevator_id: int):  # type: ignore[no-untyped-def]
    """Record a maintenance visit of an elevator and sign it as submitted."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    today = services.site_today(elevator)
    contract = services.contract_for_visit(elevator, current_user, _visit_day(elevator))
    contract = contract or services.contract_for_visit(elevator, current_user, today)
    if contract is None:
        return render_template("maintenance/no_contract.html", elevator=elevator), 403
    plan = contract.levels or list(LEVEL_ORDER)
    level = _requested_level(plan)
    item_list = list_for(elevator.kind)
    items = item_list.for_level(level)
    form = visit_form_class(items)()
    form.level.choices = [SelectChoice(lv.value, services.level_label(lv)) for lv in plan]
    colleagues = services.eligible_technicians(current_user.organisation_id)
    form.technicians.choices = [
        SelectChoice(
            str(u.id),
            _("%(name)s (certificate %(no)s)", name=u.name, no=u.certificate_no)
            if u.certificate_no
            else _("%(name)s (no certificate on record)", name=u.name),
        )
        for u in colleagues
    ]
    reload = request.method == "POST" and "reload" in request.form
    if request.method == "GET":
        form.level.data = level.value
        form.visit_date.data = today
        if current_user.certificate_no:
            form.technicians.data = [current_user.id]
    if request.method == "GET" or reload:
        # Every item starts as done: the technician changes the exceptions.
        for item in items:
            answer = form[field_name(item.code)]
            if not getattr(answer, "raw_data", None):
                answer.data = "done"
        form.level.data = level.value
    if request.method == "POST" and not reload:
        valid = form.validate()
        visit = _visit_input(form, [i.code for i in items])
        if valid:
            try:
                record = services.record_visit(
                    elevator,
                    current_user,
                    visit,
                    form.password.data,
                    idempotency_key=form.idempotency_key.data,
                )
            except DuplicateSubmission as duplicate:
                db.session.rollback()
                return redirect(url_for("records.detail", record_id=duplicate.record.id))
            except services.VisitRefused as refused:
                db.session.rollback()
                _apply(form, refused.problems, only_clean=False)
            else:
                db.session.commit()
                flash(
                    _(
                        "Maintenance record saved and signed (#%(seq)d in the chain). "
                        "It now awaits on-site confirmation by the safety officer.",
                        seq=record.seq,
                    ),
                    "success",
                )
                if any(p.severity == "serious" for p in visit.problems if p.description):
                    flash(
                        _(
                            "A serious hazard was recorded: stop the elevator and tell the "
                            "property company's safety director at once."
                        ),
                        "warning",
                    )
                return redirect(url_for("records.detail", record_id=record.id))
        else:
            problems, _checked = services.check_visit(elevator, current_user, visit)
            _apply(form, problems, only_clean=True)
            db.session.rollback()
    _with_blank_rows(form)
    status = 422 if request.method == "POST" and not reload else 200
    return render_template(
        "maintenance/new.html",
        elevator=elevator,
        contract=contract,
        form=form,
        level=level,
        item_list=item_list,
        groups=item_list.groups(level),
        level_label=services.level_label,
        field_name=field_name,
        note_name=note_name,
        photos_dropped=any(
            getattr(upload, "filename", None)
            for _name, uploads in request.files.lists()
            for upload in uploads
        ),
    ), status


# --- confirming or rejecting on site ---------------------------------------


def get_maintenance_or_404(record_id: int) -> Record:
    """Load a maintenance record whose elevator the user may see, or answer 404."""
    record = db.session.get(Record, record_id)
    if record is None or record.kind != RecordKind.maintenance:
        abort(404)
    get_elevator_or_404(current_user, record.elevator_id)
    return record


@bp.route("/maintenance/<int:record_id>/review", methods=["GET", "POST"])
@role_required(*services.REVIEWER_ROLES)
def review(record_id: int):  # type: ignore[no-untyped-def]
    """Confirm a maintenance record on site (现场监督确认) or reject it with a reason."""
    record = get_maintenance_or_404(record_id)
    require(services.can_review(current_user, record))
    state = services.state_of(record)
    if state != services.AWAITING:
        message = services.already_reviewed_message(state)
        if request.method == "POST":
            flash(message, "warning")
            return redirect(url_for("records.detail", record_id=record.id))
        return render_template(
            "maintenance/review.html",
            record=record,
            form=None,
            reviewed_message=message,
            data=record.data,
            effective=records_services.effective(record),
        )
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            if form.decision.data == services.CONFIRMED:
                services.confirm(
                    record,
                    current_user,
                    form.password.data,
                    form.remarks.data,
                    idempotency_key=form.idempotency_key.data,
                )
                done = _("Maintenance record confirmed on site and signed.")
            else:
                services.reject(
                    record,
                    current_user,
                    form.password.data,
                    form.reason.data,
                    idempotency_key=form.idempotency_key.data,
                )
                done = _(
                    "Maintenance record rejected. It stays in the archive with your reason; "
                    "the contractor submits a new one."
                )
        except DuplicateSubmission:
            db.session.rollback()
            return redirect(url_for("records.detail", record_id=record.id))
        except DomainError as error:
            db.session.rollback()
            target = getattr(form, error.field or "", None)
            if target is not None:
                target.errors.append(error.message)
            else:
                flash(error.message, "error")
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(url_for("records.detail", record_id=record.id))
    elif (
        form.is_submitted()
        and form.decision.data == services.REJECTED
        and not (form.reason.data or "").strip()
        and not form.reason.errors
    ):
        # Show the missing reason with the form's own messages, all at once.
        form.reason.errors.append(_("Give the reason for the rejection."))
    return render_template(
        "maintenance/review.html",
        record=record,
        form=form,
        reviewed_message=None,
        data=record.data,
        effective=records_services.effective(record),
    ), _status(request.method)


# --- the list ---------------------------------------------------------------


@bp.get("/maintenance")
@login_required
def index():  # type: ignore[no-untyped-def]
    """List the maintenance records in the user's scope, with filters and pages."""
    today = local_today()
    query = (
        select(Record)
        .join(Elevator, Record.elevator_id == Elevator.id)
        .join(Elevator.site)
        .where(Record.kind == RecordKind.maintenance, elevator_scope(current_user, today))
        .options(selectinload(Record.elevator).selectinload(Elevator.site))
    )
    state = request.args.get("state") or ""
    if state in services.STATES:
        query = query.where(services.state_clause(state))
    level = request.args.get("level") or ""
    if level in MaintenanceLevel._value2member_map_:
        query = query.where(Record.level == level)
    site_id = request.args.get("site", type=int)
    if site_id is not None:
        query = query.where(Elevator.site_id == site_id)
    elevator_id = request.args.get("elevator", type=int)
    elevator = None
    if elevator_id is not None:
        query = query.where(Record.elevator_id == elevator_id)
        elevator = db.session.scalar(
            scoped_elevators(current_user, today).where(Elevator.id == elevator_id)
        )
    query = query.order_by(Record.occurred_at.desc(), Record.id.desc())
    page = paginate(query)
    reviews = services.reviews_of(r.id for r in page.items)
    rows = []
    for record in page.items:
        row_state = services.state_from(reviews.get(record.id))
        rows.append(
            {
                "record": record,
                "state": row_state,
                "review": reviews.get(record.id),
                "can_review": row_state == services.AWAITING
                and services.can_review(current_user, record),
            }
        )
    sites = db.session.scalars(scoped_sites(current_user, today).order_by(Site.name, Site.id))
    return render_template(
        "maintenance/index.html",
        page=page,
        rows=rows,
        args=request.args,
        sites=list(sites),
        elevator=elevator,
        states=services.STATES,
        state_labels=services.STATE_LABELS,
        levels=LEVEL_ORDER,
        level_label=services.level_label,
    )
