"""Lockout pages (停用/困人, duty D8): list, detail, opening, one page per step.

Roles are checked first (403), then the scope (404: ``services.get_lockout``
and ``scoping.get_elevator_or_404``), then the party (403: e.g. a safety
officer on the contractor's repair step). The views parse the form, call a
service and commit; the rules live in ``lockouts.services``. The elevator page
includes ``lockouts/_elevator_banner.html`` and ``lockouts/_elevator_panel.html``,
which read the template globals registered here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.formviews import field_error, render_form
from elevator_safety.lockouts import forms, services
from elevator_safety.lockouts.models import (
    CAUSE_LABELS,
    CHANNEL_LABELS,
    LOCKOUT_STATUS_LABELS,
    Lockout,
    LockoutCause,
    LockoutStatus,
)
from elevator_safety.lockouts.services import STEP_LABELS, Step
from elevator_safety.paging import paginate
from elevator_safety.records.models import Record, Signature
from elevator_safety.records.services import DuplicateSubmission, find_by_idempotency_key
from elevator_safety.registry.models import Elevator
from elevator_safety.scoping import get_elevator_or_404, local_today
from elevator_safety.security import require, role_required
from elevator_safety.templating import local_dt

bp = Blueprint("lockouts", __name__)

#: The page of each step after opening.
ENDPOINTS = {
    Step.notice_posted: "lockouts.notice",
    Step.contractor_notified: "lockouts.notify",
    Step.contractor_arrived: "lockouts.arrival",
    Step.repaired: "lockouts.repair",
    Step.rescue_arrived: "lockouts.rescue",
    Step.released: "lockouts.release",
    Step.returned: "lockouts.return_to_service",
    Step.cancelled: "lockouts.cancel",
}
FORMS: dict[Step, type[FlaskForm]] = {
    Step.notice_posted: forms.NoticeForm,
    Step.contractor_notified: forms.NotifyForm,
    Step.contractor_arrived: forms.ArrivalForm,
    Step.repaired: forms.RepairForm,
    Step.rescue_arrived: forms.RescueForm,
    Step.released: forms.ReleaseForm,
    Step.returned: forms.ReturnForm,
    Step.cancelled: forms.CancelForm,
}
#: Filters of the list page.
STATES = ("open", "closed", "all")


# --- helpers ---------------------------------------------------------------------------------


def site_zone(elevator: Elevator) -> ZoneInfo:
    """Return the time zone of the elevator's site."""
    return ZoneInfo(elevator.site.timezone or "Asia/Shanghai")


def to_utc(value: datetime | None, elevator: Elevator) -> datetime | None:
    """Return a local time typed at the elevator's site as UTC (None stays None)."""
    if value is None:
        return None
    return value.replace(tzinfo=site_zone(elevator)).astimezone(UTC)


def get_lockout_or_404(lockout_id: int) -> Lockout:
    """Load a lockout of an elevator the user may see, or answer 404."""
    lockout = services.get_lockout(current_user, lockout_id)
    if lockout is None:
        abort(404)
    return lockout


def _duplicate(record: Record, fallback: str):  # type: ignore[no-untyped-def]
    """Send a resubmitted form to the lockout its first submission wrote to."""
    db.session.rollback()
    flash(_("This form was already submitted."), "info")
    lockout_id = record.data["body"].get("lockout_id")
    if lockout_id:
        return redirect(url_for(".detail", lockout_id=lockout_id))
    return redirect(fallback)


def timer(lockout: Lockout, now: datetime | None = None) -> dict[str, Any] | None:
    """Return the entrapment's timer: elapsed since the alarm, the limit, late or not."""
    elapsed = services.rescue_elapsed(lockout, now)
    if elapsed is None:
        return None
    return {
        "seconds": int(elapsed.total_seconds()),
        "text": services.clock_text(elapsed),
        "limit": lockout.rescue_limit_minutes or 0,
        "late": bool(services.rescue_late(lockout, now)),
        "running": services.rescue_under_way(lockout),
    }


