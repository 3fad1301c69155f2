"""Patrol forms: the checklist form (built from the checklist data) and the out-of-service form.

Field names of checklist items are ``<code>__result`` (pass / fail / n.a.),
``<code>__value`` and ``<code>__na`` (readings), ``<code>__note``,
``<code>__photo`` and ``<code>__serious``. Photos are checked here (size by
content, format by content, readable) so that a bad photo re-renders the form
before anything is stored.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, Field, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.form import BaseForm
from wtforms.validators import Length, Optional, StopValidation, ValidationError

from elevator_safety.errors import DomainError
from elevator_safety.patrols import checklists, services
from elevator_safety.patrols.checklists import Item
from elevator_safety.records.forms import RecordForm, SignatureMixin
from elevator_safety.records.photos import check_photo

RESULT_CHOICES = [
    SelectChoice("pass", _l("Pass")),
    SelectChoice("fail", _l("Fail")),
    SelectChoice("na", _l("Not applicable")),
]
MISUSE_ACTION_CHOICES = [
    SelectChoice("dissuaded", _l("Dissuaded")),
    SelectChoice("reported", _l("Reported")),
]
STATUS_SEEN_CHOICES = [
    SelectChoice("stopped", _l("Stopped, not carrying passengers")),
    SelectChoice("under_repair", _l("Being repaired")),
    SelectChoice("in_use", _l("Carrying passengers although out of service")),
]
YES_NO = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]
PHOTO_ATTRS = {"accept": "image/*", "capture": "environment"}
TOO_LONG = _l("At most %(max)d characters.")


class Answered:
    """Require one of the choices of a radio group (WTForms leaves it None when unanswered)."""

    def __init__(self, values: list[str], message: Any) -> None:
        self.values = values
        self.message = message

    def __call__(self, form: BaseForm, field: Field) -> None:
        if field.data not in self.values:
            raise StopValidation(str(self.message))


def photo_check(_form: BaseForm, field: Field) -> None:
    """Refuse a file that is not a readable JPEG, PNG or WebP photo (too large: 413)."""
    if field.data:
        try:
            check_photo(field.data)
        except DomainError as error:
            raise ValidationError(error.message) from error


class ReadingCheck:
    """A reading is a number in the item's plausible range, or the item is not applicable."""

    def __init__(self, item: Item) -> None:
        self.item = item

    def __call__(self, form: BaseForm, field: Field) -> None:
        not_applicable = form[f"{self.item.code}__na"].data
        text = (field.data or "").strip()
        if not_applicable:
            if text:
                raise StopValidation(_("Either enter a reading or mark it not applicable."))
            return
        if not text:
            raise StopValidation(_("Enter the reading, or mark it not applicable."))
        value = services.parse_reading(text)
        if value is None:
            raise StopValidation(_("Enter a number, e.g. 23.5."))
        if self.item.valid_range is not None:
            low, high = self.item.valid_range
            if not low <= value <= high:
                raise StopValidation(
                    _("Enter a value between %(low)s and %(high)s.", low=low, high=high)
                )


def note_field(label: Any, max_length: int = 1000) -> TextAreaField:
    """Return an optional note."""
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=max_length, message=TOO_LONG)],
        render_kw={"rows": 2},
    )


class PatrolForm(RecordForm, SignatureMixin):
    """The part of the patrol form every checklist shares: misuse (D3), a note, the signature."""

    misuse_act = SelectField(
        _l("Prohibited act observed"), choices=[], default="", validate_choice=True
    )
    misuse_action = RadioField(
        _l("What was done"), choices=MISUSE_ACTION_CHOICES, validate_choice=False
    )
    misuse_note = note_field(_l("What happened"))
    note = note_field(_l("Other observations"), 2000)

    def validate_misuse_act(self, field: Field) -> None:
        """Name the act when anything about misuse was entered."""
        if not field.data and (self.misuse_action.data or (self.misuse_note.data or "").strip()):
            raise ValidationError(_("Choose which prohibited act you saw."))

    def validate_misuse_action(self, field: Field) -> None:
        """Say what was done about an observed act."""
        if field.data and field.data not in services.MISUSE_ACTIONS:
            raise ValidationError(_("Choose dissuaded or reported."))
        if self.misuse_act.data and not field.data:
            raise ValidationError(_("Say what was done: dissuaded or reported."))


