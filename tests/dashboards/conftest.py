"""Fixtures of the dashboard tests: messages in English, and a helper to write alert rows."""

from __future__ import annotations

from datetime import datetime

import pytest

from elevator_safety.compliance.models import Alert, State
from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Run the dashboard tests in English (the interface's default is Chinese)."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"}


def add_alert(
    elevator: Elevator,
    state: State,
    *,
    duty: str = "D3",
    rule: str | None = None,
    period: str = "-",
    raised_at: datetime | None = None,
    resolved_at: datetime | None = None,
) -> Alert:
    """Write one alert row directly (the engine's rules are tested in tests/compliance)."""
    kwargs = {} if raised_at is None else {"raised_at": raised_at, "last_seen_at": raised_at}
    alert = Alert(
        elevator_id=elevator.id,
        rule=rule or f"{duty}.test",
        duty=duty,
        period=period,
        state=state,
        detail={},
        resolved_at=resolved_at,
        **kwargs,
    )
    db.session.add(alert)
    db.session.flush()
    return alert
