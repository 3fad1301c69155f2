"""Handover pages (移交检查): list, start, checklist, the three signatures, cancellation.

Roles are checked first (403), then the scope (404: ``services.scoped_handovers``
and ``scoping.get_elevator_or_404``), then the party (403: e.g. the incoming
manager on the outgoing contractor's step). The views parse the form, call a
service and commit; the rules live in ``handovers.services``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from elevator_safety.auth.models import Organisation, User
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.formviews import render_form
from elevator_safety.handovers import services
from elevator_safety.handovers.forms import CancelForm, ChecklistForm, SignForm, StartForm
from elevator_safety.handovers.services import Step
from elevator_safety.paging import paginate
from elevator_safety.records.models import Handover, HandoverStatus
from elevator_safety.records.services import DuplicateSubmission
from elevator_safety.registry import services as registry
from elevator_safety.registry.forms import placeholder
from elevator_safety.registry.models import LEVEL_LABELS, Contract, Elevator, MaintenanceLevel
from elevator_safety.scoping import get_elevator_or_404, local_today, scoped_elevators
from elevator_safety.security import require

bp = Blueprint("handovers", __name__)

#: Filters of the list page besides the statuses themselves.
EXTRA_FILTERS = ("open", "overdue")


# --- helpers ---------------------------------------------------------------------------------


def get_handover_or_404(handover_id: int) -> Handover:
    """Load a handover the user may see, or answer 404."""
    handover = services.get_handover(current_user, handover_id)
    if handover is None:
        abort(404)
    return handover


def _apply_problems(form: FlaskForm, problems: registry.Problems) -> None:
    """Put a service's problems on the form's fields; others become a flash.

    A field the form itself refused keeps only the form's message, so that the
    user sees what to fix first, not a consequence of it.
    """
    for name, messages in problems.errors.items():
        target = getattr(form, name, None)
        if target is None:
            for message in messages:
                flash(message, "error")
        elif not target.errors:
            target.errors = list(messages)


def visible_elevator_ids(elevator_ids: set[int], today: date) -> set[int]:
    """Return which of the elevators the user may open (for links)."""
    if not elevator_ids:
        return set()
    return set(
        db.session.scalars(
            scoped_elevators(current_user, today)
            .with_only_columns(Elevator.id)
            .where(Elevator.id.in_(elevator_ids))
        )
    )


def _labels() -> dict[str, Any]:
    return {
        "status_labels": services.STATUS_LABELS,
        "step_labels": services.STEP_LABELS,
        "level_labels": LEVEL_LABELS,
        "checklist": services.CHECKLIST,
    }


def _plan_labels(plan: str) -> str:
    return " · ".join(
        str(LEVEL_LABELS[MaintenanceLevel(v)])
        for v in plan.split(",")
        if v in MaintenanceLevel.__members__
    )


@bp.app_template_global()
def handover_plan_label(plan: str) -> str:
    """Return a stored level plan in the user's language."""
    return _plan_labels(plan or "")


@bp.app_template_global()
def handover_item_label(item: Any) -> str:
    """Return a checklist item's label (data or a record's snapshot) in the user's language."""
    if isinstance(item, services.ChecklistItem):
        return item.label()
    return services.localised(item.get("label_en") or "", item.get("label_zh") or "")


@bp.app_template_global()
def handover_status_label(status: Any) -> str:
    """Return a handover status in the user's language."""
    return str(services.STATUS_LABELS[HandoverStatus(status)])


@bp.app_template_global()
def handover_step_label(step: Any) -> str:
    """Return a step in the user's language."""
    return str(services.STEP_LABELS[Step(step)])


@bp.app_template_global()
def handover_creator(handover: Handover) -> str:
    """Return the name of the user who started a handover."""
    user = db.session.get(User, handover.created_by_id)
    return user.name if user else ""


@bp.app_template_global()
def handover_panel(elevator: Elevator) -> dict[str, Any]:
    """Return what the elevator page's handover panel shows to the current user."""
    today = local_today()
    handovers = services.handovers_of_elevator(current_user, elevator)
    open_ones = [h for h in handovers if h.status in services.OPEN_STATUSES]
    return {
        "handovers": handovers,
        "open": open_ones[0] if open_ones else None,
        "overdue": {h.id for h in handovers if services.is_overdue(h, today)},
        "can_start": services.can_start_handover(current_user)
        and elevator.site.organisation_id == current_user.organisation_id
        and not open_ones,
    }


