"""Forms of the legal duties: inspection reports, additions, misuse, plans, drills, certificates.

Forms check types and lengths; the rules (who may record which report, dates,
reviews) live in ``legal.services`` and come back as per-field messages.
Choices that depend on the user or the site are set by the view.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from elevator_safety.legal import services
from elevator_safety.patrols.forms import photo_check
from elevator_safety.records.forms import REQUIRED, RecordForm, SignatureMixin
from elevator_safety.records.models import SEVERITY_LABELS
from elevator_safety.registers.models import CERTIFICATE_KIND_LABELS
from elevator_safety.registry.forms import (
    NOT_A_CHOICE,
    NOT_A_DATE,
    NOT_A_DECIMAL,
    TOO_LONG,
    MultiCheckboxField,
    int_or_none,
    placeholder,
)
from elevator_safety.registry.models import RESULT_LABELS

INPUT_REQUIRED = InputRequired(message=_l("This field is required."))
NOT_A_TIME = _l("Enter a date and time.")
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def text(label: object, max_length: int, *, required: bool = False) -> StringField:
    """Return a text field limited to its column's length."""
    validators = [REQUIRED] if required else [Optional()]
    return StringField(label, validators=[*validators, Length(max=max_length, message=TOO_LONG)])


def long_text(label: object, *, required: bool = False, rows: int = 3) -> TextAreaField:
    """Return a text area of at most 2000 characters."""
    validators = [REQUIRED] if required else [Optional()]
    return TextAreaField(
        label,
        validators=[*validators, Length(max=2000, message=TOO_LONG)],
        render_kw={"rows": rows},
    )


def required_date(label: object) -> DateField:
    """Return a required date (keeps the "not a date" message when one is typed badly)."""
    return DateField(label, validators=[INPUT_REQUIRED], invalid_value_message=NOT_A_DATE)


# --- inspection report --------------------------------------------------------------


class InspectionItemForm(Form):
    """One item to rectify of an inspection report (empty rows are ignored)."""

    description = StringField(_l("Item to rectify"), validators=[Length(max=300, message=TOO_LONG)])
    severity = SelectField(
        _l("Severity"),
        choices=[SelectChoice(s.value, label) for s, label in SEVERITY_LABELS.items()],
        default="ordinary",
        invalid_choice_message=NOT_A_CHOICE,
    )


class InspectionForm(RecordForm, SignatureMixin):
    """A periodic inspection (定期检验) or self-test (自行检测) report."""

    type = RadioField(
        _l("Kind of report"),
        choices=[SelectChoice(k, label) for k, label in services.INSPECTION_TYPE_LABELS.items()],
        validators=[INPUT_REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    inspected_on = required_date(_l("Date of the test"))
    inspection_body = text(_l("Inspection body (检验机构) or tester"), 200, required=True)
    report_no = text(_l("Report number"), 64, required=True)
    result = RadioField(
        _l("Result"),
        choices=[SelectChoice(r.value, label) for r, label in RESULT_LABELS.items()],
        validators=[INPUT_REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    items = FieldList(
        FormField(InspectionItemForm),
        min_entries=services.INSPECTION_ITEM_ROWS,
        max_entries=services.INSPECTION_ITEM_ROWS,
    )
    note = long_text(_l("Note"))


# --- addition and advertising -------------------------------------------------------


class AdditionForm(RecordForm, SignatureMixin):
    """Equipment or advertising added to a car, with its safety review (D10)."""

    what = RadioField(
        _l("What was added"),
        choices=[SelectChoice(k, label) for k, label in services.ADDITION_WHAT_LABELS.items()],
        validators=[INPUT_REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    description = long_text(_l("Description"), required=True, rows=2)
    location = text(_l("Where in the car or at the landing"), 200)
    installed_on = DateField(
        _l("Installed on"), validators=[Optional()], invalid_value_message=NOT_A_DATE
    )
    installer = text(_l("Installed by"), 200)
    weight_kg = DecimalField(
        _l("Weight (kg)"),
        places=None,
        validators=[Optional(), NumberRange(max=100000, message=_l("At most %(max)s."))],
        invalid_value_message=NOT_A_DECIMAL,
    )
    reviewed = BooleanField(_l("A safety review was made"))
    reviewer = text(_l("Reviewed and decided by"), 100)
    approved = BooleanField(_l("The review approved the addition (it does not affect safety)"))
    review_note = long_text(_l("Review note"), rows=2)
    note = long_text(_l("Note"), rows=2)


# --- misuse -------------------------------------------------------------------------


class MisuseForm(RecordForm, SignatureMixin):
    """A passenger's misuse naming one of the ten prohibited acts (D3)."""

    occurred_at = DateTimeLocalField(
        _l("When"),
        validators=[INPUT_REQUIRED],
        format=TIME_FORMATS,
        invalid_value_message=NOT_A_TIME,
    )
    act = SelectField(_l("Prohibited act"), validators=[REQUIRED], validate_choice=False)
    action = RadioField(
        _l("What was done"),
        choices=[SelectChoice(k, label) for k, label in services.MISUSE_ACTION_LABELS.items()],
        validators=[INPUT_REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    note = long_text(_l("What happened"), rows=3)
    photo = FileField(_l("Photo"), validators=[photo_check], render_kw={"accept": "image/*"})


# --- site emergency plan and drills -------------------------------------------------


class PlanForm(RecordForm, SignatureMixin):
    """The site's emergency plan (应急预案) on file."""

    title = text(_l("Title"), 200, required=True)
    version = text(_l("Version"), 32)
    approved_on = required_date(_l("Approved on"))
    approved_by = text(_l("Approved by"), 100, required=True)
    summary = long_text(_l("Summary"))


class DrillForm(RecordForm, SignatureMixin):
    """An emergency drill (应急演练) at a site."""

    drill_on = required_date(_l("Date of the drill"))
    done_as_planned = RadioField(
        _l("Done as planned"),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validators=[INPUT_REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    scenario = long_text(_l("Scenario"), required=True, rows=2)
    participants = long_text(_l("Participants"), required=True, rows=2)
    elevator_ids = MultiCheckboxField(
        _l("Elevators involved"),
        coerce=int,
        invalid_choice_message=_l("Choose elevators of this site that you serve."),
    )
    lessons = long_text(_l("Lessons and follow-up"))


# --- certificates -------------------------------------------------------------------


class CertificateForm(FlaskForm):
    """A certificate of a person of one's own organisation."""

    user_id = SelectField(
        _l("Holder"),
        coerce=int_or_none,
        validators=[REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    kind = SelectField(
        _l("Kind"),
        choices=[placeholder()]
        + [SelectChoice(k.value, label) for k, label in CERTIFICATE_KIND_LABELS.items()],
        validators=[REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    number = text(_l("Certificate number"), 64, required=True)
    issuer = text(_l("Issued by"), 200)
    issued_on = DateField(
        _l("Issued on"), validators=[Optional()], invalid_value_message=NOT_A_DATE
    )
    expires_on = required_date(_l("Expires on"))
