"""Forms of the maintenance pages: the visit (with its items) and the review.

The forms check types and lengths only; the rules (levels in the plan, times,
technicians, answers) live in ``maintenance.services`` so that nothing but the
service decides what is stored. Choices that depend on the user and the
elevator (levels, colleagues) are set by the view.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from elevator_safety.maintenance.items import Item, field_name, note_name
from elevator_safety.maintenance.services import MAX_NOTE, MAX_TEXT, RESULT_LABELS
from elevator_safety.records.forms import RecordForm, SignatureMixin
from elevator_safety.records.models import SEVERITY_LABELS

TOO_LONG = _l("At most %(max)d characters.")
NOT_A_DATE = _l("Enter a date as YYYY-MM-DD.")
NOT_A_TIME = _l("Enter a time as HH:MM.")


def result_choices() -> list[SelectChoice]:
    """Return the answers of an item: done, adjusted, part replaced, not applicable."""
    return [SelectChoice(value, label) for value, label in RESULT_LABELS.items()]


class CoworkerForm(Form):
    """A technician present who is typed in rather than chosen (e.g. an agency worker)."""

    name = StringField(_l("Name"), validators=[Optional(), Length(max=100, message=TOO_LONG)])
    certificate_no = StringField(
        _l("Operator certificate no."),
        validators=[Optional(), Length(max=64, message=TOO_LONG)],
    )


class ExtraItemForm(Form):
    """An item typed by the technician when the list of the elevator kind is incomplete."""

    text = StringField(_l("Item"), validators=[Optional(), Length(max=300, message=TOO_LONG)])
    result = RadioField(
        _l("Result"),
        choices=result_choices(),
        default="done",
        validate_choice=False,
        validators=[Optional()],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=MAX_NOTE, message=TOO_LONG)])


class ProblemForm(Form):
    """A problem found: it becomes a finding for the property company to rectify."""

    description = TextAreaField(
        _l("Problem found"), validators=[Optional(), Length(max=MAX_TEXT, message=TOO_LONG)]
    )
    severity = SelectField(
        _l("Severity"),
        choices=[SelectChoice(s.value, label) for s, label in SEVERITY_LABELS.items()],
        default="ordinary",
        validate_choice=False,
    )
    photo = FileField(_l("Photo (optional)"))


class VisitForm(RecordForm, SignatureMixin):
    """A maintenance visit; the item fields are added by visit_form_class()."""

    level = SelectField(_l("Maintenance level"), validate_choice=False)
    visit_date = DateField(
        _l("Visit date"), validators=[Optional()], invalid_value_message=NOT_A_DATE
    )
    arrival = TimeField(_l("Arrival"), validators=[Optional()], invalid_value_message=NOT_A_TIME)
    departure = TimeField(
        _l("Departure"), validators=[Optional()], invalid_value_message=NOT_A_TIME
    )
    technicians = SelectMultipleField(
        _l("Technicians of your company present"),
        coerce=int,
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    coworkers = FieldList(FormField(CoworkerForm), min_entries=2)
    extra_items = FieldList(FormField(ExtraItemForm), min_entries=3)
    parts_replaced = TextAreaField(
        _l("Parts replaced (one per line)"),
        validators=[Optional(), Length(max=MAX_TEXT, message=TOO_LONG)],
    )
    problems = FieldList(FormField(ProblemForm), min_entries=2)
    photos = MultipleFileField(_l("Photos of the visit"))
    remarks = TextAreaField(
        _l("Remarks"), validators=[Optional(), Length(max=MAX_TEXT, message=TOO_LONG)]
    )


def visit_form_class(items: Sequence[Item]) -> type[VisitForm]:
    """Return a VisitForm with an answer and a note field for each item."""
    attrs: dict[str, object] = {}
    for item in items:
        attrs[field_name(item.code)] = RadioField(
            item.text, choices=result_choices(), validate_choice=False, validators=[Optional()]
        )
        attrs[note_name(item.code)] = StringField(
            _l("Note"), validators=[Optional(), Length(max=MAX_NOTE, message=TOO_LONG)]
        )
    return type("VisitItemsForm", (VisitForm,), attrs)


class ReviewForm(RecordForm, SignatureMixin):
    """Confirm on site or reject a maintenance record; the buttons carry the decision."""

    decision = StringField(
        validators=[
            InputRequired(message=_l("Choose to confirm or to reject.")),
            AnyOf(("confirmed", "rejected"), message=_l("Choose to confirm or to reject.")),
        ]
    )
    remarks = TextAreaField(
        _l("Remarks (optional)"), validators=[Optional(), Length(max=MAX_TEXT, message=TOO_LONG)]
    )
    reason = TextAreaField(
        _l("Reason for rejection (required to reject)"),
        validators=[Optional(), Length(max=MAX_TEXT, message=TOO_LONG)],
    )