# --- template globals (elevator page, other lists, records) ---------------------------------


@bp.app_template_global()
def open_lockout_ids(elevator_ids: Iterable[int]) -> set[int]:
    """Return which of the elevators have an open lockout (for the red mark in lists)."""
    return services.open_lockout_ids(elevator_ids)


@bp.app_template_global()
def lockout_step_label(step: Any) -> str:
    """Return a step in the user's language (the raw value if unknown)."""
    try:
        return str(STEP_LABELS[Step(step)])
    except ValueError:
        return str(step)


@bp.app_template_global()
def lockout_cause_label(cause: Any) -> str:
    """Return a cause in the user's language."""
    try:
        return str(CAUSE_LABELS[LockoutCause(cause)])
    except ValueError:
        return str(cause)


@bp.app_template_global()
def lockout_channel_label(channel: Any) -> str:
    """Return a notification channel in the user's language."""
    labels = {member.value: label for member, label in CHANNEL_LABELS.items()}
    return str(labels.get(channel, channel or "—"))


@bp.app_template_global()
def lockout_banner(elevator: Elevator) -> dict[str, Any] | None:
    """Return the elevator's open lockout for the red banner, or None."""
    lockout = services.open_lockout_of(elevator)
    if lockout is None:
        return None
    return {"lockout": lockout, "timer": timer(lockout)}


@bp.app_template_global()
def lockout_panel(elevator: Elevator) -> dict[str, Any]:
    """Return what the elevator page's lockout panel shows to the current user."""
    today = local_today()
    open_one = services.open_lockout_of(elevator)
    return {
        "open": open_one,
        "timer": timer(open_one) if open_one else None,
        "recent": services.lockouts_of(elevator, limit=5),
        "can_open": open_one is None
        and elevator.status.value != "decommissioned"
        and services.can_open_lockout(current_user, elevator, today),
    }


@bp.app_template_global()
def lockout_home() -> dict[str, Any]:
    """Return the open lockouts of the user's scope (for the home page panel)."""
    return {
        "count": services.count_open_lockouts(current_user),
        "lockouts": services.open_lockouts_for(current_user, limit=10),
        "late": services.rescue_late,
    }


# --- list and detail ------------------------------------------------------------------------


def _late_ids(query: Any, now: datetime) -> list[int]:
    """Return the ids of the entrapment lockouts of a query whose rescue was late."""
    rows = db.session.scalars(query.where(Lockout.entrapment.is_(True)))
    return [lockout.id for lockout in rows if services.rescue_late(lockout, now)]


@bp.get("/lockouts")
@login_required
def index():  # type: ignore[no-untyped-def]
    """List the lockouts in the user's scope: open, closed or all; entrapments; late ones."""
    now = now_utc()
    state = request.args.get("state") or "open"
    if state not in STATES:
        state = "open"
    entrapment_only = request.args.get("entrapment") == "1"
    late_only = request.args.get("late") == "1"
    query = services.scoped_lockouts(current_user)
    if state == "open":
        query = query.where(Lockout.status == LockoutStatus.open)
    elif state == "closed":
        query = query.where(Lockout.status != LockoutStatus.open)
    if entrapment_only or late_only:
        query = query.where(Lockout.entrapment.is_(True))
    if late_only:
        query = query.where(Lockout.id.in_(_late_ids(query, now)))
    query = query.options(selectinload(Lockout.elevator).selectinload(Elevator.site)).order_by(
        (Lockout.status == LockoutStatus.open).desc(), Lockout.opened_at.desc(), Lockout.id.desc()
    )
    page = paginate(query)
    return render_template(
        "lockouts/index.html",
        page=page,
        state=state,
        states=STATES,
        entrapment_only=entrapment_only,
        late_only=late_only,
        now=now,
        late=lambda lockout: services.rescue_late(lockout, now),
        long_running=lambda lockout: services.is_long_running(lockout, now),
        status_labels=LOCKOUT_STATUS_LABELS,
    )


