"""The form of a site's own rule values (compliance/overrides.py): one optional number per setting.

A blank field means "use the installation's value". The allowed range of a
field depends on the installation's configuration (a site may only be
stricter), so it is checked when the form is validated, with validators built
from ``overrides.bounds()`` for the running app's configuration. The reason
(the local rule) is a single text for the values that the submission sets or
changes; whether it is needed depends on the stored values, so the view checks
it. Configuration is not evidence: no signing password is asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from elevator_safety.compliance.overrides import SETTINGS, Setting, bounds, default_of

NOT_A_NUMBER = _l("Enter a whole number.")
REASON_MAX = 2000


def allowed_range(setting: Setting, config: Mapping[str, Any]) -> str:
    """Return the allowed range of a setting for people, e.g. "1 to 30 days"."""
    low, high = bounds(setting, config)
    return _("%(low)d to %(high)d %(unit)s", low=low, high=high, unit=setting.unit)


class WithinBounds:
    """Refuse a value outside the range a site may set (only stricter than the installation)."""

    def __init__(self, setting: Setting, config: Mapping[str, Any]) -> None:
        self.setting = setting
        self.config = config

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data is None:
            return
        low, high = bounds(self.setting, self.config)
        if not low <= field.data <= high:
            raise ValidationError(
                _(
                    "Allowed: %(range)s. A site may only be stricter than the installation's"
                    " value (%(default)d %(unit)s).",
                    range=allowed_range(self.setting, self.config),
                    default=default_of(self.setting.key, self.config),
                    unit=self.setting.unit,
                )
            )


class RuleValuesForm(FlaskForm):
    """One optional whole number per overridable setting (named by its key), and the reason."""

    reason = TextAreaField(
        _l("Local rule"),
        validators=[Optional(), Length(max=REASON_MAX, message=_l("At most %(max)d characters."))],
        description=_l(
            "The local rule that requires the values you set or change, e.g. a city"
            " regulation and its article. It is kept with each of them."
        ),
        render_kw={"rows": 2},
    )


def _add_setting_fields() -> None:
    """Give the form one optional whole-number field per setting, named by its key."""
    for setting in SETTINGS:
        field = IntegerField(
            setting.label, validators=[Optional()], invalid_value_message=NOT_A_NUMBER
        )
        setattr(RuleValuesForm, setting.key, field)


_add_setting_fields()


def range_validators(config: Mapping[str, Any]) -> dict[str, list[WithinBounds]]:
    """Return the bounds checks of every setting field, for ``form.validate_on_submit()``."""
    return {setting.key: [WithinBounds(setting, config)] for setting in SETTINGS}


def setting_field(form: RuleValuesForm, setting: Setting) -> Field:
    """Return the form's field of a setting."""
    return form[setting.key]


def submitted_values(form: RuleValuesForm) -> dict[str, int | None]:
    """Return {key: value or None (blank: the installation's value)} of a validated form."""
    return {setting.key: setting_field(form, setting).data for setting in SETTINGS}


def submitted_reason(form: RuleValuesForm) -> str:
    """Return the reason typed, without surrounding white space."""
    return (form.reason.data or "").strip()
