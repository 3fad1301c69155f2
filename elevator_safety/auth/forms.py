"""Forms of the login, password and invitation pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

PASSWORD_RULE = Length(min=8, max=200, message=_l("At least 8 characters."))
REQUIRED = DataRequired(message=_l("This field is required."))


class LoginForm(FlaskForm):
    """Log in with e-mail or phone and password."""

    login = StringField(_l("E-mail or phone"), validators=[REQUIRED, Length(max=254)])
    password = PasswordField(_l("Password"), validators=[REQUIRED])


class PasswordChangeForm(FlaskForm):
    """Change one's own password."""

    current_password = PasswordField(_l("Current password"), validators=[REQUIRED])
    new_password = PasswordField(_l("New password"), validators=[REQUIRED, PASSWORD_RULE])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[REQUIRED, EqualTo("new_password", message=_l("The passwords differ."))],
    )


class AcceptInvitationForm(FlaskForm):
    """Choose a password when accepting an invitation."""

    new_password = PasswordField(_l("New password"), validators=[REQUIRED, PASSWORD_RULE])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[REQUIRED, EqualTo("new_password", message=_l("The passwords differ."))],
    )
