"""Pages of the regulator's desk (``/desk``).

- ``/desk/``: search the elevators in one's scope (a regulator: its district;
  a property company: its sites; a contractor: its elevators under contract)
  by elevator code, rescue code, site, company, contractor or compliance state;
  each row links to the elevator's page and its archive download.
- ``/desk/exports``, ``/desk/exports/new``, ``/desk/exports/<id>``: bulk
  exports of a district or site for a period, built in the background
  (``desk.services``); the job page shows the progress, refreshed by
  ``static/js/desk-export.js`` polling ``/desk/exports/<id>/status``, or by a
  meta refresh without JavaScript; ``/desk/exports/<id>/download`` sends the
  ZIP to the requesting organisation's users and audits it.
- ``/desk/downloads``: the property company's "downloads of our documents",
  from the audit entries of the document routes.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from elevator_safety.auth.models import Role
from elevator_safety.compliance import engine
from elevator_safety.desk import services
from elevator_safety.desk.forms import ExportForm, SearchForm
from elevator_safety.desk.models import ExportJob, ExportStatus
from elevator_safety.desk.search import (
    Criteria,
    company_downloads,
    search_elevators,
    who,
    worst_states,
)
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.formviews import field_error, render_form
from elevator_safety.paging import paginate
from elevator_safety.registry.models import Contract, Elevator, Site
from elevator_safety.scoping import local_today
from elevator_safety.security import require, role_required

bp = Blueprint("desk", __name__, url_prefix="/desk")

#: Roles that may ask for bulk exports (contractors may not).
EXPORT_ROLES = (Role.regulator, Role.admin, Role.safety_director, Role.safety_officer)
#: Roles of a property company, who see the downloads of its documents.
COMPANY_ROLES = (Role.admin, Role.safety_director, Role.safety_officer)

STATUS_LABELS = {
    ExportStatus.queued: _l("Waiting to start"),
    ExportStatus.running: _l("Running"),
    ExportStatus.done: _l("Ready to download"),
    ExportStatus.failed: _l("Failed"),
    ExportStatus.expired: _l("Expired (deleted)"),
}

#: Seconds between refreshes of a job page that is still waiting or running.
REFRESH_SECONDS = 3


def human_size(size: int | None) -> str:
    """Return a file size for people: bytes, KB or MB with one decimal."""
    if size is None:
        return ""
    if size < 1024:
        return _("%(n)s bytes", n=format_decimal(size))
    if size < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(round(size / 1024, 1)))
    return _("%(n)s MB", n=format_decimal(round(size / (1024 * 1024), 1)))


# --- search -------------------------------------------------------------------------


@bp.get("/")
@login_required
def search():  # type: ignore[no-untyped-def]
    """Search the elevators in the user's scope; each row links to its page and archive."""
    today = local_today()
    form = SearchForm(request.args)
    criteria = Criteria.from_args(request.args)
    query = search_elevators(current_user, criteria, today).options(
        selectinload(Elevator.site).selectinload(Site.organisation),
        selectinload(Elevator.contracts).selectinload(Contract.contractor),
    )
    page = paginate(query)
    ids = [elevator.id for elevator in page.items]
    return render_template(
        "desk/search.html",
        form=form,
        page=page,
        today=today,
        states=worst_states(engine.status_matrix(ids)) if ids else {},
        can_export=services.can_export(current_user),
    )


# --- bulk exports -----------------------------------------------------------------------


@bp.get("/exports")
@role_required(*EXPORT_ROLES)
def exports():  # type: ignore[no-untyped-def]
    """List the exports of the user's organisation, newest first."""
    page = paginate(services.jobs_of(current_user).options(selectinload(ExportJob.site)))
    return render_template(
        "desk/exports.html",
        page=page,
        status_labels=STATUS_LABELS,
        human_size=human_size,
        can_export=services.can_export(current_user),
    )


