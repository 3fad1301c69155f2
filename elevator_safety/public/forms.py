"""Forms of the public report (no login) and of the safety officer's handling of reports.

The public form checks types and lengths only; ``website`` is a honeypot that
people never see (hidden by CSS) and bots fill in. The handling forms carry
what each of the three outcomes needs: a signature for a lockout, a severity
for a rectification, a reason for a dismissal.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    Field,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.form import BaseForm
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from elevator_safety.public.models import CATEGORY_LABELS
from elevator_safety.records.forms import RecordForm, SignatureMixin
from elevator_safety.records.models import SEVERITY_LABELS, Severity
from elevator_safety.registry.forms import NOT_A_CHOICE, TOO_LONG, enum_choices

REQUIRED = DataRequired(message=_l("This field is required."))
NOTE_MAX = 500
PHONE_PATTERN = re.compile(r"^[0-9+\- ]{5,20}$")


def phone_check(_form: BaseForm, field: Field) -> None:
    """Accept digits, ``+``, ``-`` and spaces, 5 to 20 characters (or nothing)."""
    text = (field.data or "").strip()
    field.data = text or None
    if text and (not PHONE_PATTERN.match(text) or not any(c.isdigit() for c in text)):
        raise ValidationError(
            str(_l("Enter a phone number: 5 to 20 digits, spaces, + or -, or leave it empty."))
        )


class PublicReportForm(FlaskForm):
    """What a passenger reports: a category, an optional phone number and note."""

    category = RadioField(
        _l("What is wrong?"),
        choices=enum_choices(CATEGORY_LABELS),
        validators=[DataRequired(message=_l("Choose what is wrong."))],
        validate_choice=True,
        invalid_choice_message=NOT_A_CHOICE,
    )
    phone = StringField(
        _l("Your phone number (optional)"),
        validators=[phone_check],
        description=_l("Only if you want the safety officer to call you back."),
        render_kw={"inputmode": "tel", "autocomplete": "tel", "maxlength": 20},
    )
    note = TextAreaField(
        _l("What happened? (optional)"),
        validators=[Optional(), Length(max=NOTE_MAX, message=TOO_LONG)],
        render_kw={"maxlength": NOTE_MAX, "rows": 3},
    )
    #: Honeypot: hidden from people by CSS; anything in it marks the post as a bot's.
    website = StringField(
        _l("Leave this field empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )


class LockoutFromReportForm(RecordForm, SignatureMixin):
    """Open a lockout (or join the open one) from a report; the officer signs."""

    trapped_count = IntegerField(
        _l("People trapped"),
        validators=[Optional(), NumberRange(min=1, max=100, message=_l("From 1 to 100."))],
    )
    alarm_at = DateTimeLocalField(
        _l("Alarm time"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
    )


class RectificationFromReportForm(FlaskForm):
    """Open a rectification from a report."""

    severity = RadioField(
        _l("Severity"),
        choices=enum_choices(SEVERITY_LABELS),
        default=Severity.ordinary.value,
        validators=[DataRequired(message=_l("Choose a severity."))],
        invalid_choice_message=NOT_A_CHOICE,
    )


class DismissReportForm(FlaskForm):
    """Dismiss a report: the reason stays in the report and the audit log."""

    reason = TextAreaField(
        _l("Reason for dismissing"),
        validators=[REQUIRED, Length(max=1000, message=TOO_LONG)],
        render_kw={"rows": 2},
    )