@bp.app_template_global()
def handover_overdue_list() -> list[Handover]:
    """Return the overdue handovers the current user may see (for the home page)."""
    return services.overdue_handovers(current_user, local_today(), limit=20)


# --- list and detail ------------------------------------------------------------------------


@bp.get("/handovers")
@login_required
def index():  # type: ignore[no-untyped-def]
    """List the handovers in the user's scope; filter by status, open or overdue."""
    today = local_today()
    query = services.scoped_handovers(current_user)
    chosen = request.args.get("status") or ""
    if chosen == "overdue":
        query = query.where(services.overdue_clause(today))
    elif chosen == "open":
        query = query.where(Handover.status.in_(services.OPEN_STATUSES))
    elif chosen in {s.value for s in HandoverStatus}:
        query = query.where(Handover.status == chosen)
    else:
        chosen = ""
    query = query.options(
        selectinload(Handover.elevators),
        selectinload(Handover.outgoing),
        selectinload(Handover.incoming),
    ).order_by(Handover.handover_date.desc(), Handover.id.desc())
    page = paginate(query)
    overdue_count = services.count_overdue(current_user, today)
    return render_template(
        "handovers/list.html",
        page=page,
        today=today,
        chosen=chosen,
        statuses=list(HandoverStatus),
        extra_filters=EXTRA_FILTERS,
        overdue=lambda h: services.is_overdue(h, today),
        overdue_count=overdue_count,
        can_start=services.can_start_handover(current_user),
        **_labels(),
    )


def _detail_context(handover: Handover) -> dict[str, Any]:
    today = local_today()
    elevator_ids = {e.id for e in handover.elevators}
    step = services.next_step(handover)
    return {
        "handover": handover,
        "today": today,
        "is_overdue": services.is_overdue(handover, today),
        "answers": services.answers_of(handover),
        "unanswered": services.unanswered_items(handover),
        "findings": services.open_findings(elevator_ids),
        "signed": services.signed_steps(handover),
        "next_step": step,
        "next_actor": services.next_actor(handover),
        "level_plan": services.level_plan_of(handover),
        "visible": visible_elevator_ids(elevator_ids, today),
        "cancellation": services.cancellation(handover)
        if handover.status is HandoverStatus.cancelled
        else None,
        **_labels(),
    }


@bp.get("/handovers/<int:handover_id>")
@login_required
def detail(handover_id: int):  # type: ignore[no-untyped-def]
    """Show a handover: status, elevators, checklist, signatures and the next step."""
    handover = get_handover_or_404(handover_id)
    step = services.next_step(handover)
    return render_template(
        "handovers/detail.html",
        can_fill=services.can_manage_handover(current_user, handover)
        and handover.status is HandoverStatus.started,
        can_sign=step is not None and services.can_sign_handover(current_user, handover, step),
        can_cancel=services.can_cancel_handover(current_user, handover)
        and handover.status in services.OPEN_STATUSES,
        **_detail_context(handover),
    )


# --- start -------------------------------------------------------------------------------------


def _start_form(today: date) -> tuple[StartForm, list[Elevator], dict[int, Contract | None]]:
    form = StartForm()
    elevators = list(services.elevators_choosable(current_user, today))
    current = {e.id: e.active_contract(today) for e in elevators}
    form.elevator_ids.choices = [SelectChoice(str(e.id), e.equipment_code) for e in elevators]
    choices = [placeholder()]
    for org in registry.contractors():
        label = f"{org.name} ({org.qualification_no})" if org.qualification_no else org.name
        choices.append(SelectChoice(str(org.id), label))
    form.incoming_contractor_id.choices = choices
    return form, elevators, current


def _start_values(form: StartForm, elevators: list[Elevator]) -> services.StartValues:
    by_id = {e.id: e for e in elevators}
    chosen = [by_id[i] for i in (form.elevator_ids.data or []) if i in by_id]
    incoming_id = form.incoming_contractor_id.data
    incoming = db.session.get(Organisation, incoming_id) if incoming_id else None
    return services.StartValues(
        elevators=chosen,
        incoming=incoming,
        handover_date=form.handover_date.data if not form.handover_date.errors else None,
        new_contract_end=form.new_contract_end.data if not form.new_contract_end.errors else None,
        level_plan=form.level_plan.data or [],
    )


