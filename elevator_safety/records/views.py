"""Record pages shared by every kind: detail with signatures and history, corrections,
an elevator's chain, and photos."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2 import TemplateNotFound
from sqlalchemy import select

from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.paging import paginate
from elevator_safety.records import services
from elevator_safety.records.forms import CorrectionForm
from elevator_safety.records.models import Photo, Record, Signature
from elevator_safety.records.permissions import WRITER_ROLES, can_correct
from elevator_safety.records.photos import photo_path
from elevator_safety.scoping import get_elevator_or_404
from elevator_safety.security import require

bp = Blueprint("records", __name__)


def get_record_or_404(record_id: int) -> Record:
    """Load a record whose elevator the user may see, or answer 404."""
    record = db.session.get(Record, record_id)
    if record is None:
        abort(404)
    get_elevator_or_404(current_user, record.elevator_id)
    return record


def kind_template(record: Record) -> str | None:
    """Return the template that renders this kind's body, if one exists."""
    name = f"records/kinds/{record.kind.value}.html"
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return None
    return name


def record_context(record: Record) -> dict[str, Any]:
    """Return what the record detail template needs."""
    corrections = services.corrections_of(record)
    signatures = list(
        db.session.scalars(
            select(Signature).where(Signature.subject_id == record.id).order_by(Signature.signed_at)
        )
    )
    acting = list(
        db.session.scalars(
            select(Record).where(Record.subject_id == record.id).order_by(Record.seq)
        )
    )
    return {
        "record": record,
        "data": record.data,
        "effective": services.effective(record, corrections),
        "corrections": corrections,
        "signatures": signatures,
        "acting": acting,
        "kind_template": kind_template(record),
        "fields": list(services.flatten(record.data["body"])),
    }


@bp.get("/records/<int:record_id>")
@login_required
def detail(record_id: int):  # type: ignore[no-untyped-def]
    """Show a record with its corrected values, signatures and history."""
    record = get_record_or_404(record_id)
    return render_template(
        "records/detail.html",
        can_correct=can_correct(current_user, record),
        **record_context(record),
    )


def _typed(old: Any, text: str) -> Any:
    """Return the new value typed like the old one."""
    text = text.strip()
    if isinstance(old, bool):
        return text.lower() in ("1", "true", "yes", "y", "是", "on")
    if isinstance(old, int):
        try:
            return int(text)
        except ValueError as error:
            raise DomainError(_("Give a whole number."), field="value") from error
    return text or None


@bp.route("/records/<int:record_id>/correct", methods=["GET", "POST"])
@login_required
def correct(record_id: int):  # type: ignore[no-untyped-def]
    """Correct a field of a record with a reason and a signature."""
    require(current_user.role in WRITER_ROLES)
    record = get_record_or_404(record_id)
    require(can_correct(current_user, record))
    current = dict(services.flatten(services.effective(record).body))
    form = CorrectionForm()
    form.field.choices = [(path, f"{path} = {value}") for path, value in current.items()]
    if form.validate_on_submit():
        try:
            new_value = _typed(current.get(form.field.data), form.value.data or "")
            correction = services.correct(
                record,
                current_user,
                form.password.data,
                {form.field.data: new_value},
                form.reason.data or "",
                idempotency_key=form.idempotency_key.data,
            )
        except services.DuplicateSubmission:
            db.session.rollback()
            return redirect(url_for(".detail", record_id=record.id))
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "field").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Correction recorded (#%(seq)d in the chain).", seq=correction.seq), "success")
            return redirect(url_for(".detail", record_id=record.id))
    status = 422 if request.method == "POST" else 200
    return render_template("records/correct.html", form=form, record=record), status


@bp.get("/elevators/<int:elevator_id>/records")
@login_required
def chain(elevator_id: int):  # type: ignore[no-untyped-def]
    """List an elevator's records in chain order, newest first, with the chain head."""
    elevator = get_elevator_or_404(current_user, elevator_id)
    query = select(Record).where(Record.elevator_id == elevator.id).order_by(Record.seq.desc())
    page = paginate(query)
    head = services.chain_head(elevator.id)
    return render_template("records/chain.html", elevator=elevator, page=page, head=head)


@bp.get("/photos/<string:sha256>")
@login_required
def photo(sha256: str):  # type: ignore[no-untyped-def]
    """Serve an evidence photo to users who may see its elevator."""
    row = db.session.scalar(select(Photo).where(Photo.sha256 == sha256))
    if row is None:
        abort(404)
    get_elevator_or_404(current_user, row.elevator_id)
    path = photo_path(row)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=row.content_type, max_age=3600, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
