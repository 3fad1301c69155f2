"""CSV import (upload, preview, confirm) and export of elevators.

The uploaded bytes wait under ``instance/imports/<token>.csv`` between the
preview and the confirmation, with a side file naming the user who uploaded
them; the confirmation parses the same bytes again and commits all rows or
none.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from elevator_safety import audit
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.registry import csv_io
from elevator_safety.registry.models import can_import_elevators
from elevator_safety.registry.queries import filtered_elevators
from elevator_safety.scoping import local_today
from elevator_safety.security import require

bp = Blueprint("registry_io", __name__)

#: Folder under the instance folder where uploads wait for confirmation
#: (config IMPORT_FOLDER, if set, names another folder).
IMPORT_FOLDER = "imports"
#: Uploads left unconfirmed longer than this are deleted (seconds).
IMPORT_KEEP_SECONDS = 24 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
#: List-page arguments the export passes on (and records in the audit log).
EXPORT_ARGS = ("q", "site", "district", "contractor", "kind", "status", "sort")


class ImportForm(FlaskForm):
    """Upload a CSV file of elevators."""

    file = FileField(
        _l("CSV file"), validators=[FileRequired(message=_l("Choose a CSV file to upload."))]
    )


@bp.get("/elevators/export.csv")
@login_required
def export_csv():  # type: ignore[no-untyped-def]
    """Download the elevators of the list page (same scope and filters) as CSV."""
    args = {key: request.args[key] for key in EXPORT_ARGS if request.args.get(key)}
    query = filtered_elevators(current_user, request.args)
    count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    today = local_today()
    filename = f"elevators-{today.isoformat()}.csv"
    audit.record(
        "export",
        None,
        label=filename,
        changes={"rows": [None, count], **({"filters": [None, args]} if args else {})},
    )
    db.session.commit()
    english = get_locale() is not None and get_locale().language == "en"
    lines = csv_io.export_lines(query, english=english)
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/elevators/import", methods=["GET", "POST"])
@login_required
def import_upload():  # type: ignore[no-untyped-def]
    """Upload a CSV file and preview every row with its problems (writes nothing)."""
    require(can_import_elevators(current_user))
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        filename = (upload.filename or "").strip()
        data, problem = _read_upload(upload, filename)
        if problem is None:
            try:
                result = csv_io.parse_elevators(data, current_user.organisation)
            except csv_io.CsvFileError as error:
                problem = error.message
            else:
                db.session.rollback()  # the check only read; end its transaction
                token = _store(data, filename) if result.ok else None
                return render_template(
                    "registry/import_preview.html",
                    result=result,
                    token=token,
                    filename=filename,
                    columns=csv_io.COLUMNS,
                )
        form.file.errors = [*form.file.errors, problem]
    return render_template("registry/import.html", form=form, columns=csv_io.COLUMNS)


@bp.post("/elevators/import/<token>/confirm")
@login_required
def import_confirm(token: str):  # type: ignore[no-untyped-def]
    """Import the previewed file: every row or, if anything is wrong now, none."""
    require(can_import_elevators(current_user))
    data, meta = _load(token)
    filename = meta.get("filename") or ""
    org = current_user.organisation
    try:
        result = csv_io.parse_elevators(data, org)
    except csv_io.CsvFileError as error:
        _discard(token)
        flash(error.message, "error")
        return redirect(url_for("registry_io.import_upload"))
    if not result.ok:
        # Something changed since the preview (e.g. a code was added meanwhile).
        db.session.rollback()
        _discard(token)
        return render_template(
            "registry/import_preview.html",
            result=result,
            token=None,
            filename=filename,
            columns=csv_io.COLUMNS,
        )
    try:
        created = csv_io.import_elevators(
            result, org, current_user._get_current_object(), source=filename
        )
        db.session.commit()
    except (DomainError, IntegrityError):
        db.session.rollback()
        flash(_("The import failed and nothing was saved; upload the file again."), "error")
        return redirect(url_for("registry_io.import_upload"))
    _discard(token)
    flash(
        ngettext("%(num)d elevator imported.", "%(num)d elevators imported.", len(created)),
        "success",
    )
    return redirect(url_for("registry.elevators"))


# --- the uploads waiting for confirmation ---------------------------------


def _read_upload(upload: Any, filename: str) -> tuple[bytes, str | None]:
    """Return the upload's bytes, or a readable problem (not CSV, empty, too large)."""
    limit = int(current_app.config["MAX_IMPORT_BYTES"])
    if not filename.lower().endswith((".csv", ".txt")):
        return b"", _("Choose a CSV file (.csv); in Excel use Save As, CSV (UTF-8).")
    data = upload.stream.read(limit + 1)
    if not data:
        return b"", _("The file is empty.")
    if len(data) > limit:
        size = "%g" % (limit / 1024 / 1024)
        return b"", _(
            "The file is larger than %(size)s MB; split it into smaller files.", size=size
        )
    return data, None


def _folder() -> Path:
    configured = current_app.config.get("IMPORT_FOLDER")
    folder = Path(configured) if configured else Path(current_app.instance_path) / IMPORT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store(data: bytes, filename: str) -> str:
    """Keep the bytes for the confirmation; return their token."""
    folder = _folder()
    _sweep(folder)
    token = secrets.token_hex(16)
    (folder / f"{token}.csv").write_bytes(data)
    meta = {
        "user_id": current_user.id,
        "organisation_id": current_user.organisation_id,
        "filename": filename[:200],
        "stored_at": time.time(),
    }
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def _load(token: str) -> tuple[bytes, dict[str, Any]]:
    """Return the stored bytes and side file of the current user's token, or answer 404."""
    if not _TOKEN.match(token):
        abort(404)
    folder = _folder()
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        data = (folder / f"{token}.csv").read_bytes()
    except (OSError, ValueError):
        abort(404)
    if (
        meta.get("user_id") != current_user.id
        or meta.get("organisation_id") != current_user.organisation_id
    ):
        abort(404)
    return data, meta


def _discard(token: str) -> None:
    folder = _folder()
    for suffix in (".csv", ".json"):
        (folder / f"{token}{suffix}").unlink(missing_ok=True)


def _sweep(folder: Path) -> None:
    """Delete uploads nobody confirmed within a day."""
    cutoff = time.time() - IMPORT_KEEP_SECONDS
    for path in folder.iterdir():
        if path.suffix in (".csv", ".json") and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