def _start(preselected: Elevator | None):  # type: ignore[no-untyped-def]
    today = local_today()
    form, elevators, current = _start_form(today)
    if request.method == "GET" and preselected is not None:
        form.elevator_ids.data = [preselected.id]
    if form.is_submitted():
        valid = form.validate()
        values = _start_values(form, elevators)
        problems, _outgoing = services.check_start(current_user, values, today)
        _apply_problems(form, problems)
        if valid and not problems:
            try:
                handover = services.start_handover(current_user, values, today)
            except registry.RegistryValidationError as error:
                db.session.rollback()
                _apply_problems(form, error.problems)
            else:
                db.session.commit()
                flash(
                    _(
                        "Handover #%(id)d started. Next: complete the inspection checklist.",
                        id=handover.id,
                    ),
                    "success",
                )
                return redirect(url_for(".checklist", handover_id=handover.id))
        else:
            db.session.rollback()
    return render_form(
        "handovers/new.html",
        form=form,
        elevators=elevators,
        elevator_by_id={e.id: e for e in elevators},
        current=current,
        busy=services.open_handover_elevators(e.id for e in elevators),
        preselected=preselected,
        today=today,
    )


@bp.route("/handovers/new", methods=["GET", "POST"])
@login_required
def new():  # type: ignore[no-untyped-def]
    """Start a handover of some of the company's elevators to another contractor."""
    require(services.can_start_handover(current_user))
    return _start(None)


@bp.route("/elevators/<int:elevator_id>/handovers/new", methods=["GET", "POST"])
@login_required
def new_for_elevator(elevator_id: int):  # type: ignore[no-untyped-def]
    """Start a handover with one elevator already chosen."""
    require(services.can_start_handover(current_user))
    elevator = get_elevator_or_404(current_user, elevator_id)
    return _start(elevator)


# --- checklist ---------------------------------------------------------------------------------


def _answers(form: ChecklistForm) -> dict[str, tuple[bool | None, str | None]]:
    result: dict[str, tuple[bool | None, str | None]] = {}
    for item in services.CHECKLIST:
        answer = form[f"{item.code}_answer"].data
        ok = True if answer == "yes" else False if answer == "no" else None
        result[item.code] = (ok, form[f"{item.code}_note"].data)
    return result


@bp.route("/handovers/<int:handover_id>/checklist", methods=["GET", "POST"])
@login_required
def checklist(handover_id: int):  # type: ignore[no-untyped-def]
    """Fill in the handover inspection (the property company, before the first signature)."""
    require(services.can_start_handover(current_user))
    handover = get_handover_or_404(handover_id)
    require(services.can_manage_handover(current_user, handover))
    form = ChecklistForm()
    if request.method == "GET":
        for code, answer in services.answers_of(handover).items():
            form[f"{code}_answer"].data = "yes" if answer.get("ok") else "no"
            form[f"{code}_note"].data = answer.get("note") or ""
    editable = handover.status is HandoverStatus.started
    if form.is_submitted():
        if not editable:
            flash(
                _("The checklist can only be changed before the outgoing contractor signs."),
                "error",
            )
        elif form.validate():
            try:
                services.save_checklist(current_user, handover, _answers(form))
            except registry.RegistryValidationError as error:
                db.session.rollback()
                _apply_problems(form, error.problems)
            except DomainError as error:
                db.session.rollback()
                flash(error.message, "error")
            else:
                db.session.commit()
                missing = services.unanswered_items(handover)
                if missing:
                    flash(
                        _("Checklist saved; %(num)d items are still unanswered.", num=len(missing)),
                        "warning",
                    )
                else:
                    flash(
                        _(
                            "Checklist complete. The outgoing contractor's manager can now "
                            "sign the handover."
                        ),
                        "success",
                    )
                return redirect(url_for(".detail", handover_id=handover.id))
    context = _detail_context(handover)
    return render_form("handovers/checklist.html", form=form, editable=editable, **context)


