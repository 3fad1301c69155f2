"""Error pages (no stack traces) and domain exceptions."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from elevator_safety.extensions import db


class DomainError(Exception):
    """A rule of the domain refused an operation; the message is for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(Exception, _server_error)


def _wants_json() -> bool:
    return (
        request.path.startswith("/healthz") or request.accept_mimetypes.best == "application/json"
    )


def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
    db.session.rollback()
    code = error.code or 500
    if _wants_json():
        return jsonify(error=error.name), code
    template = f"errors/{code}.html" if code in (400, 403, 404, 413, 429) else "errors/generic.html"
    return render_template(template, error=error, code=code), code


def _csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
    db.session.rollback()
    return render_template("errors/400.html", error=error, code=400, csrf=True), 400


def _server_error(error: Exception):  # type: ignore[no-untyped-def]
    if isinstance(error, HTTPException):
        return _http_error(error)
    db.session.rollback()
    from flask import current_app

    if current_app.testing and current_app.config.get("PROPAGATE_EXCEPTIONS", True):
        raise error
    current_app.logger.exception("Unhandled error on %s", request.path)
    return render_template("errors/500.html", code=500), 500
