"""Forms of the regulator's desk: the elevator search (GET) and the bulk export request.

The forms check types only. Which district or site the user may export and
the period's rules (in order, not in the future, at most one year) live in
``desk.services`` and come back as a message on the field they concern.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from elevator_safety.compliance.models import STATE_LABELS
from elevator_safety.desk.search import SEARCH_STATES

REQUIRED = DataRequired(message=_l("This field is required."))
#: For dates: keeps the "not a date" message instead of replacing it with "required".
INPUT_REQUIRED = InputRequired(message=_l("This field is required."))
NOT_A_DATE = _l("Enter a date as YYYY-MM-DD.")
TOO_LONG = _l("At most %(max)d characters.")


def _text(label: Any, description: Any) -> SearchField:
    return SearchField(
        label,
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
        description=description,
    )


class SearchForm(FlaskForm):
    """The desk's search: every criterion optional, read from the query string."""

    class Meta:
        csrf = False  # a GET search changes nothing

    code = _text(_l("Elevator code"), _l("Equipment code or use registration certificate number."))
    rescue = _text(_l("Rescue code"), _l("The rescue identification code shown in the car."))
    site = _text(_l("Site"), _l("Part of the site's name."))
    company = _text(_l("Property company"), _l("Part of the company's name."))
    contractor = _text(_l("Contractor"), _l("Part of the name of the contractor in force."))
    state = SelectField(
        _l("Compliance"),
        choices=[SelectChoice("", _l("Any"))]
        + [SelectChoice(s.value, STATE_LABELS[s]) for s in SEARCH_STATES],
        validators=[Optional()],
        validate_choice=False,  # an unknown state is ignored by the search
    )


class ExportForm(FlaskForm):
    """Ask for a bulk export: the district or one site, and a period (the view sets choices)."""

    target = SelectField(
        _l("What to export"),
        validators=[REQUIRED],
        validate_choice=False,  # desk.services.resolve_target decides, with its own message
    )
    period_from = DateField(
        _l("From"),
        validators=[INPUT_REQUIRED],
        invalid_value_message=NOT_A_DATE,
    )
    period_to = DateField(
        _l("To"),
        validators=[INPUT_REQUIRED],
        invalid_value_message=NOT_A_DATE,
        description=_l("At most one year, ending today at the latest."),
    )
