"""Forms of the handover pages: start, inspection checklist, signing steps, cancellation.

The forms check types only; the rules (same outgoing contractor, dates, order of
the steps) live in ``handovers.services``. Choices depending on the user are set
by the view.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from elevator_safety.handovers.services import CHECKLIST
from elevator_safety.records.forms import RecordForm, SignatureMixin
from elevator_safety.registry.forms import (
    NOT_A_CHOICE,
    NOT_A_DATE,
    TOO_LONG,
    MultiCheckboxField,
    enum_choices,
    int_or_none,
)
from elevator_safety.registry.models import LEVEL_LABELS, MaintenanceLevel

REQUIRED = DataRequired(message=_l("This field is required."))
#: For dates: keeps the "not a date" message instead of replacing it with "required".
INPUT_REQUIRED = InputRequired(message=_l("This field is required."))


class StartForm(FlaskForm):
    """Start a handover: elevators, incoming contractor, date, the new contract."""

    elevator_ids = MultiCheckboxField(
        _l("Elevators"),
        coerce=int,
        validators=[DataRequired(message=_l("Choose at least one elevator."))],
        invalid_choice_message=_l("Choose elevators of your own company."),
    )
    incoming_contractor_id = SelectField(
        _l("Incoming contractor"),
        coerce=int_or_none,
        validators=[REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    handover_date = DateField(
        _l("Handover date"), validators=[INPUT_REQUIRED], invalid_value_message=NOT_A_DATE
    )
    new_contract_end = DateField(
        _l("Last day of the new contract"),
        validators=[INPUT_REQUIRED],
        invalid_value_message=NOT_A_DATE,
    )
    level_plan = MultiCheckboxField(
        _l("Maintenance levels of the new contract"),
        choices=enum_choices(LEVEL_LABELS),
        default=[level.value for level in MaintenanceLevel],
        invalid_choice_message=_l("Unknown maintenance level."),
    )


ANSWER_CHOICES = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]


class ChecklistForm(FlaskForm):
    """The handover inspection: for each item of CHECKLIST, yes/no and a note.

    Fields are ``<code>_answer`` and ``<code>_note``, added below from the data.
    """


for _item in CHECKLIST:
    setattr(
        ChecklistForm,
        f"{_item.code}_answer",
        RadioField(
            _item.label_en,
            choices=ANSWER_CHOICES,
            validators=[Optional()],
            invalid_choice_message=NOT_A_CHOICE,
        ),
    )
    setattr(
        ChecklistForm,
        f"{_item.code}_note",
        StringField(_l("Note"), validators=[Optional(), Length(max=1000, message=TOO_LONG)]),
    )
del _item


class SignForm(RecordForm, SignatureMixin):
    """Sign a step of the handover: the signer's password again."""


class CancelForm(FlaskForm):
    """Cancel a handover before confirmation, saying why."""

    reason = TextAreaField(
        _l("Reason for the cancellation"),
        validators=[REQUIRED, Length(max=2000, message=TOO_LONG)],
    )
