"""Forms of the registry pages: elevators, sites and maintenance contracts.

The forms check types and ranges only; the rules that span fields or need the
database (unique codes, dates in order, overlapping contracts) live in
``registry.services`` so that the CSV import applies them too. Choices that
depend on the user (sites, officers, contractors) are set by the view.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from elevator_safety.registry.models import (
    KIND_LABELS,
    LEVEL_LABELS,
    RESULT_LABELS,
    STATUS_LABELS,
    MaintenanceLevel,
)

REQUIRED = DataRequired(message=_l("This field is required."))
NOT_A_DATE = _l("Enter a date as YYYY-MM-DD.")
NOT_A_NUMBER = _l("Enter a whole number.")
NOT_A_DECIMAL = _l("Enter a number, e.g. 1.75.")
NOT_A_CHOICE = _l("Choose one of the options.")
TOO_LONG = _l("At most %(max)d characters.")
POSITIVE = _l("Must be greater than zero.")


def int_or_none(value: Any) -> int | None:
    """Coerce a select's value to an id; the empty placeholder becomes None."""
    if value in (None, ""):
        return None
    return int(value)


def placeholder() -> SelectChoice:
    """Return the empty first option of a select that has no sensible default."""
    return SelectChoice("", _l("— choose —"))


def enum_choices(labels: dict, *, blank: bool = False) -> list[SelectChoice]:
    """Return select options from an enum's label mapping."""
    # Labels stay lazy: they are translated when the page renders, in the user's language.
    options = [SelectChoice(member.value, label) for member, label in labels.items()]
    return [placeholder(), *options] if blank else options


def text(
    label: Any, max_length: int, *, required: bool = False, default: str | None = None
) -> StringField:
    """Return a text field limited to its column's length."""
    validators = [REQUIRED] if required else [Optional()]
    validators.append(Length(max=max_length, message=TOO_LONG))
    return StringField(label, validators=validators, default=default)


def optional_date(label: Any) -> DateField:
    """Return an optional date field."""
    return DateField(label, validators=[Optional()], invalid_value_message=NOT_A_DATE)


def positive_int(label: Any, maximum: int) -> IntegerField:
    """Return an optional whole number field that must be positive."""
    return IntegerField(
        label,
        validators=[
            Optional(),
            NumberRange(min=1, message=POSITIVE),
            NumberRange(max=maximum, message=_l("At most %(max)s.")),
        ],
        invalid_value_message=NOT_A_NUMBER,
    )


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice rendered as a list of check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ElevatorForm(FlaskForm):
    """Create or edit an elevator's registry data (the fields of services.ELEVATOR_FIELDS)."""

    site_id = SelectField(
        _l("Site"), coerce=int_or_none, validators=[REQUIRED], invalid_choice_message=NOT_A_CHOICE
    )
    equipment_code = text(_l("Equipment code"), 32, required=True)
    registration_no = text(_l("Use registration certificate no."), 64)
    rescue_code = text(_l("Rescue identification code"), 32)
    kind = SelectField(
        _l("Kind"),
        choices=enum_choices(KIND_LABELS),
        validators=[REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    status = SelectField(
        _l("Status"),
        choices=enum_choices(STATUS_LABELS),
        default="in_service",
        invalid_choice_message=NOT_A_CHOICE,
    )
    safety_officer_id = SelectField(
        _l("Responsible safety officer"),
        coerce=int_or_none,
        validators=[REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    manufacturer = text(_l("Manufacturer"), 200)
    model = text(_l("Model"), 100)
    factory_no = text(_l("Factory number"), 64)
    rated_load_kg = positive_int(_l("Rated load (kg)"), 1_000_000)
    rated_speed_ms = DecimalField(
        _l("Rated speed (m/s)"),
        places=2,
        validators=[
            Optional(),
            NumberRange(min=0.01, message=POSITIVE),
            NumberRange(max=999.99, message=_l("At most %(max)s.")),
        ],
        invalid_value_message=NOT_A_DECIMAL,
    )
    floors = positive_int(_l("Floors"), 500)
    stops = positive_int(_l("Stops"), 500)
    building = text(_l("Building"), 50)
    unit = text(_l("Unit"), 50)
    car_no = text(_l("Car number"), 50)
    acceptance_date = optional_date(_l("Acceptance date"))
    last_inspection_date = optional_date(_l("Last periodic inspection"))
    last_inspection_result = SelectField(
        _l("Result of the last inspection"),
        choices=enum_choices(RESULT_LABELS, blank=True),
        invalid_choice_message=NOT_A_CHOICE,
    )
    next_inspection_due = optional_date(_l("Next inspection due"))
    use_sign_valid_until = optional_date(_l("Use sign valid until"))
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000, message=TOO_LONG)])


class SiteForm(FlaskForm):
    """Create or edit a site (小区/项目)."""

    name = text(_l("Name"), 200, required=True)
    address = text(_l("Address"), 300, required=True)
    district_code = text(_l("District code"), 12, required=True)
    district_name = text(_l("District name"), 100, required=True)
    is_city = BooleanField(
        _l(
            "In a city (municipality or prefecture-level city): the contractor must arrive "
            "at an entrapment within 30 minutes; elsewhere within 60 minutes"
        ),
        default=True,
    )
    timezone = text(_l("Time zone"), 64, required=True, default="Asia/Shanghai")


class ContractForm(FlaskForm):
    """Create or edit a maintenance contract of one elevator."""

    contractor_id = SelectField(
        _l("Maintenance contractor"),
        coerce=int_or_none,
        validators=[REQUIRED],
        invalid_choice_message=NOT_A_CHOICE,
    )
    contract_no = text(_l("Contract number"), 64)
    start_date = DateField(_l("First day"), validators=[REQUIRED], invalid_value_message=NOT_A_DATE)
    end_date = DateField(_l("Last day"), validators=[REQUIRED], invalid_value_message=NOT_A_DATE)
    level_plan = MultiCheckboxField(
        _l("Maintenance levels covered"),
        choices=enum_choices(LEVEL_LABELS),
        default=[level.value for level in MaintenanceLevel],
        invalid_choice_message=_l("Unknown maintenance level."),
    )