def _export_form(today: Any) -> ExportForm:
    """Return the export form with its choices; on GET, last month and the asked-for site."""
    start, end = services.last_month(today)
    choices = services.target_choices(current_user)
    wanted = request.args.get("site", "")
    values = {choice for choice, _label in choices}
    target = wanted if wanted in values else (choices[0][0] if choices else "")
    form = ExportForm(data={"target": target, "period_from": start, "period_to": end})
    form.target.choices = [SelectChoice(value, label) for value, label in choices]
    return form


@bp.route("/exports/new", methods=["GET", "POST"])
@role_required(*EXPORT_ROLES)
def export_new():  # type: ignore[no-untyped-def]
    """Ask for a bulk export of the district or a site for a period."""
    require(services.can_export(current_user))
    today = local_today()
    form = _export_form(today)
    if form.validate_on_submit():
        problems = services.period_problems(form.period_from.data, form.period_to.data, today)
        for name, message in problems.items():
            form[name].errors = [*form[name].errors, message]
        if not problems:
            try:
                job = services.create_export(
                    current_user,
                    form.target.data or "",
                    form.period_from.data,
                    form.period_to.data,
                    today,
                )
            except DomainError as error:
                db.session.rollback()
                field_error(form, error)
            else:
                db.session.commit()
                flash(_("Export queued: it is built in the background."), "success")
                return redirect(url_for("desk.export_detail", job_id=job.id))
    return render_form("desk/export_new.html", form=form)


def _status(job: ExportJob) -> dict[str, Any]:
    """Return what the job page and its status endpoint show."""
    done = job.status == ExportStatus.done
    return {
        "id": job.id,
        "status": job.status.value,
        "label": str(STATUS_LABELS[job.status]),
        "done": job.done_count,
        "total": job.total_count,
        "percent": job.percent,
        "text": _(
            "%(done)d of %(total)d documents (%(percent)d %%)",
            done=job.done_count,
            total=job.total_count,
            percent=job.percent,
        ),
        "finished": job.status not in (ExportStatus.queued, ExportStatus.running),
        "download_url": url_for("desk.export_download", job_id=job.id) if done else None,
    }


@bp.get("/exports/<int:job_id>")
@role_required(*EXPORT_ROLES)
def export_detail(job_id: int):  # type: ignore[no-untyped-def]
    """Show an export's progress, then its download link, size, SHA-256 and expiry."""
    job = services.get_job_or_404(current_user, job_id)
    return render_template(
        "desk/export_detail.html",
        job=job,
        status=_status(job),
        status_labels=STATUS_LABELS,
        refresh=REFRESH_SECONDS,
        available=services.export_file(job) is not None,
        human_size=human_size,
        download_name=services.download_name(job),
    )


@bp.get("/exports/<int:job_id>/status")
@role_required(*EXPORT_ROLES)
def export_status(job_id: int):  # type: ignore[no-untyped-def]
    """Return an export's progress as JSON (polled by the job page)."""
    job = services.get_job_or_404(current_user, job_id)
    response = jsonify(_status(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/exports/<int:job_id>/download")
@role_required(*EXPORT_ROLES)
def export_download(job_id: int):  # type: ignore[no-untyped-def]
    """Send a finished export's ZIP to a user of the requesting organisation; audited."""
    job = services.get_job_or_404(current_user, job_id)
    path = services.export_file(job)
    if path is None:
        abort(404)
    services.record_download(job)
    db.session.commit()
    return send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=services.download_name(job),
        max_age=0,
    )


# --- downloads of the company's documents -------------------------------------------------


@bp.get("/downloads")
@role_required(*COMPANY_ROLES)
def downloads():  # type: ignore[no-untyped-def]
    """Show who downloaded the company's documents (records, archives, summaries, exports)."""
    require(services.can_view_downloads(current_user))
    page = paginate(company_downloads(current_user.organisation_id))
    users, organisations = who(page.items)
    return render_template(
        "desk/downloads.html", page=page, users=users, organisations=organisations
    )
