"""Fixtures and helpers of the public report tests."""

from __future__ import annotations

from typing import Any

import pytest
from flask import current_app
from sqlalchemy import func, select

from elevator_safety.extensions import db
from elevator_safety.public import services
from elevator_safety.public.models import PublicReport, ReportCategory
from elevator_safety.registry.models import Elevator
from tests.conftest import log_in


def page_url(elevator: Elevator) -> str:
    return f"/r/{elevator.equipment_code}"


def submit(client, elevator: Elevator, address: str | None = None, **changes: Any):  # type: ignore[no-untyped-def]
    """Post the public form as a passenger (no login); None in changes removes a field."""
    data: dict[str, Any] = {"category": "not_working", "phone": "", "note": "", "website": ""}
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    environ = {"REMOTE_ADDR": address} if address else {}
    return client.post(page_url(elevator), data=data, environ_base=environ)


def report_count() -> int:
    return db.session.scalar(select(func.count(PublicReport.id))) or 0


def make_report(
    elevator: Elevator,
    category: ReportCategory = ReportCategory.not_working,
    note: str | None = "The car stops between floors.",
    phone: str | None = None,
) -> PublicReport:
    """Store a report as the public page does (in a request context of its own)."""
    with current_app.test_request_context("/"):
        report = services.submit_report(
            elevator, category=category, phone=phone, note=note, client_address="10.0.0.1"
        )
        db.session.commit()
    return report


def english(user) -> None:  # type: ignore[no-untyped-def]
    user.locale = "en"
    db.session.commit()


@pytest.fixture
def app_config(app_config: dict, request: pytest.FixtureRequest) -> dict:
    """Speak English (messages are asserted); a test may add settings through ``param``."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"} | getattr(request, "param", {})


@pytest.fixture
def officer(client, world):  # type: ignore[no-untyped-def]
    """Log in as the own side's safety officer, reading English."""
    user = world.own.officer
    english(user)
    log_in(client, user)
    return user


@pytest.fixture
def ctx(app):  # type: ignore[no-untyped-def]
    """A request context for calling services directly (url_for, config)."""
    with app.test_request_context("/"):
        yield


@pytest.fixture
def passenger(client):  # type: ignore[no-untyped-def]
    """An anonymous client reading English (the language switch stores it in the session)."""
    with client.session_transaction() as session:
        session["locale"] = "en"
    return client