def _detail_context(lockout: Lockout) -> dict[str, Any]:
    now = now_utc()
    records = services.records_of(lockout)
    signatures = (
        list(
            db.session.scalars(
                select(Signature)
                .where(Signature.record_id.in_([r.id for r in records]))
                .order_by(Signature.id)
            )
        )
        if records
        else []
    )
    by_record: dict[int, list[Signature]] = {}
    for signature in signatures:
        by_record.setdefault(signature.record_id, []).append(signature)
    today = local_today()
    allowed = [
        step
        for step in services.next_steps(lockout)
        if services.may_take(current_user, lockout, step, today)
    ]
    return {
        "lockout": lockout,
        "elevator": lockout.elevator,
        "records": records,
        "signatures": by_record,
        "timer": timer(lockout, now),
        "late_steps": services.late_steps(lockout, now),
        "notify_minutes": services.notify_minutes(),
        "long_running": services.is_long_running(lockout, now),
        "serious": services.serious_findings_open(lockout) if lockout.is_open else [],
        "return_refusal": services.return_refusal(lockout) if lockout.is_open else None,
        "allowed_steps": allowed,
        "can_cancel": lockout.is_open
        and services.may_take(current_user, lockout, Step.cancelled, today),
        "endpoints": ENDPOINTS,
        "zone": lockout.elevator.site.timezone,
    }


@bp.get("/lockouts/<int:lockout_id>")
@login_required
def detail(lockout_id: int):  # type: ignore[no-untyped-def]
    """Show a lockout: its steps with time, who and signatures, the entrapment timer."""
    lockout = get_lockout_or_404(lockout_id)
    return render_template("lockouts/detail.html", **_detail_context(lockout))


# --- opening -------------------------------------------------------------------------------------