# --- the three signatures ------------------------------------------------------------------------


def _planned_switch(handover: Handover) -> list[dict[str, Any]]:
    """Return, per elevator, the contracts the confirmation will end and the new one."""
    day_before = handover.handover_date - timedelta(days=1)
    rows = []
    for elevator in handover.elevators:
        ending = services.contracts_to_end(
            elevator, handover.outgoing_contractor_id, handover.handover_date
        )
        rows.append(
            {
                "elevator": elevator,
                "ending": ending,
                "day_before": day_before,
            }
        )
    return rows


def _sign(handover_id: int, step: Step):  # type: ignore[no-untyped-def]
    require(services.may_sign_step(current_user, step))
    handover = get_handover_or_404(handover_id)
    require(services.can_sign_handover(current_user, handover, step))
    form = SignForm()
    refusal = services.step_refusal(handover, step)
    if form.is_submitted():
        if form.validate():
            try:
                services.sign_step(
                    current_user,
                    handover,
                    step,
                    form.password.data,
                    token=form.idempotency_key.data,
                )
            except DuplicateSubmission:
                db.session.rollback()
                flash(_("This form was already submitted."), "info")
                return redirect(url_for(".detail", handover_id=handover.id))
            except DomainError as error:
                db.session.rollback()
                if error.field == "password":
                    form.password.errors.append(error.message)
                else:
                    refusal = error.message
            else:
                db.session.commit()
                flash(_done_message(handover, step), "success")
                return redirect(url_for(".detail", handover_id=handover.id))
        else:
            db.session.rollback()
    return render_form(
        "handovers/sign.html",
        form=form,
        step=step,
        refusal=refusal,
        planned=_planned_switch(handover) if step is Step.confirm else [],
        **_detail_context(handover),
    )


def _done_message(handover: Handover, step: Step) -> str:
    count = len(handover.elevators)
    if step is Step.hand_over:
        return _("Handover signed (移交) on the records of %(num)d elevators.", num=count)
    if step is Step.receive:
        return _("Receipt signed (接收) on the records of %(num)d elevators.", num=count)
    return _(
        "Handover confirmed: the new contracts start on %(date)s.",
        date=handover.handover_date.isoformat(),
    )


@bp.route("/handovers/<int:handover_id>/hand-over", methods=["GET", "POST"])
@login_required
def hand_over(handover_id: int):  # type: ignore[no-untyped-def]
    """The outgoing contractor's manager signs the handover (移交)."""
    return _sign(handover_id, Step.hand_over)


@bp.route("/handovers/<int:handover_id>/receive", methods=["GET", "POST"])
@login_required
def receive(handover_id: int):  # type: ignore[no-untyped-def]
    """The incoming contractor's manager signs the receipt (接收)."""
    return _sign(handover_id, Step.receive)


@bp.route("/handovers/<int:handover_id>/confirm", methods=["GET", "POST"])
@login_required
def confirm(handover_id: int):  # type: ignore[no-untyped-def]
    """The property company confirms: the contracts switch on the handover date."""
    return _sign(handover_id, Step.confirm)


# --- cancel ------------------------------------------------------------------------------------


@bp.route("/handovers/<int:handover_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(handover_id: int):  # type: ignore[no-untyped-def]
    """Cancel a handover before confirmation, with a reason (kept in the audit log)."""
    require(services.can_start_handover(current_user))
    handover = get_handover_or_404(handover_id)
    require(services.can_cancel_handover(current_user, handover))
    form = CancelForm()
    refusal = None
    if handover.status not in services.OPEN_STATUSES:
        refusal = services.step_refusal(handover, Step.confirm)
    if form.validate_on_submit():
        try:
            services.cancel_handover(current_user, handover, form.reason.data)
        except DomainError as error:
            db.session.rollback()
            if error.field == "reason":
                form.reason.errors.append(error.message)
            else:
                refusal = error.message
        else:
            db.session.commit()
            flash(_("Handover #%(id)d cancelled.", id=handover.id), "success")
            return redirect(url_for(".detail", handover_id=handover.id))
    elif form.is_submitted():
        db.session.rollback()
    return render_form(
        "handovers/cancel.html", form=form, refusal=refusal, **_detail_context(handover)
    )
