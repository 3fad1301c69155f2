"""Public verification pages: anyone holding a paper or a file checks it, without logging in.

``/verify/<hash>`` is what the QR code of a record sheet opens: whether a record
with that content hash exists, its kind, elevator and date, and whether it
and its chain still verify; a logged-in user who may see the record also gets
a link to it. When no record has the hash, a site register entry that has it
is shown instead (its kind, site, date and place in the site's register
chain), without a link: register entries are not records. ``/verify`` has a
field to type a printed hash and an upload for a PDF, which ``/verify/pdf``
checks (signature and every printed hash).
``/verify/certificate.pem`` serves the installation's signing certificate, to
be trusted in a PDF reader. The hash and PDF checks are rate-limited per client
address (they walk chains), like the public report page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from elevator_safety.extensions import db, limiter
from elevator_safety.registry.models import Elevator
from elevator_safety.scoping import elevator_scope
from elevator_safety.verify.forms import PdfUploadForm

if TYPE_CHECKING:
    from elevator_safety.reports.verifying import HashCheck

# The checks import pyHanko and pypdf (``reports.signing``, ``reports.verifying``): each
# view imports them when it runs, so that a process that never checks a PDF, such as the
# scheduler, does not load them (docs/performance.md).

bp = Blueprint("verify", __name__)

CERTIFICATE_FILENAME = "elevator-safety-signing-certificate.pem"


def _limit(key: str) -> Callable[[], str]:
    """Return a rate limit read from the configuration when a request comes."""
    return lambda: str(current_app.config[key])


def _record_links(checks: Iterable[HashCheck]) -> dict[int, str]:
    """Return links to the checked records that the logged-in user may see, by record id.

    Only records: a register entry's id is never looked up as a record's.
    """
    records = [check.record for check in checks if check.record is not None and not check.is_entry]
    if not records or not current_user.is_authenticated:
        return {}
    elevator_ids = {record.elevator_id for record in records}
    visible = set(
        db.session.scalars(
            select(Elevator.id)
            .join(Elevator.site)
            .where(elevator_scope(current_user), Elevator.id.in_(elevator_ids))
        )
    )
    return {
        record.id: url_for("records.detail", record_id=record.id)
        for record in records
        if record.elevator_id in visible
    }


def _certificate_fingerprint() -> str | None:
    """Return the fingerprint of the signing certificate (None when it cannot be read)."""
    from elevator_safety.reports import signing

    try:
        return signing.fingerprint(signing.signing_certificate())
    except signing.SigningError as error:
        current_app.logger.warning("Signing identity unusable: %s", error.message)
        return None


def _index(form: PdfUploadForm, hash_value: str = "", hash_error: str | None = None) -> str:
    return render_template(
        "verify/index.html",
        form=form,
        hash_value=hash_value,
        hash_error=hash_error,
        fingerprint=_certificate_fingerprint(),
    )


@bp.get("/verify")
def index():  # type: ignore[no-untyped-def]
    """Offer to check a printed hash or a PDF; a typed hash goes to its page."""
    from elevator_safety.reports.verifying import is_hash

    typed = request.args.get("hash")
    if typed is None:
        return _index(PdfUploadForm())
    value = "".join(typed.split()).lower()
    if is_hash(value):
        return redirect(url_for(".record", content_hash=value))
    error = _("A record hash has 64 characters: digits 0-9 and letters a-f.")
    return _index(PdfUploadForm(), typed, error), 422


@bp.get("/verify/<content_hash>")
@limiter.limit(_limit("VERIFY_LIMIT_PER_IP"))
def record(content_hash: str):  # type: ignore[no-untyped-def]
    """Say whether a record (or else a register entry) with this hash exists and verifies."""
    from elevator_safety.reports.verifying import check_printed_hash, is_hash

    value = content_hash.lower()
    if not is_hash(value):
        return render_template("verify/malformed.html", value=content_hash), 404
    check = check_printed_hash(value)
    status = 404 if check.found is None else 200
    return render_template("verify/record.html", check=check, links=_record_links([check])), status


@bp.route("/verify/pdf", methods=["GET", "POST"])
@limiter.limit(_limit("VERIFY_PDF_LIMIT_PER_IP"), methods=["POST"])
def pdf():  # type: ignore[no-untyped-def]
    """Check an uploaded PDF: its signature and every record or register entry hash on it."""
    from elevator_safety.reports.verifying import check_pdf

    if request.method == "GET":
        return redirect(url_for(".index"))
    form = PdfUploadForm()
    if not form.validate_on_submit():
        return _index(form), 422
    upload = form.file.data
    result = check_pdf(upload.read())
    return render_template(
        "verify/pdf.html",
        result=result,
        filename=upload.filename or "",
        links=_record_links(result.hashes),
    )


@bp.get("/verify/certificate.pem")
def certificate():  # type: ignore[no-untyped-def]
    """Serve the installation's signing certificate (to trust it in a PDF reader)."""
    from cryptography.hazmat.primitives import serialization

    from elevator_safety.reports import signing

    try:
        certificate = signing.signing_certificate()
    except signing.SigningError as error:
        current_app.logger.warning("Signing identity unusable: %s", error.message)
        abort(404)
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    return Response(
        pem,
        mimetype="application/x-pem-file",
        headers={"Content-Disposition": f"attachment; filename={CERTIFICATE_FILENAME}"},
    )
