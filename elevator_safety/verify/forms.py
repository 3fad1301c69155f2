"""The form of the public PDF check (an upload, with the app's CSRF protection)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class PdfUploadForm(FlaskForm):
    """Upload a PDF issued by the installation to check it."""

    file = FileField(
        _l("PDF file"),
        validators=[FileRequired(message=_l("Choose a PDF file to check."))],
        render_kw={"accept": "application/pdf,.pdf"},
    )
