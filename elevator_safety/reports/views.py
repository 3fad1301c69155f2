"""Download routes of the documents: render, sign, audit, send as a PDF attachment.

- ``/reports/records/<id>.pdf``: one record's sheet (anyone who may see the record);
- ``/reports/elevators/<id>/archive.pdf?from=&to=``: an elevator's archive
  (default: the last 12 months);
- ``/reports/sites/<id>/summary.pdf?month=YYYY-MM``: a site's monthly summary;
- ``/reports/sites/<id>/register.pdf?register=&from=&to=``: a site register;
- ``/reports/district.pdf?month=YYYY-MM``: the regulator's own district.

Scope is ``scoping.py``'s, as on every page: a record, elevator or site
outside the user's scope answers 404, a role that never gets a document 403.
Each download is rendered, signed by the installation (``signing.sign_pdf``)
and recorded in the audit log (action ``download``; object type ``record``,
``elevator``, ``site`` or ``district``; the file name as label) in the same
commit, so that the property company sees who downloaded its documents.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from types import ModuleType
from typing import Any, BinaryIO

from flask import Blueprint, Response, abort, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required

from elevator_safety import audit
from elevator_safety.auth.models import OrgKind, Role, User
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records.models import Record
from elevator_safety.registers.services import READ_ROLES
from elevator_safety.reports.names import KIND_NAMES, REGISTER_NAMES
from elevator_safety.scoping import get_elevator_or_404, get_site_or_404, local_today
from elevator_safety.security import role_required

bp = Blueprint("reports", __name__, url_prefix="/reports")

#: Roles that download a site's summary and registers (contractors serve elevators, not sites).
SITE_ROLES = READ_ROLES
#: Default period of an archive or a register: the last 12 months, in days.
DEFAULT_PERIOD_DAYS = 365
#: Longest period of an archive or a register, in days.
MAX_PERIOD_DAYS = 3 * 366
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
#: Characters kept in file names (letters and digits of any script, - and .).
UNSAFE_NAME = re.compile(r"[^\w.-]+")


class BadArgument(DomainError):
    """A query argument of a download is wrong; the message says how to give it."""


# --- who may download what ----------------------------------------------------------------------


def can_download_site_documents(user: User) -> bool:
    """Property-company staff and regulators download a site's summary and registers."""
    return user.is_authenticated and user.role in SITE_ROLES


def can_download_district(user: User) -> bool:
    """Regulators download their own district's summary."""
    return (
        user.is_authenticated
        and user.role == Role.regulator
        and user.organisation.kind == OrgKind.regulator
        and bool(user.organisation.district_code)
    )


@bp.app_template_global()
def reports_links() -> dict[str, Any]:
    """Return what the download links of templates/reports/_links.html may show."""
    return {
        "site": can_download_site_documents(current_user),
        "district": can_download_district(current_user),
        "registers": REGISTER_NAMES,
        "month": local_today().strftime("%Y-%m"),
    }


# --- arguments ---------------------------------------------------------------------------------


def _date_arg(name: str, default: date) -> date:
    text = (request.args.get(name) or "").strip()
    if not text:
        return default
    try:
        if not DATE_RE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise BadArgument(
            _("Give the dates as YYYY-MM-DD (%(name)s: %(value)s).", name=name, value=text)
        ) from None


def period_args() -> tuple[date, date]:
    """Return the period of ?from=&to= (default: the 12 months up to today), checked."""
    today = local_today()
    end = _date_arg("to", today)
    start = _date_arg("from", end - timedelta(days=DEFAULT_PERIOD_DAYS - 1))
    if start > end:
        raise BadArgument(_("The first day (from) is after the last day (to)."))
    if (end - start).days > MAX_PERIOD_DAYS:
        raise BadArgument(
            _(
                "The period is longer than %(days)d days: ask for a shorter one.",
                days=MAX_PERIOD_DAYS,
            )
        )
    return start, end


def month_arg() -> date:
    """Return the first day of ?month=YYYY-MM (default: this month), not in the future."""
    today = local_today()
    text = (request.args.get("month") or "").strip()
    if not text:
        return today.replace(day=1)
    try:
        if not MONTH_RE.match(text):
            raise ValueError(text)
        month = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise BadArgument(_("Give the month as YYYY-MM (month: %(value)s).", value=text)) from None
    if month > today:
        raise BadArgument(_("The month %(value)s has not begun yet.", value=text))
    return month


