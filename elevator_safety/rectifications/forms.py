"""Forms of the rectification pages: new rectification, the state moves, the one-step lockout.

The forms check types and lengths; the rules (who, which state, serious
hazards) live in ``rectifications.services``. Choices depending on the user
are set by the view.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.form import BaseForm
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from elevator_safety.errors import DomainError
from elevator_safety.records.forms import RecordForm, SignatureMixin
from elevator_safety.records.models import FINDING_SOURCE_LABELS, SEVERITY_LABELS
from elevator_safety.records.photos import check_photo
from elevator_safety.rectifications.services import DUTIES, DUTY_LABELS, MANUAL_SOURCES
from elevator_safety.registry.forms import NOT_A_CHOICE, TOO_LONG, int_or_none, placeholder

REQUIRED = DataRequired(message=_l("This field is required."))
MAX_PHOTOS = 6
PHOTO_ATTRS = {"accept": "image/*"}


def photos_check(_form: BaseForm, field: Any) -> None:
    """Refuse files that are not readable photos (too large: 413), or too many."""
    uploads = [u for u in (field.data or []) if u and getattr(u, "filename", None)]
    if len(uploads) > MAX_PHOTOS:
        raise ValidationError(str(_l("At most %(num)d photos.", num=MAX_PHOTOS)))
    for upload in uploads:
        try:
            check_photo(upload)
        except DomainError as error:
            raise ValidationError(error.message) from error


class NewFindingForm(FlaskForm):
    """Open a rectification by hand."""

    site_id = SelectField(
        _l("Site"), coerce=int_or_none, validators=[REQUIRED], invalid_choice_message=NOT_A_CHOICE
    )
    elevator_id = SelectField(
        _l("Elevator"),
        coerce=int_or_none,
        validators=[Optional()],
        invalid_choice_message=NOT_A_CHOICE,
        description=_l("Leave empty for a problem of the whole site."),
    )
    source = SelectField(
        _l("Source"),
        choices=[SelectChoice(s.value, FINDING_SOURCE_LABELS[s]) for s in MANUAL_SOURCES],
        default="manual",
        validators=[REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    source_reference = StringField(
        _l("Reference (notice or report number)"),
        validators=[Length(max=100, message=TOO_LONG)],
        description=_l("Required for a regulator's notice (监督检查指令书)."),
    )
    duty = SelectField(
        _l("Duty"),
        choices=[SelectChoice(d, DUTY_LABELS[d]) for d in DUTIES],
        default="D9",
        validators=[REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    item_label = StringField(
        _l("Problem (short)"), validators=[REQUIRED, Length(max=300, message=TOO_LONG)]
    )
    description = TextAreaField(
        _l("Description"), validators=[REQUIRED, Length(max=4000, message=TOO_LONG)]
    )
    severity = SelectField(
        _l("Severity"),
        choices=[SelectChoice(s.value, label) for s, label in SEVERITY_LABELS.items()],
        default="ordinary",
        validators=[REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    owner = SelectField(
        _l("Owner of the fix"),
        choices=[
            SelectChoice("company", _l("Our company")),
            SelectChoice("contractor", _l("The elevator's maintenance contractor")),
        ],
        default="company",
        validators=[REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    deadline = DateTimeLocalField(
        _l("Deadline"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        invalid_value_message=_l("Enter a date and time."),
    )
    lock_out = BooleanField(_l("Lock out the elevator now (serious hazard)"), default=True)
    password = PasswordField(
        _l("Your password (to sign the lockout)"),
        description=_l("Needed only to lock out the elevator for a serious hazard."),
    )

    def set_places(self, sites: list[Any], elevators: list[Any]) -> None:
        """Offer the user's sites and elevators."""
        self.site_id.choices = [placeholder()] + [SelectChoice(s.id, s.name) for s in sites]
        self.elevator_id.choices = [SelectChoice("", _l("— none (whole site) —"))] + [
            SelectChoice(e.id, f"{e.site.name} · {e.equipment_code} {e.location or ''}".strip())
            for e in elevators
        ]


class StartForm(FlaskForm):
    """Start work on a rectification (no signature: the completion is signed)."""


class CompleteForm(RecordForm, SignatureMixin):
    """The owner says the fix is done: what was done, photos, signature."""

    text = TextAreaField(
        _l("What was done"), validators=[REQUIRED, Length(max=4000, message=TOO_LONG)]
    )
    photos = MultipleFileField(
        _l("Photos (optional)"), validators=[photos_check], render_kw=PHOTO_ATTRS
    )


class VerifyForm(RecordForm, SignatureMixin):
    """The safety officer or director checked the fix on site and closes it."""

    text = TextAreaField(_l("Remarks (optional)"), validators=[Length(max=2000, message=TOO_LONG)])


class ReopenForm(RecordForm, SignatureMixin):
    """The fix was not good enough: reopen with a reason."""

    text = TextAreaField(
        _l("Reason for reopening"), validators=[REQUIRED, Length(max=2000, message=TOO_LONG)]
    )


class LockoutForm(FlaskForm, SignatureMixin):
    """Lock the elevator out now for a serious hazard."""

    description = TextAreaField(
        _l("What happened"), validators=[REQUIRED, Length(max=2000, message=TOO_LONG)]
    )
