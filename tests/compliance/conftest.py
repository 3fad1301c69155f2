"""Fixtures of the compliance tests: a world built at a frozen moment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask

from elevator_safety.compliance import engine
from elevator_safety.compliance.base import Context
from elevator_safety.compliance.models import State
from elevator_safety.extensions import db
from tests.factories import World, make_world

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: 2026-05-04 08:00 in Shanghai.
T0 = datetime(2026, 5, 4, 0, 0, tzinfo=UTC)


def local(*args: int) -> datetime:
    """Return a Shanghai wall-clock moment as an aware UTC datetime."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)  # type: ignore[misc]


def violations(code: str, now: datetime) -> dict[tuple[int, str], State]:
    """Return {(elevator_id, period): state} of one rule at a moment (after the engine's filter)."""
    rule = engine.rule_by_code(code)
    assert rule is not None
    rows = db.session.execute(engine.violations_select([rule], Context.current(now)))
    return {(row.elevator_id, row.period): State(row.state) for row in rows}


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Run the compliance tests in English (the interface's default is Chinese)."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def clock(app: Flask) -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cworld(clock: time_machine.Coordinates) -> World:
    """The shared world, created at T0 (contracts from 100 days before to 265 after)."""
    return make_world()
