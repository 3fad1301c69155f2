"""What every form page does the same way: the status of a refused form, and where an error goes.

A form page answers 200 when shown and 422 when a posted form was refused (its
values kept, a message per field). A service's refusal (``DomainError``) goes
on the field it names, else on a fallback field (the signing password), else
into a flash message above the form.
"""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request

from elevator_safety.errors import DomainError


def form_status() -> int:
    """Return 200 for a page shown, 422 for a posted form that was refused."""
    return 422 if request.method == "POST" else 200


def render_form(template: str, **context: Any) -> tuple[str, int]:
    """Render a form page with ``form_status()``."""
    return render_template(template, **context), form_status()


def field_error(
    form: Any, error: DomainError, fallback: str | None = None, *, flash_rest: bool = True
) -> bool:
    """Put a refusal on its field (or the fallback field); return whether a field took it.

    Otherwise the message is flashed, unless ``flash_rest`` is false (the caller
    shows it in its own place).
    """
    name = error.field if error.field and error.field in form else fallback
    if name and name in form:
        form[name].errors = [*form[name].errors, error.message]
        return True
    if flash_rest:
        flash(error.message, "error")
    return False
