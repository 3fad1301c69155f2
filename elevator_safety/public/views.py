"""Public report pages: the passenger's page (no login) and the officer's handling.

``/r/<equipment_code>`` is what the QR label in the car opens: the rescue
hotline and code first, then a short form. It is rate-limited per client
address and per elevator (POST only), has a honeypot field, and shows nothing
about the elevator beyond its location and codes; an unknown or decommissioned
code is an ordinary 404.

``/reports`` lists the reports in the user's scope (pending first, trapped
first); ``/reports/<id>`` lets the company's safety officers turn a report into
a lockout, a rectification, or dismiss it with a reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import contains_eager
from werkzeug.routing import BuildError

from elevator_safety.auth.models import Role
from elevator_safety.errors import DomainError
from elevator_safety.extensions import client_address, db, limiter
from elevator_safety.paging import paginate
from elevator_safety.public import services
from elevator_safety.public.forms import (
    DismissReportForm,
    LockoutFromReportForm,
    PublicReportForm,
    RectificationFromReportForm,
)
from elevator_safety.public.models import (
    CATEGORY_LABELS,
    REPORT_STATUS_LABELS,
    PublicReport,
    ReportCategory,
    ReportStatus,
)
from elevator_safety.records.models import Severity
from elevator_safety.records.services import DuplicateSubmission
from elevator_safety.registry.models import Elevator
from elevator_safety.security import require, role_required

bp = Blueprint("public", __name__)

#: Roles that handle reports (of their own company's elevators: ``services.can_handle``).
HANDLER_ROLES = (Role.safety_officer, Role.safety_director)
#: Status filters of the list: pending, handled (any outcome) or all.
STATUS_FILTERS = ("pending", "handled", "all")


# --- the passenger's page (no login) ----------------------------------------------------------


def _elevator_key() -> str:
    """Rate-limit key of the per-elevator limit: the code in the URL."""
    code = (request.view_args or {}).get("equipment_code", "")
    return f"public-elevator:{code}"


def _accepted(response) -> bool:  # type: ignore[no-untyped-def]
    """Count the submissions that were taken (a redirect to the thank-you page)."""
    return bool(response.status_code == 302)


def _public_elevator_or_404(equipment_code: str) -> Elevator:
    elevator = services.find_public_elevator(equipment_code)
    if elevator is None:
        abort(404)
    return elevator


def _public_context(elevator: Elevator) -> dict[str, Any]:
    """Only what a passenger may see: the location and the codes."""
    return {
        "site_name": elevator.site.name,
        "location": elevator.location,
        "equipment_code": elevator.equipment_code,
        "rescue_code": elevator.rescue_code,
        "hotline": current_app.config["RESCUE_HOTLINE"],
        "elevator_id": elevator.id,
    }


@bp.route("/r/<equipment_code>", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["PUBLIC_REPORT_LIMIT_PER_IP"],
    methods=["POST"],
    deduct_when=_accepted,
)
@limiter.limit(
    lambda: current_app.config["PUBLIC_REPORT_LIMIT_PER_ELEVATOR"],
    key_func=_elevator_key,
    methods=["POST"],
    deduct_when=_accepted,
)
def report_page(equipment_code: str):  # type: ignore[no-untyped-def]
    """Show the hotline and the report form of an elevator; store a report."""
    elevator = _public_elevator_or_404(equipment_code)
    form = PublicReportForm()
    if request.method == "POST" and (request.form.get("website") or "").strip():
        # The honeypot was filled: a bot. Answer as if all went well; store nothing.
        return redirect(url_for("public.thanks", equipment_code=elevator.equipment_code))
    if form.validate_on_submit():
        services.submit_report(
            elevator,
            category=ReportCategory(form.category.data),
            phone=form.phone.data,
            note=form.note.data,
            client_address=client_address(),
        )
        db.session.commit()
        return redirect(url_for("public.thanks", equipment_code=elevator.equipment_code))
    status = 422 if request.method == "POST" else 200
    return render_template("public/report.html", form=form, **_public_context(elevator)), status


@bp.get("/r/<equipment_code>/thanks")
def thanks(equipment_code: str):  # type: ignore[no-untyped-def]
    """Thank the passenger; repeat the hotline."""
    elevator = _public_elevator_or_404(equipment_code)
    return render_template("public/thanks.html", **_public_context(elevator))


@bp.errorhandler(429)
def limited(error: Exception):  # type: ignore[no-untyped-def]
    """Too many reports: say so, and repeat the hotline (someone may be trapped)."""
    db.session.rollback()
    code = (request.view_args or {}).get("equipment_code", "")
    elevator = services.find_public_elevator(code) if code else None
    context = _public_context(elevator) if elevator is not None else {}
    context.setdefault("hotline", current_app.config["RESCUE_HOTLINE"])
    return render_template("public/limited.html", code=429, **context), 429


# --- the officer's side ------------------------------------------------------------------------


def _viewer() -> None:
    require(services.can_view_reports(current_user))


def _get_report_or_404(report_id: int) -> PublicReport:
    _viewer()
    report = services.get_report(current_user, report_id)
    if report is None:
        abort(404)
    return report


def _url(endpoint: str, **values: Any) -> str | None:
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.app_template_global()
def public_lockout_url(lockout_id: int, elevator_id: int) -> str:
    """Return the page of a lockout (the elevator page while lockouts have none)."""
    return _url("lockouts.detail", lockout_id=lockout_id) or url_for(
        "registry.elevator_detail", elevator_id=elevator_id
    )


@bp.app_template_global()
def public_finding_url(finding_id: int, elevator_id: int) -> str:
    """Return the page of a rectification (the elevator page while they have none)."""
    return _url("rectifications.detail", finding_id=finding_id) or url_for(
        "registry.elevator_detail", elevator_id=elevator_id
    )


@bp.app_template_global()
def public_pending_count() -> int:
    """Return the pending reports the current user can see (for the nav badge)."""
    if not current_user.is_authenticated:
        return 0
    return services.count_pending(current_user)


@bp.app_template_global()
def public_report_panel(elevator: Elevator) -> dict[str, Any]:
    """Return what the elevator page's report panel shows to the current user."""
    visible = current_user.is_authenticated and services.can_view_reports(current_user)
    return {
        "visible": visible,
        "pending": services.pending_of_elevator(current_user, elevator) if visible else [],
        "public_url": url_for("public.report_page", equipment_code=elevator.equipment_code),
    }


