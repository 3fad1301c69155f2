"""Login, logout, password change and invitation acceptance."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from elevator_safety.auth import services
from elevator_safety.auth.forms import AcceptInvitationForm, LoginForm, PasswordChangeForm
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db, limiter

bp = Blueprint("auth", __name__)


def _account_key() -> str:
    return "account:" + services.normalise_login(request.form.get("login", ""))


def _failed(response) -> bool:  # type: ignore[no-untyped-def]
    """Count only failed attempts (a successful login redirects)."""
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login():  # type: ignore[no-untyped-def]
    """Log in with e-mail or phone and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.login.data or "", form.password.data or "")
        db.session.commit()
        if user is not None:
            session.permanent = True  # lasts PERMANENT_SESSION_LIFETIME (a working shift)
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Wrong e-mail/phone or password."))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    """Log out."""
    logout_user()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():  # type: ignore[no-untyped-def]
    """Change one's own password; other sessions end."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data or "", form.new_password.data or ""
            )
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "current_password").errors.append(error.message)
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # keep this session, new version
            flash(_("Your password has been changed. Other sessions have ended."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):  # type: ignore[no-untyped-def]
    """Let an invited user choose a password."""
    invitation = services.find_invitation(token)
    if invitation is None:
        abort(404)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(invitation, form.new_password.data or "")
        except DomainError as error:
            db.session.rollback()
            form.new_password.errors.append(error.message)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            login_user(user)
            flash(_("Welcome! Your password is set."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/accept_invitation.html", form=form, invited=invitation.user)
