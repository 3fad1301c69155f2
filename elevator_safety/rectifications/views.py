"""Rectification pages (整改, D9): list, detail, new, the state moves and the one-step lockout.

Roles are checked first (403), then the scope (404: ``services.get_finding``),
then the party (403: e.g. the company's officer completing a contractor's
fix). The state machine and the serious-hazard rule live in
``rectifications.services``; the views parse the form, call it and commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import BuildError

from elevator_safety.auth.models import Role, User
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.formviews import field_error
from elevator_safety.lockouts.models import Lockout
from elevator_safety.lockouts.services import open_lockout_of
from elevator_safety.paging import paginate
from elevator_safety.records.models import (
    FINDING_SOURCE_LABELS,
    FINDING_STATUS_LABELS,
    Finding,
    FindingSource,
    FindingStatus,
    Severity,
)
from elevator_safety.records.services import DuplicateSubmission
from elevator_safety.rectifications import forms, services
from elevator_safety.rectifications.services import Action
from elevator_safety.registers.models import RegisterEntry
from elevator_safety.registry.models import Elevator, ElevatorStatus, Site
from elevator_safety.scoping import (
    get_elevator_or_404,
    get_site_or_404,
    scoped_elevators,
    scoped_sites,
)
from elevator_safety.security import require, role_required

bp = Blueprint("rectifications", __name__)

OFFICERS = (Role.safety_officer, Role.safety_director)
WORKERS = (*OFFICERS, Role.technician, Role.contractor_manager)
STATES = ("open", "completed", "verified", "all")
OWNERS = ("mine", "company", "contractor")
ACTION_FORMS: dict[Action, type[FlaskForm]] = {
    Action.start: forms.StartForm,
    Action.complete: forms.CompleteForm,
    Action.verify: forms.VerifyForm,
    Action.reopen: forms.ReopenForm,
}


# --- helpers -------------------------------------------------------------------------------


def get_finding_or_404(finding_id: int) -> Finding:
    """Load a finding the user may see, or answer 404."""
    finding = services.get_finding(current_user, finding_id)
    if finding is None:
        abort(404)
    return finding


def _detail(finding: Finding, status: int = 200, **overrides: Any):  # type: ignore[no-untyped-def]
    """Render the detail page; a refused form (in ``overrides``) keeps its values."""
    actions = services.available_actions(current_user, finding)
    action_forms = {a: ACTION_FORMS[a](formdata=None) for a in actions}
    action_forms.update(overrides.pop("action_forms", {}))
    lockout = services.lockout_of(finding)
    open_lockout = open_lockout_of(finding.elevator) if finding.elevator else None
    must_lock = (
        services.needs_lockout(finding)
        and lockout is None
        and finding.status in services.OPEN_STATES
    )
    lock_form = overrides.pop("lock_form", None)
    if lock_form is None and must_lock and open_lockout is None:
        lock_form = forms.LockoutForm(
            formdata=None, description=services.lockout_description(finding)
        )
    history = services.history_of(finding)
    ids = {h.user_id for h in history if h.user_id}
    names = (
        dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).tuples().all())
        if ids
        else {}
    )
    context = {
        "finding": finding,
        "actions": actions,
        "action_forms": action_forms,
        "action_labels": services.ACTION_LABELS,
        "overdue": services.is_overdue(finding),
        "lockout": lockout,
        "open_lockout": open_lockout,
        "must_lock": must_lock,
        "can_lock": services.can_lock_out(current_user, finding),
        "lock_form": lock_form,
        "link_form": FlaskForm(formdata=None),
        "evidence": services.evidence_of(finding),
        "history": history,
        "names": names,
        "source_entry": (
            db.session.get(RegisterEntry, finding.source_entry_id)
            if finding.source_entry_id
            else None
        ),
        "duty_label": services.DUTY_LABELS.get(finding.duty, finding.duty),
    }
    return render_template("rectifications/detail.html", **context), status


def _local_to_utc(value: datetime | None, site: Site | None) -> datetime | None:
    if value is None:
        return None
    zone = ZoneInfo((site.timezone if site else None) or "Asia/Shanghai")
    return value.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


# --- lists ---------------------------------------------------------------------------------


def _filters() -> tuple[dict[str, Any], Elevator | None]:
    args = request.args
    filters: dict[str, Any] = {
        "state": args.get("state") if args.get("state") in STATES else "open",
        "overdue": args.get("overdue") == "1",
        "severity": args.get("severity") or None,
        "duty": args.get("duty") or None,
        "site": args.get("site", type=int),
        "owner": args.get("owner") if args.get("owner") in OWNERS else None,
    }
    elevator = None
    elevator_id = args.get("elevator", type=int)
    if elevator_id:
        elevator = db.session.get(Elevator, elevator_id)
        filters["elevator"] = elevator_id
    return filters, elevator


@bp.get("/rectifications")
@login_required
def index():  # type: ignore[no-untyped-def]
    """List the rectifications in the user's scope, with filters; open ones by deadline."""
    filters, elevator = _filters()
    query = services.list_query(current_user, filters)
    code = (request.args.get("code") or "").strip()
    if code:
        query = query.where(services.elevator_code_filter(code))
    page = paginate(query)
    sites = db.session.scalars(scoped_sites(current_user).order_by(Site.name, Site.id)).all()
    return render_template(
        "rectifications/index.html",
        page=page,
        filters=filters,
        elevator=elevator,
        code=code,
        sites=sites,
        duties=services.DUTY_LABELS,
        severities=[s.value for s in Severity],
        overdue_count=services.count_overdue(current_user),
        can_create=current_user.role in OFFICERS,
        args=request.args,
    )


