"""Forms of the duty registers: keys (D4), roster and alarm tests (D6), video checks (D7).

The forms check types and lengths; the rules (certificate required, key not
already out, shift times, retention) live in ``registers.services``. Times
are typed in the site's local time (``datetime-local`` inputs, good on phones)
and turned into aware UTC by the views.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from elevator_safety.records.forms import REQUIRED, RecordForm, SignatureMixin
from elevator_safety.registers.models import KEY_KIND_LABELS

TOO_LONG = _l("At most %(max)d characters.")
NOT_A_DATE = _l("Enter a date as YYYY-MM-DD.")
NOT_A_TIME = _l("Enter a date and time, e.g. 2026-05-01 08:00.")
NOT_A_NUMBER = _l("Enter a whole number.")
ANSWER = _l("Choose an answer.")
YES_NO = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def text(label: object, max_length: int, required: bool = False) -> StringField:
    """Return a one-line text field."""
    validators = [REQUIRED] if required else [Optional()]
    return StringField(label, validators=[*validators, Length(max=max_length, message=TOO_LONG)])


def note(label: object) -> TextAreaField:
    """Return an optional note."""
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=1000, message=TOO_LONG)],
        render_kw={"rows": 2},
    )


def moment(label: object) -> DateTimeLocalField:
    """Return a required local date and time."""
    return DateTimeLocalField(
        label,
        validators=[InputRequired(message=_l("This field is required."))],
        format=TIME_FORMATS,
        invalid_value_message=NOT_A_TIME,
    )


class KeyForm(FlaskForm):
    """Add a special key or tool to a site's register (D4)."""

    code = text(_l("Code on the key's tag"), 32, required=True)
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(kind.value, label) for kind, label in KEY_KIND_LABELS.items()],
        validators=[REQUIRED],
    )
    description = text(_l("Description (which doors or machine room)"), 200)


class ActionForm(FlaskForm):
    """A button that changes registry data (CSRF only)."""


class IssueForm(RecordForm, SignatureMixin):
    """Issue a key or tool to a certified holder (领用)."""

    holder_user = SelectField(
        _l("Certified person (fills in name and certificate)"),
        coerce=int,
        validate_choice=False,
        default=0,
    )
    holder = text(_l("Holder's name"), 100)
    certificate_no = text(_l("Holder's operator certificate no."), 64)
    purpose = text(_l("Purpose"), 200)
    issued_at = moment(_l("Issued at"))


class ReturnForm(RecordForm, SignatureMixin):
    """Record the return of an issued key or tool (归还)."""

    returned_at = moment(_l("Returned at"))
    note = note(_l("Note (condition of the key or tool)"))


class ShiftForm(RecordForm, SignatureMixin):
    """Put a duty shift on the roster (值班)."""

    starts_at = moment(_l("Shift starts"))
    ends_at = moment(_l("Shift ends"))
    person = text(_l("Person on duty"), 100, required=True)
    phone = text(_l("Duty phone"), 32)
    place = text(_l("Place (duty room)"), 100)


class WithdrawForm(RecordForm, SignatureMixin):
    """Withdraw a shift entered by mistake (the entry stays; a withdrawal is added)."""

    reason = TextAreaField(
        _l("Reason for the withdrawal"),
        validators=[REQUIRED, Length(max=1000, message=TOO_LONG)],
        render_kw={"rows": 2},
    )


class VideoCheckForm(RecordForm, SignatureMixin):
    """A periodic video surveillance and retention check (D7)."""

    checked_at = moment(_l("Checked at"))
    cameras_total = IntegerField(
        _l("Cameras in all"),
        validators=[
            InputRequired(message=_l("This field is required.")),
            NumberRange(min=1, max=10000, message=_l("Enter a number from %(min)s to %(max)s.")),
        ],
    )
    cameras_working = IntegerField(
        _l("Cameras working"),
        validators=[
            InputRequired(message=_l("This field is required.")),
            NumberRange(min=0, max=10000, message=_l("Enter a number from %(min)s to %(max)s.")),
        ],
    )
    oldest_footage = DateField(
        _l("Date of the oldest footage kept"),
        validators=[InputRequired(message=_l("This field is required."))],
        invalid_value_message=NOT_A_DATE,
    )
    note = note(_l("Note"))


class AlarmTestForm(RecordForm, SignatureMixin):
    """An emergency alarm test of an elevator: press the car's alarm, time the answer (D6)."""

    tested_at = moment(_l("Tested at"))
    answered = RadioField(
        _l("Did the duty room answer?"),
        choices=YES_NO,
        validators=[InputRequired(message=ANSWER)],
    )
    answered_in_seconds = IntegerField(
        _l("Answered after (seconds)"),
        validators=[
            Optional(),
            NumberRange(min=0, max=86400, message=_l("Enter a number from %(min)s to %(max)s.")),
        ],
    )
    answered_by = text(_l("Answered by (person in the duty room)"), 100)
    talk_clear = RadioField(
        _l("Was the two-way talk clear?"), choices=YES_NO, validate_choice=False
    )
    note = note(_l("Note"))
