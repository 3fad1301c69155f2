"""Security headers, login-manager wiring and the role_required decorator."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, abort, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload
from werkzeug.middleware.proxy_fix import ProxyFix

from elevator_safety.auth.models import Role, User
from elevator_safety.extensions import db, login_manager

F = TypeVar("F", bound=Callable[..., Any])

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    """Install the headers, the proxy fix and the user loader."""
    if app.config.get("PROXY_FIX"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    app.after_request(_security_headers)


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """Load the user of a session; a stale session version ends the session."""
    try:
        user_id, version = (int(part) for part in identity.split(":", 1))
    except ValueError:
        return None
    # Its organisation in the same query: nearly every page shows or checks it.
    user = db.session.get(User, user_id, options=[joinedload(User.organisation)])
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Permissions-Policy"] = "geolocation=(), microphone=()"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


def role_required(*roles: Role) -> Callable[[F], F]:
    """Require login and one of the roles; others get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def require(allowed: bool) -> None:
    """Answer 403 unless a permission predicate allowed the action."""
    if not allowed:
        abort(403)