def patrol_form_class(items: list[Item]) -> type[PatrolForm]:
    """Return a form class with the fields of a checklist's items (one class per item list).

    The class is kept: WTForms orders and binds a class's fields on its first
    form, and a new class for every request redid that for about a hundred
    fields. Its fields hold no state between forms (labels are lazy, the
    validators read only the item and the submitted data).
    """
    return _patrol_form_class(tuple(items))


@lru_cache(maxsize=32)
def _patrol_form_class(items: tuple[Item, ...]) -> type[PatrolForm]:
    attrs: dict[str, Any] = {}
    for item in items:
        if item.is_reading:
            attrs[f"{item.code}__value"] = StringField(
                item.code,
                validators=[ReadingCheck(item)],
                render_kw={"inputmode": "decimal", "autocomplete": "off"},
            )
            attrs[f"{item.code}__na"] = BooleanField(_l("Not applicable"))
        else:
            attrs[f"{item.code}__result"] = RadioField(
                item.code,
                choices=RESULT_CHOICES,
                validate_choice=False,
                validators=[
                    Answered(
                        [choice.value for choice in RESULT_CHOICES],
                        _l("Choose pass, fail or not applicable."),
                    )
                ],
            )
        attrs[f"{item.code}__note"] = note_field(_l("Note"))
        attrs[f"{item.code}__photo"] = FileField(
            _l("Photo"), validators=[photo_check], render_kw=PHOTO_ATTRS
        )
        attrs[f"{item.code}__serious"] = BooleanField(_l("Serious hazard (stop and report)"))
    return type("ChecklistPatrolForm", (PatrolForm,), attrs)


def make_patrol_form(items: list[Item]) -> PatrolForm:
    """Return the patrol form for a checklist's items, with the prohibited acts as choices."""
    form = patrol_form_class(items)()
    form.misuse_act.choices = [
        SelectChoice("", _("— none observed —")),
        *(SelectChoice(a.code, a.label()) for a in checklists.prohibited_acts()),
    ]
    return form


def answers(form: PatrolForm, items: list[Item]) -> dict[str, services.ItemAnswer]:
    """Return the answers of a validated form."""
    result = {}
    for item in items:
        value: Decimal | None = None
        choice = None
        if item.is_reading:
            if not form[f"{item.code}__na"].data:
                value = services.parse_reading(form[f"{item.code}__value"].data)
        else:
            choice = form[f"{item.code}__result"].data
        result[item.code] = services.ItemAnswer(
            result=choice,
            value=value,
            note=form[f"{item.code}__note"].data,
            serious=bool(form[f"{item.code}__serious"].data),
            photo=form[f"{item.code}__photo"].data or None,
        )
    return result


def misuse(form: PatrolForm) -> services.MisuseAnswer | None:
    """Return the misuse entry of a validated form, if any."""
    if not form.misuse_act.data:
        return None
    return services.MisuseAnswer(
        act=form.misuse_act.data, action=form.misuse_action.data, note=form.misuse_note.data
    )


class OutOfServiceForm(RecordForm, SignatureMixin):
    """The patrol of an out-of-service elevator: the state found instead of the checklist."""

    status_seen = RadioField(
        _l("What you found"),
        choices=STATUS_SEEN_CHOICES,
        validate_choice=False,
        validators=[
            Answered([choice.value for choice in STATUS_SEEN_CHOICES], _l("Choose what you found."))
        ],
    )
    notice_posted = RadioField(
        _l("Out-of-service notice posted at the landings"),
        choices=YES_NO,
        validate_choice=False,
        validators=[Answered(["yes", "no"], _l("Answer yes or no."))],
    )
    note = note_field(_l("Note"), 2000)
    photo = FileField(_l("Photo"), validators=[photo_check], render_kw=PHOTO_ATTRS)