def register_arg() -> str:
    """Return ?register=, one of the registers."""
    name = (request.args.get("register") or "").strip()
    if name not in REGISTER_NAMES:
        raise BadArgument(
            _("Choose the register: one of %(names)s.", names=", ".join(REGISTER_NAMES))
        )
    return name


# --- sending -------------------------------------------------------------------------------------


def file_name(*parts: str) -> str:
    """Return a file name from parts: safe characters only (Chinese kept), ``.pdf``."""
    cleaned = [UNSAFE_NAME.sub("-", part).strip("-") for part in parts]
    return "_".join(part for part in cleaned if part)[:180] + ".pdf"


def _refused(code: int, message: str) -> tuple[str, int]:
    return render_template("reports/refused.html", code=code, message=message), code


def _render() -> ModuleType:
    """Return ``render``: the PDF libraries load with the first download, not with the app."""
    from elevator_safety.reports import render

    return render


def send_document(
    write: Callable[[BinaryIO], None], name: str, object_type: str, object_id: int | None
) -> Response | tuple[str, int]:
    """Render, sign, audit and send a document; a missing font or key says what to fix."""
    from elevator_safety.reports import signing
    from elevator_safety.reports.fonts import FontMissing

    out = io.BytesIO()
    try:
        write(out)
        signed = signing.sign_pdf(out.getvalue())
    except (FontMissing, signing.SigningError) as error:
        db.session.rollback()
        return _refused(503, error.message)
    entry = audit.record("download", None, label=name)
    entry.object_type = object_type
    entry.object_id = object_id
    db.session.commit()
    return send_file(
        io.BytesIO(signed), mimetype="application/pdf", as_attachment=True, download_name=name
    )


def _checked(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 400 with the message when a query argument is wrong."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except BadArgument as error:
            db.session.rollback()
            return _refused(400, error.message)

    return wrapped


# --- the routes ---------------------------------------------------------------------------------


@bp.get("/records/<int:record_id>.pdf")
@login_required
def record_sheet(record_id: int):  # type: ignore[no-untyped-def]
    """Send one record's sheet."""
    record = db.session.get(Record, record_id)
    if record is None:
        abort(404)
    elevator = get_elevator_or_404(current_user, record.elevator_id)
    name = file_name(KIND_NAMES[record.kind][0], elevator.equipment_code, f"{record.seq}")
    return send_document(
        lambda out: _render().record_sheet(record, current_user, out), name, "record", record.id
    )


@bp.get("/elevators/<int:elevator_id>/archive.pdf")
@login_required
@_checked
def elevator_archive(elevator_id: int):  # type: ignore[no-untyped-def]
    """Send an elevator's archive for ?from=&to= (default: the last 12 months)."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    start, end = period_args()
    name = file_name("电梯管理档案", elevator.equipment_code, start.isoformat(), end.isoformat())
    return send_document(
        lambda out: _render().elevator_archive(elevator, start, end, current_user, out),
        name,
        "elevator",
        elevator.id,
    )


@bp.get("/sites/<int:site_id>/summary.pdf")
@role_required(*SITE_ROLES)
@_checked
def site_summary(site_id: int):  # type: ignore[no-untyped-def]
    """Send a site's monthly compliance summary for ?month=YYYY-MM (default: this month)."""
    site = get_site_or_404(current_user, site_id)
    month = month_arg()
    name = file_name("月度合规汇总", site.name, month.strftime("%Y-%m"))
    return send_document(
        lambda out: _render().site_summary(site, month, current_user, out), name, "site", site.id
    )


@bp.get("/sites/<int:site_id>/register.pdf")
@role_required(*SITE_ROLES)
@_checked
def site_register(site_id: int):  # type: ignore[no-untyped-def]
    """Send a site register (?register=) for ?from=&to= (default: the last 12 months)."""
    site = get_site_or_404(current_user, site_id)
    register = register_arg()
    start, end = period_args()
    name = file_name(REGISTER_NAMES[register][0], site.name, start.isoformat(), end.isoformat())
    return send_document(
        lambda out: _render().register_sheet(site, register, start, end, current_user, out),
        name,
        "site",
        site.id,
    )


@bp.get("/district.pdf")
@role_required(Role.regulator)
@_checked
def district_summary():  # type: ignore[no-untyped-def]
    """Send the regulator's own district's monthly summary for ?month=YYYY-MM."""
    if not can_download_district(current_user):
        abort(404)
    code = str(current_user.organisation.district_code)
    month = month_arg()
    name = file_name("辖区月度汇总", code, month.strftime("%Y-%m"))
    return send_document(
        lambda out: _render().district_summary(code, month, current_user, out),
        name,
        "district",
        None,
    )
