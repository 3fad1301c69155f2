"""Interface language: Chinese by default, English on request, remembered per user."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user

from elevator_safety import audit
from elevator_safety.extensions import db

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """Return the user's language, else the session's choice, else the default."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and jobs speak the default language
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in languages:
        return str(chosen)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def select_timezone() -> str:
    """Return the display time zone."""
    return current_app.config["TIMEZONE"]


@bp.post("/language")
def set_language():  # type: ignore[no-untyped-def]
    """Switch the interface language and remember it for the user."""
    locale = request.form.get("locale", "")
    if locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated and current_user.locale != locale:
            audit.record(
                "update",
                current_user,
                changes={"locale": [current_user.locale, locale]},
                label=current_user.login,
            )
            current_user.locale = locale
            db.session.commit()
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.index")
    return redirect(target)