@bp.get("/rectifications/<int:finding_id>")
@login_required
def detail(finding_id: int):  # type: ignore[no-untyped-def]
    """Show a rectification: source, deadline, lockout, evidence, history and actions."""
    return _detail(get_finding_or_404(finding_id))


# --- new -----------------------------------------------------------------------------------


@bp.route("/rectifications/new", methods=["GET", "POST"])
@role_required(*OFFICERS)
def new():  # type: ignore[no-untyped-def]
    """Open a rectification by hand (a regulator's notice, an inspection report...)."""
    preset_elevator = None
    preset_site = None
    elevator_arg = request.args.get("elevator", type=int)
    site_arg = request.args.get("site", type=int)
    if elevator_arg:
        preset_elevator = get_elevator_or_404(current_user, elevator_arg)
        preset_site = preset_elevator.site
    elif site_arg:
        preset_site = get_site_or_404(current_user, site_arg)
    sites = list(db.session.scalars(scoped_sites(current_user).order_by(Site.name, Site.id)))
    elevators = list(
        db.session.scalars(
            scoped_elevators(current_user)
            .where(Elevator.status != ElevatorStatus.decommissioned)
            .order_by(Site.name, Elevator.equipment_code)
        )
    )
    form = forms.NewFindingForm()
    form.set_places(sites, elevators)
    if request.method == "GET":
        if preset_site is not None:
            form.site_id.data = preset_site.id
        if preset_elevator is not None:
            form.elevator_id.data = preset_elevator.id
    if form.validate_on_submit():
        site = get_site_or_404(current_user, form.site_id.data)
        elevator = (
            get_elevator_or_404(current_user, form.elevator_id.data)
            if form.elevator_id.data
            else None
        )
        try:
            finding = services.create_manual(
                services.ManualFinding(
                    site=site,
                    elevator=elevator,
                    source=FindingSource(form.source.data),
                    source_reference=form.source_reference.data,
                    duty=form.duty.data,
                    item_label=form.item_label.data or "",
                    description=form.description.data or "",
                    severity=Severity(form.severity.data),
                    owner=form.owner.data,
                    deadline=_local_to_utc(form.deadline.data, site),
                    lock_out=bool(form.lock_out.data),
                    password=form.password.data,
                ),
                current_user,
            )
        except DomainError as error:
            db.session.rollback()
            field_error(form, error, "password" if error.field == "password" else None)
        else:
            db.session.commit()
            if finding.lockout_id:
                flash(
                    _("Rectification #%(id)d opened; the elevator is locked out.", id=finding.id),
                    "warning",
                )
            else:
                flash(_("Rectification #%(id)d opened.", id=finding.id), "success")
            return redirect(url_for("rectifications.detail", finding_id=finding.id))
    hours = current_app.config["RECTIFICATION_DEADLINE_HOURS"]
    return render_template(
        "rectifications/new.html",
        form=form,
        hours=hours,
        preset_elevator=preset_elevator,
    ), (422 if request.method == "POST" else 200)