@bp.get("/reports")
@login_required
def reports():  # type: ignore[no-untyped-def]
    """List the public reports in scope: pending first, trapped first; filter and page."""
    _viewer()
    query = services.scoped_reports(current_user).options(
        contains_eager(PublicReport.elevator).contains_eager(Elevator.site)
    )
    status = request.args.get("status") or "all"
    if status not in STATUS_FILTERS:
        status = "all"
    if status == "pending":
        query = query.where(PublicReport.status == ReportStatus.pending)
    elif status == "handled":
        query = query.where(PublicReport.status != ReportStatus.pending)
    category = request.args.get("category") or ""
    if category in {c.value for c in ReportCategory}:
        query = query.where(PublicReport.category == category)
    else:
        category = ""
    page = paginate(query.order_by(*services.list_order()))
    return render_template(
        "public/list.html",
        page=page,
        status=status,
        category=category,
        category_labels=CATEGORY_LABELS,
        status_labels=REPORT_STATUS_LABELS,
        pending_count=services.count_pending(current_user),
    )


def _local_input(value: datetime, zone: str) -> datetime:
    """Return a UTC instant as the naive local time a datetime-local input shows."""
    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)


def _detail(
    report: PublicReport,
    *,
    lockout_form: LockoutFromReportForm | None = None,
    rectification_form: RectificationFromReportForm | None = None,
    dismiss_form: DismissReportForm | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    zone = report.elevator.site.timezone or current_app.config["TIMEZONE"]
    if lockout_form is None:
        lockout_form = LockoutFromReportForm(formdata=None)
        if report.category == ReportCategory.trapped:
            lockout_form.trapped_count.data = 1
        lockout_form.alarm_at.data = _local_input(report.created_at, zone)
    if rectification_form is None:
        rectification_form = RectificationFromReportForm(formdata=None)
        rectification_form.severity.data = Severity.ordinary.value
    if dismiss_form is None:
        dismiss_form = DismissReportForm(formdata=None)
    from elevator_safety.lockouts.services import open_lockout_of

    pending = report.status == ReportStatus.pending
    return render_template(
        "public/detail.html",
        report=report,
        elevator=report.elevator,
        zone=zone,
        can_handle=pending and services.can_handle(current_user, report),
        open_lockout=open_lockout_of(report.elevator) if pending else None,
        lockout_form=lockout_form,
        rectification_form=rectification_form,
        dismiss_form=dismiss_form,
        duty=services.duty_of(report.category),
    ), status


@bp.get("/reports/<int:report_id>")
@login_required
def report_detail(report_id: int):  # type: ignore[no-untyped-def]
    """Show a report and, to the company's safety officers, the three ways to handle it."""
    return _detail(_get_report_or_404(report_id))


def _handler_report(report_id: int) -> PublicReport:
    """Load a report the current user may handle: 404 outside the scope, then 403."""
    report = _get_report_or_404(report_id)
    require(services.can_handle(current_user, report))
    return report


def _refused(report: PublicReport, form: FlaskForm, name: str, error: DomainError):  # type: ignore[no-untyped-def]
    """Put a domain refusal on its field (or above the form) and show the page again."""
    db.session.rollback()
    db.session.refresh(report)
    if report.status != ReportStatus.pending:
        flash(services.already_handled_message(report), "warning")
        return redirect(url_for("public.report_detail", report_id=report.id))
    field = error.field if error.field and error.field in form else None
    if field:
        form[field].errors = [*form[field].errors, error.message]
    else:
        flash(error.message, "error")
    return _detail(report, status=422, **{name: form})


def _already_handled(report: PublicReport):  # type: ignore[no-untyped-def]
    flash(services.already_handled_message(report), "warning")
    return redirect(url_for("public.report_detail", report_id=report.id))


def _utc(local: datetime | None, zone: str) -> datetime | None:
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


@bp.post("/reports/<int:report_id>/lockout")
@role_required(*HANDLER_ROLES)
def to_lockout(report_id: int):  # type: ignore[no-untyped-def]
    """Open a lockout from the report (or link it to the elevator's open lockout)."""
    report = _handler_report(report_id)
    if report.status != ReportStatus.pending:
        return _already_handled(report)
    form = LockoutFromReportForm()
    if not form.validate_on_submit():
        return _detail(report, lockout_form=form, status=422)
    zone = report.elevator.site.timezone or current_app.config["TIMEZONE"]
    try:
        outcome = services.to_lockout(
            report,
            current_user,
            form.password.data,
            trapped_count=form.trapped_count.data,
            alarm_at=_utc(form.alarm_at.data, zone),
            idempotency_key=form.idempotency_key.data,
        )
    except DuplicateSubmission:
        db.session.rollback()
        return _already_handled(report)
    except DomainError as error:
        return _refused(report, form, "lockout_form", error)
    lockout = outcome.lockout
    elevator_id = report.elevator_id
    db.session.commit()
    if outcome.opened:
        flash(_("Lockout opened: the elevator is out of service."), "success")
    else:
        flash(_("The elevator already had an open lockout; the report is linked to it."), "info")
    return redirect(public_lockout_url(lockout.id, elevator_id))


@bp.post("/reports/<int:report_id>/rectification")
@role_required(*HANDLER_ROLES)
def to_rectification(report_id: int):  # type: ignore[no-untyped-def]
    """Open a rectification from the report."""
    report = _handler_report(report_id)
    if report.status != ReportStatus.pending:
        return _already_handled(report)
    form = RectificationFromReportForm()
    if not form.validate_on_submit():
        return _detail(report, rectification_form=form, status=422)
    try:
        finding = services.to_rectification(report, current_user, Severity(form.severity.data))
    except DomainError as error:
        return _refused(report, form, "rectification_form", error)
    finding_id, elevator_id = finding.id, report.elevator_id
    db.session.commit()
    flash(_("Rectification opened."), "success")
    return redirect(public_finding_url(finding_id, elevator_id))


@bp.post("/reports/<int:report_id>/dismiss")
@role_required(*HANDLER_ROLES)
def dismiss(report_id: int):  # type: ignore[no-untyped-def]
    """Dismiss the report with a reason."""
    report = _handler_report(report_id)
    if report.status != ReportStatus.pending:
        return _already_handled(report)
    form = DismissReportForm()
    if not form.validate_on_submit():
        return _detail(report, dismiss_form=form, status=422)
    try:
        services.dismiss(report, current_user, form.reason.data or "")
    except DomainError as error:
        return _refused(report, form, "dismiss_form", error)
    db.session.commit()
    flash(_("Report dismissed."), "success")
    return redirect(url_for("public.report_detail", report_id=report.id))
