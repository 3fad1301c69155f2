"""Forms of the lockout pages: opening a lockout and each of its steps.

The forms check types only; the rules (order of the steps, times, who) live in
``lockouts.services``. Times are typed in the site's local time
(``datetime-local`` inputs); the views convert them to UTC. Every form that
writes a record carries the form token and the signer's password.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from elevator_safety.lockouts.models import CAUSE_LABELS, CHANNEL_LABELS
from elevator_safety.patrols.forms import PHOTO_ATTRS, photo_check
from elevator_safety.records.forms import RecordForm, SignatureMixin
from elevator_safety.registry.forms import NOT_A_CHOICE, TOO_LONG, enum_choices

REQUIRED = DataRequired(message=_l("This field is required."))
NOT_A_TIME = _l("Enter a date and time.")
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def moment(label: object, description: object = None) -> DateTimeLocalField:
    """Return an optional local date and time (empty: now)."""
    return DateTimeLocalField(
        label,
        validators=[Optional()],
        format=TIME_FORMATS,
        invalid_value_message=NOT_A_TIME,
        description=description or _l("Leave empty for now."),
    )


def text_area(label: object, max_length: int = 2000, *, required: bool = False) -> TextAreaField:
    """Return a free text, required or optional."""
    first = REQUIRED if required else Optional()
    return TextAreaField(
        label,
        validators=[first, Length(max=max_length, message=TOO_LONG)],
        render_kw={"rows": 3},
    )


def photo(label: object) -> FileField:
    """Return an optional evidence photo, checked before anything is stored."""
    return FileField(label, validators=[photo_check], render_kw=PHOTO_ATTRS)


class OpenForm(RecordForm, SignatureMixin):
    """Open a lockout: cause, description, time; optionally an entrapment (困人)."""

    cause = SelectField(
        _l("Cause"),
        choices=enum_choices(CAUSE_LABELS, blank=True),
        validators=[REQUIRED],
        validate_choice=True,
    )
    description = text_area(_l("What happened"), required=True)
    occurred_at = moment(_l("Time of the fault or stop"))
    entrapment = BooleanField(_l("People are trapped in the car (困人)"))
    trapped_count = IntegerField(
        _l("People trapped"),
        validators=[Optional(), NumberRange(min=1, max=100, message=_l("From 1 to 100."))],
    )
    alarm_at = moment(_l("Alarm time"), _l("When the alarm was raised. Leave empty for now."))


class NoticeForm(RecordForm, SignatureMixin):
    """The prohibition notice (停用/禁止使用) is posted in a visible place."""

    occurred_at = moment(_l("Time the notice was posted"))
    photo = photo(_l("Photo of the posted notice"))
    note = text_area(_l("Note"), 1000)


class NotifyForm(RecordForm, SignatureMixin):
    """The maintenance contractor was notified."""

    channel = RadioField(
        _l("Channel"),
        choices=enum_choices(CHANNEL_LABELS),
        validators=[DataRequired(message=_l("Choose how the contractor was notified."))],
        invalid_choice_message=NOT_A_CHOICE,
    )
    party = StringField(
        _l("Who was called (name, phone)"),
        validators=[REQUIRED, Length(max=200, message=TOO_LONG)],
    )
    occurred_at = moment(_l("Time of the notification"))


class ArrivalForm(RecordForm, SignatureMixin):
    """The contractor arrived on site."""

    occurred_at = moment(_l("Time of arrival"))


class RepairForm(RecordForm, SignatureMixin):
    """The contractor's repair record (维修记录)."""

    found = text_area(_l("What was found and repaired"), required=True)
    parts_replaced = text_area(
        _l("Parts replaced (one per line)"),
        1000,
    )
    occurred_at = moment(_l("Time the repair was finished"))
    photo = photo(_l("Photo of the repair"))


class RescueForm(RecordForm, SignatureMixin):
    """The rescue arrived at the entrapment."""

    occurred_at = moment(_l("Time the rescue arrived"))
    late_reason = text_area(
        _l("Reason, if the rescue arrived after the limit"),
        1000,
    )


class ReleaseForm(RecordForm, SignatureMixin):
    """The trapped people were released."""

    occurred_at = moment(_l("Time the people were released"))
    injured_count = IntegerField(
        _l("People injured"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=100, message=_l("From 0 to 100.")),
        ],
    )
    injuries = text_area(_l("Injuries"), 1000)


class ReturnForm(RecordForm, SignatureMixin):
    """The safety officer returns the elevator to service."""

    occurred_at = moment(_l("Time of the return to service"))
    note = text_area(_l("Note"), 1000)


class CancelForm(RecordForm, SignatureMixin):
    """Cancel a lockout opened by mistake (a false alarm), with the reason."""

    reason = text_area(_l("Reason for the cancellation"), required=True)