# --- the state moves -------------------------------------------------------------------------


def _move(finding_id: int, action: Action):  # type: ignore[no-untyped-def]
    finding = get_finding_or_404(finding_id)
    require(services.may_act(current_user, finding, action))
    posted_token = request.form.get("idempotency_key")
    if posted_token and _token_used(posted_token):
        flash(_("This form was already submitted; here is the rectification."), "info")
        return redirect(url_for("rectifications.detail", finding_id=finding_id))
    form = ACTION_FORMS[action]()
    if not form.validate_on_submit():
        return _detail(finding, 422, action_forms={action: form})
    token = getattr(getattr(form, "idempotency_key", None), "data", None)
    try:
        services.transition(
            finding,
            action,
            current_user,
            password=getattr(getattr(form, "password", None), "data", None),
            text=getattr(getattr(form, "text", None), "data", None),
            photos=getattr(getattr(form, "photos", None), "data", None) or [],
            idempotency_key=token,
        )
    except DuplicateSubmission:
        db.session.rollback()
        flash(_("This form was already submitted; here is the rectification."), "info")
        return redirect(url_for("rectifications.detail", finding_id=finding_id))
    except DomainError as error:
        db.session.rollback()
        finding = get_finding_or_404(finding_id)
        if error.field and error.field in form:
            field_error(form, error)
        else:
            flash(error.message, "error")
        return _detail(finding, 422, action_forms={action: form})
    except IntegrityError:
        db.session.rollback()
        if token and _token_used(token):
            return redirect(url_for("rectifications.detail", finding_id=finding_id))
        raise
    db.session.commit()
    messages = {
        Action.start: _("Work on the rectification has started."),
        Action.complete: _("Rectification completed and signed; waiting for verification."),
        Action.verify: _("Rectification verified and closed."),
        Action.reopen: _("Rectification reopened."),
    }
    flash(messages[action], "success")
    return redirect(url_for("rectifications.detail", finding_id=finding_id))


def _token_used(token: str) -> bool:
    from elevator_safety.records.services import find_by_idempotency_key
    from elevator_safety.registers.chain import find_by_idempotency_key as find_entry

    return find_by_idempotency_key(token) is not None or find_entry(token) is not None


@bp.post("/rectifications/<int:finding_id>/start")
@role_required(*WORKERS)
def start(finding_id: int):  # type: ignore[no-untyped-def]
    """The owner starts work."""
    return _move(finding_id, Action.start)


@bp.post("/rectifications/<int:finding_id>/complete")
@role_required(*WORKERS)
def complete(finding_id: int):  # type: ignore[no-untyped-def]
    """The owner signs the fix done, with what was done and photos."""
    return _move(finding_id, Action.complete)


@bp.post("/rectifications/<int:finding_id>/verify")
@role_required(*OFFICERS)
def verify(finding_id: int):  # type: ignore[no-untyped-def]
    """The company's safety officer or director signs the fix verified."""
    return _move(finding_id, Action.verify)


@bp.post("/rectifications/<int:finding_id>/reopen")
@role_required(*OFFICERS)
def reopen(finding_id: int):  # type: ignore[no-untyped-def]
    """The company's safety officer or director reopens a completed fix, with a reason."""
    return _move(finding_id, Action.reopen)


