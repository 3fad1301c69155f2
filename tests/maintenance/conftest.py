"""Helpers of the maintenance tests: a frozen clock, valid form data, visits made by the service."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from elevator_safety.extensions import db
from elevator_safety.maintenance import services
from elevator_safety.maintenance.items import field_name, items_for
from elevator_safety.records.forms import new_token
from elevator_safety.records.models import Finding, Photo, Record, Signature
from elevator_safety.registry.models import Elevator, MaintenanceLevel
from tests.factories import PASSWORD

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Compare messages in English (tests/test_i18n.py covers the Chinese default)."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def now(time_machine) -> datetime:  # type: ignore[no-untyped-def]
    """Freeze the clock at 15:00 today in Shanghai (the sites' zone)."""
    today = datetime.now(SHANGHAI).date()
    moment = datetime.combine(today, time(15, 0), SHANGHAI)
    time_machine.move_to(moment, tick=False)
    return moment


def visit_form(
    elevator: Elevator,
    technician,  # type: ignore[no-untyped-def]
    *,
    level: str = "half_monthly",
    day: date | None = None,
    arrival: str = "09:00",
    departure: str = "10:30",
    token: str | None = None,
    **extra: object,
) -> dict[str, object]:
    """Return the POST data of a valid visit: every item done, two technicians."""
    data: dict[str, object] = {
        "idempotency_key": token or new_token(),
        "level": level,
        "visit_date": (day or datetime.now(SHANGHAI).date()).isoformat(),
        "arrival": arrival,
        "departure": departure,
        "technicians": [str(technician.id)],
        "coworkers-0-name": "李四",
        "coworkers-0-certificate_no": "T-5678",
        "password": PASSWORD,
    }
    for item in items_for(elevator.kind, MaintenanceLevel(level)):
        data[field_name(item.code)] = "done"
    data.update(extra)
    return data


def visit_input(
    elevator: Elevator,
    technician,  # type: ignore[no-untyped-def]
    *,
    level: str = "half_monthly",
    day: date,
    **changes: object,
) -> services.VisitInput:
    """Return a valid service input for a visit on a day (09:00 to 10:30)."""
    visit = services.VisitInput(
        level=level,
        visit_date=day,
        arrival=time(9, 0),
        departure=time(10, 30),
        technician_ids=[technician.id],
        coworkers=[services.Coworker("李四", "T-5678")],
        answers={
            item.code: ("done", None) for item in items_for(elevator.kind, MaintenanceLevel(level))
        },
    )
    for key, value in changes.items():
        setattr(visit, key, value)
    return visit


def make_visit(
    elevator: Elevator,
    technician,  # type: ignore[no-untyped-def]
    *,
    level: str = "half_monthly",
    days_ago: int = 0,
    commit: bool = True,
) -> Record:
    """Record a visit through the service, days_ago days before today (site's zone)."""
    day = datetime.now(SHANGHAI).date() - timedelta(days=days_ago)
    record = services.record_visit(
        elevator,
        technician,
        visit_input(elevator, technician, level=level, day=day),
        PASSWORD,
        idempotency_key=new_token(),
    )
    if commit:
        db.session.commit()
    return record


def confirm(record: Record, user) -> Record:  # type: ignore[no-untyped-def]
    made = services.confirm(record, user, PASSWORD, idempotency_key=new_token())
    db.session.commit()
    return made


def reject(record: Record, user, reason: str = "Pit not cleaned") -> Record:  # type: ignore[no-untyped-def]
    made = services.reject(record, user, PASSWORD, reason, idempotency_key=new_token())
    db.session.commit()
    return made


def counts() -> dict[str, int]:
    """Return the row counts of the tables a visit or a review writes."""
    db.session.expire_all()
    return {
        model.__name__: db.session.scalar(select(func.count(model.id))) or 0
        for model in (Record, Signature, Finding, Photo)
    }


def field_errors(body: str, name: str) -> list[str]:
    """Return the messages shown under a form field."""
    pattern = rf'<div class="error"[^>]*data-field="{re.escape(name)}">(.*?)</div>'
    return [html.unescape(m).strip() for m in re.findall(pattern, body, re.S)]


def checked_value(body: str, name: str) -> str | None:
    """Return the value of the checked radio button of a name, if any."""
    for tag in re.findall(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', body):
        if re.search(r"\bchecked\b", tag):
            match = re.search(r'value="([^"]*)"', tag)
            return match.group(1) if match else None
    return None
