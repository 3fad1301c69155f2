"""Form pieces shared by every record kind: the idempotency token and the signature."""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

REQUIRED = DataRequired(message=_l("This field is required."))


def new_token() -> str:
    """Return a fresh form token."""
    return uuid.uuid4().hex


class RecordForm(FlaskForm):
    """Base of every form that creates a record: one token per form, one record per token."""

    idempotency_key = HiddenField(default=new_token)


class SignatureMixin:
    """The signer types their password again: a signature is a deliberate act."""

    password = PasswordField(
        _l("Your password (to sign)"),
        validators=[REQUIRED],
        description=_l("Signing asks for your password again."),
    )


class CorrectionForm(RecordForm, SignatureMixin):
    """Correct one field of a record."""

    field = SelectField(_l("Field to correct"), validators=[REQUIRED])
    value = StringField(_l("Corrected value"), validators=[Length(max=2000)])
    reason = TextAreaField(_l("Reason for the correction"), validators=[REQUIRED, Length(max=2000)])