@bp.post("/rectifications/<int:finding_id>/lockout")
@role_required(*WORKERS)
def lockout(finding_id: int):  # type: ignore[no-untyped-def]
    """Stop the elevator for a serious hazard in one step (or link its open lockout)."""
    finding = get_finding_or_404(finding_id)
    require(services.can_lock_out(current_user, finding))
    if finding.elevator is not None and open_lockout_of(finding.elevator) is not None:
        if not FlaskForm().validate_on_submit():
            abort(400)
        try:
            services.lock_out_for(finding, current_user, None, "")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return _detail(get_finding_or_404(finding_id), 422)
        db.session.commit()
        flash(_("The elevator's open lockout is now linked to this rectification."), "success")
        return redirect(url_for("rectifications.detail", finding_id=finding_id))
    form = forms.LockoutForm()
    if not form.validate_on_submit():
        return _detail(finding, 422, lock_form=form)
    try:
        services.lock_out_for(finding, current_user, form.password.data, form.description.data)
    except DomainError as error:
        db.session.rollback()
        finding = get_finding_or_404(finding_id)
        field_error(form, error, "password")
        return _detail(finding, 422, lock_form=form)
    db.session.commit()
    flash(
        _("The elevator is locked out (out of service). Report to the safety director."),
        "warning",
    )
    return redirect(url_for("rectifications.detail", finding_id=finding_id))


# --- template globals ------------------------------------------------------------------------


@bp.app_template_global()
def finding_overdue(finding: Finding) -> bool:
    """Return whether a rectification is overdue (for the badges of every list)."""
    return services.is_overdue(finding)


@bp.app_template_filter("overdue")
def overdue_filter(finding: Finding) -> bool:
    """The same as ``finding_overdue``, as a filter."""
    return services.is_overdue(finding)


@bp.app_template_global()
def rectification_panel(elevator: Elevator) -> dict[str, Any]:
    """Return what the elevator page's rectification panel shows."""
    return {
        "open": services.open_of_elevator(elevator),
        "awaiting": services.awaiting_verification(elevator),
        "can_create": (
            current_user.is_authenticated
            and current_user.role in OFFICERS
            and current_user.organisation_id == elevator.site.organisation_id
        ),
    }


@bp.app_template_global()
def rectification_source_label(source: str) -> str:
    """Return a finding source code in the user's language."""
    try:
        return str(FINDING_SOURCE_LABELS[FindingSource(source)])
    except ValueError:
        return source


@bp.app_template_global()
def rectification_action_label(action: str) -> str:
    """Return an action code (start, complete, verify, reopen) in the user's language."""
    try:
        return str(services.ACTION_LABELS[Action(action)])
    except ValueError:
        return action


HISTORY_LABELS = {
    "create": _l("Opened"),
    "update": _l("Changed"),
    "start": _l("Work started"),
    "complete": _l("Completed"),
    "verify": _l("Verified"),
    "reopen": _l("Reopened"),
}


@bp.app_template_global()
def rectification_history_label(action: str) -> str:
    """Return an audited action of a rectification in the user's language."""
    return str(HISTORY_LABELS.get(action, action))


@bp.app_template_global()
def finding_status_label(status: str) -> str:
    """Return a stored status code in the user's language."""
    try:
        return str(FINDING_STATUS_LABELS[FindingStatus(status)])
    except ValueError:
        return status


@bp.app_template_global()
def rectification_duty_label(duty: str) -> str:
    """Return a duty code with its title."""
    return str(services.DUTY_LABELS.get(duty, duty))


@bp.app_template_global()
def rectifications_due(limit: int = 10) -> list[Finding]:
    """Return the signed-in user's open rectifications by deadline (home page)."""
    if not current_user.is_authenticated:
        return []
    return services.rectifications_due(current_user, limit)


@bp.app_template_global()
def rectifications_overdue_count() -> int:
    """Return how many rectifications in the signed-in user's scope are overdue."""
    if not current_user.is_authenticated:
        return 0
    return services.count_overdue(current_user)


@bp.app_template_global()
def register_entry_url(entry: RegisterEntry) -> str | None:
    """Return the page of a site register entry, when the registers package has one."""
    try:
        return url_for("registers.entry", entry_id=entry.id)
    except BuildError:
        return None


@bp.app_template_global()
def lockout_url(lockout: Lockout) -> str | None:
    """Return the page of a lockout, when the lockouts package has one."""
    try:
        return url_for("lockouts.detail", lockout_id=lockout.id)
    except BuildError:
        return None
