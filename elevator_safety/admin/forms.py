"""Forms of the organisation administration: invite and edit users, list filters.

The forms check types and lengths only. Which roles an organisation may hold,
unique e-mail and phone, "e-mail or phone" and "not one's own role" are rules of
``auth.services``; the view shows a refused rule on the field it names. Choices
that depend on the organisation (roles, users, actions) are set by the view.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SearchField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from elevator_safety.auth.models import ROLE_LABELS, ROLES_BY_KIND, OrgKind, Role

REQUIRED = DataRequired(message=_l("This field is required."))
TOO_LONG = _l("At most %(max)d characters.")
NOT_A_DATE = _l("Enter a date as YYYY-MM-DD.")


def role_or_none(value: Any) -> Role | None:
    """Coerce a select's value to a role; the empty placeholder becomes None."""
    if value in (None, ""):
        return None
    return Role(value)


def role_choices(kind: OrgKind, *, blank: Any = None) -> list[SelectChoice]:
    """Return the roles an organisation of this kind may hold, as select options.

    ``blank`` is the label of an empty first option (none without it).
    """
    # Labels stay lazy: they are translated when the page renders.
    options = [SelectChoice(role.value, ROLE_LABELS[role]) for role in ROLES_BY_KIND[kind]]
    return [SelectChoice("", blank), *options] if blank is not None else options


def _role_field() -> SelectField:
    # validate_choice is off on purpose: auth.services.check_role_for_org decides,
    # so a forged role gets the same message as everywhere else.
    return SelectField(
        _l("Role"), coerce=role_or_none, validate_choice=False, validators=[REQUIRED]
    )


def _name_field() -> StringField:
    return StringField(_l("Name"), validators=[REQUIRED, Length(max=100, message=TOO_LONG)])


def _certificate_field() -> StringField:
    return StringField(
        _l("Certificate no."),
        validators=[Optional(), Length(max=64, message=TOO_LONG)],
        description=_l("Operator certificate (作业人员证书) of officers and technicians."),
    )


class InviteUserForm(FlaskForm):
    """Invite a person to the organisation: they choose a password through a link."""

    name = _name_field()
    email = EmailField(
        _l("E-mail"),
        validators=[
            Optional(),
            Length(max=254, message=TOO_LONG),
            Email(message=_l("Enter a valid e-mail address.")),
        ],
    )
    phone = TelField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=32, message=TOO_LONG),
            Regexp(r"^\+?[0-9][0-9 \-]{4,30}$", message=_l("Enter digits only, e.g. 13800000000.")),
        ],
    )
    role = _role_field()
    certificate_no = _certificate_field()


class EditUserForm(FlaskForm):
    """Change a user's name, role and certificate number."""

    name = _name_field()
    role = _role_field()
    certificate_no = _certificate_field()


class UserFilterForm(FlaskForm):
    """Filters of the user list (query arguments)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), validators=[Optional()])
    state = SelectField(
        _l("State"),
        choices=[
            SelectChoice("", _l("All")),
            SelectChoice("active", _l("Active")),
            SelectChoice("inactive", _l("Inactive")),
        ],
        validators=[Optional()],
    )


class AuditFilterForm(FlaskForm):
    """Filters of the audit log (query arguments); dates are in the installation's zone."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), validators=[Optional()])
    user = SelectField(_l("User"), validators=[Optional()])
    object_type = SelectField(_l("Object type"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()], invalid_value_message=NOT_A_DATE)
    date_to = DateField(_l("To"), validators=[Optional()], invalid_value_message=NOT_A_DATE)