@bp.route("/elevators/<int:elevator_id>/lockouts/new", methods=["GET", "POST"])
@role_required(*services.OPEN_ROLES)
def new(elevator_id: int):  # type: ignore[no-untyped-def]
    """Open a lockout of an elevator: it is out of service at once."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    require(services.can_open_lockout(current_user, elevator, local_today()))
    existing = services.open_lockout_of(elevator)
    form = forms.OpenForm()
    refusal = None
    if existing is not None:
        refusal = _("This elevator already has an open lockout.")
    if form.is_submitted():
        duplicate = find_by_idempotency_key(form.idempotency_key.data)
        if duplicate is not None:
            return _duplicate(
                duplicate, url_for("registry.elevator_detail", elevator_id=elevator.id)
            )
        valid = form.validate()
        entrapment = None
        if form.entrapment.data:
            if not form.trapped_count.data and not form.trapped_count.errors:
                form.trapped_count.errors = [
                    *form.trapped_count.errors,
                    _("Give the number of people trapped (at least 1)."),
                ]
                valid = False
            elif valid:
                entrapment = services.EntrapmentInput(
                    trapped_count=form.trapped_count.data,
                    alarm_at=to_utc(form.alarm_at.data, elevator) or now_utc(),
                )
        if valid and refusal is None:
            try:
                lockout = services.open_lockout(
                    elevator,
                    current_user,
                    form.password.data,
                    cause=LockoutCause(form.cause.data),
                    description=form.description.data,
                    occurred_at=to_utc(form.occurred_at.data, elevator),
                    entrapment=entrapment,
                    idempotency_key=form.idempotency_key.data,
                )
            except DuplicateSubmission as duplicate_error:
                return _duplicate(
                    duplicate_error.record,
                    url_for("registry.elevator_detail", elevator_id=elevator.id),
                )
            except DomainError as error:
                db.session.rollback()
                if not field_error(form, error, flash_rest=False):
                    refusal = error.message
            except IntegrityError:
                db.session.rollback()
                raced = find_by_idempotency_key(form.idempotency_key.data)
                if raced is None:
                    raise
                return _duplicate(
                    raced, url_for("registry.elevator_detail", elevator_id=elevator.id)
                )
            else:
                db.session.commit()
                flash(
                    _(
                        "Lockout #%(id)d opened: the elevator is out of service. Next: post the "
                        "prohibition notice and notify the contractor.",
                        id=lockout.id,
                    ),
                    "warning",
                )
                return redirect(url_for(".detail", lockout_id=lockout.id))
        else:
            db.session.rollback()
    return render_form(
        "lockouts/new.html",
        form=form,
        elevator=elevator,
        existing=existing,
        refusal=refusal,
    )


# --- the steps ---------------------------------------------------------------------------------


def _call(step: Step, lockout: Lockout, form: Any) -> Record:
    """Call the step's service with the form's values."""
    elevator = lockout.elevator
    common = {"idempotency_key": form.idempotency_key.data}
    when = to_utc(form.occurred_at.data, elevator) if "occurred_at" in form else None
    password = form.password.data
    if when is not None:
        when = _same_minute(when, step, lockout)
    if step is Step.notice_posted:
        return services.post_notice(
            lockout,
            current_user,
            password,
            occurred_at=when,
            photo=form.photo.data or None,
            note=form.note.data,
            **common,
        )
    if step is Step.contractor_notified:
        return services.notify_contractor(
            lockout,
            current_user,
            password,
            channel=form.channel.data,
            party=form.party.data,
            occurred_at=when,
            **common,
        )
    if step is Step.contractor_arrived:
        return services.record_arrival(lockout, current_user, password, occurred_at=when, **common)
    if step is Step.repaired:
        return services.record_repair(
            lockout,
            current_user,
            password,
            found=form.found.data,
            parts_replaced=(form.parts_replaced.data or "").splitlines(),
            occurred_at=when,
            photo=form.photo.data or None,
            **common,
        )
    if step is Step.rescue_arrived:
        return services.record_rescue_arrival(
            lockout,
            current_user,
            password,
            occurred_at=when,
            late_reason=form.late_reason.data,
            **common,
        )
    if step is Step.released:
        return services.record_release(
            lockout,
            current_user,
            password,
            occurred_at=when,
            injured_count=form.injured_count.data or 0,
            injuries=form.injuries.data,
            **common,
        )
    if step is Step.returned:
        return services.return_to_service(
            lockout, current_user, password, occurred_at=when, note=form.note.data, **common
        )
    return services.cancel_lockout(
        lockout, current_user, password, reason=form.reason.data, **common
    )


def _same_minute(when: datetime, step: Step, lockout: Lockout) -> datetime:
    """A time typed in the minute of the previous step means that step's moment, not before it.

    The inputs take minutes; the lockout's times have seconds.
    """
    earliest = {
        Step.repaired: lockout.contractor_arrived_at,
        Step.rescue_arrived: lockout.alarm_at,
        Step.released: lockout.rescue_arrived_at,
        Step.returned: lockout.repaired_at,
    }.get(step) or lockout.opened_at
    if earliest - timedelta(minutes=1) < when < earliest:
        return earliest
    return when


def _done_message(step: Step, lockout: Lockout) -> str:
    if step is Step.returned:
        return _("The elevator is returned to service; lockout #%(id)d is closed.", id=lockout.id)
    if step is Step.cancelled:
        return _("Lockout #%(id)d cancelled; the reason is recorded.", id=lockout.id)
    return _("%(step)s: recorded and signed.", step=STEP_LABELS[step])


def _step(lockout_id: int, step: Step):  # type: ignore[no-untyped-def]
    require(services.may_take_role(current_user, step))
    lockout = get_lockout_or_404(lockout_id)
    require(services.may_take(current_user, lockout, step, local_today()))
    form = FORMS[step]()
    refusal = services.step_refusal(lockout, step)
    available = refusal is None
    if form.is_submitted():
        duplicate = find_by_idempotency_key(form.idempotency_key.data)
        if duplicate is not None:
            return _duplicate(duplicate, url_for(".detail", lockout_id=lockout.id))
        if form.validate() and refusal is None:
            try:
                _call(step, lockout, form)
            except DuplicateSubmission as duplicate_error:
                return _duplicate(duplicate_error.record, url_for(".detail", lockout_id=lockout.id))
            except DomainError as error:
                db.session.rollback()
                if not field_error(form, error, flash_rest=False):
                    refusal = error.message
            except IntegrityError:
                db.session.rollback()
                raced = find_by_idempotency_key(form.idempotency_key.data)
                if raced is None:
                    raise
                return _duplicate(raced, url_for(".detail", lockout_id=lockout.id))
            else:
                db.session.commit()
                flash(_done_message(step, lockout), "success")
                return redirect(url_for(".detail", lockout_id=lockout.id))
        else:
            db.session.rollback()
    return render_form(
        "lockouts/step.html",
        form=form,
        step=step,
        step_label=STEP_LABELS[step],
        refusal=refusal,
        available=available,
        posted=request.method == "POST",
        **{k: v for k, v in _detail_context(lockout).items() if k not in ("signatures",)},
    )


@bp.route("/lockouts/<int:lockout_id>/notice", methods=["GET", "POST"])
@login_required
def notice(lockout_id: int):  # type: ignore[no-untyped-def]
    """Record the prohibition notice posted (officer or contracted technician)."""
    return _step(lockout_id, Step.notice_posted)


@bp.route("/lockouts/<int:lockout_id>/notify", methods=["GET", "POST"])
@login_required
def notify(lockout_id: int):  # type: ignore[no-untyped-def]
    """Record the contractor's notification (the company's officer or director)."""
    return _step(lockout_id, Step.contractor_notified)


@bp.route("/lockouts/<int:lockout_id>/arrival", methods=["GET", "POST"])
@login_required
def arrival(lockout_id: int):  # type: ignore[no-untyped-def]
    """Record the contractor's arrival on site."""
    return _step(lockout_id, Step.contractor_arrived)


@bp.route("/lockouts/<int:lockout_id>/repair", methods=["GET", "POST"])
@login_required
def repair(lockout_id: int):  # type: ignore[no-untyped-def]
    """Record the repair (the contracted contractor's technician or manager only)."""
    return _step(lockout_id, Step.repaired)


@bp.route("/lockouts/<int:lockout_id>/rescue", methods=["GET", "POST"])
@login_required
def rescue(lockout_id: int):  # type: ignore[no-untyped-def]
    """Record the rescue's arrival at an entrapment."""
    return _step(lockout_id, Step.rescue_arrived)


@bp.route("/lockouts/<int:lockout_id>/release", methods=["GET", "POST"])
@login_required
def release(lockout_id: int):  # type: ignore[no-untyped-def]
    """Record the release of the trapped people and any injuries."""
    return _step(lockout_id, Step.released)


@bp.route("/lockouts/<int:lockout_id>/return", methods=["GET", "POST"])
@login_required
def return_to_service(lockout_id: int):  # type: ignore[no-untyped-def]
    """Return the elevator to service (the company's officer or director)."""
    return _step(lockout_id, Step.returned)


@bp.route("/lockouts/<int:lockout_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(lockout_id: int):  # type: ignore[no-untyped-def]
    """Cancel a lockout opened by mistake, with the reason (the officer or director)."""
    return _step(lockout_id, Step.cancelled)


@bp.app_template_global()
def lockout_time(value: Any, zone: str | None = None) -> str:
    """Return a time stored in a record body (ISO 8601, UTC) in the site's zone."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return local_dt(moment, zone)
