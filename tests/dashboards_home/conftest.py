"""Fixtures of the home-panel tests: English messages, a frozen clock, the template globals."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from elevator_safety.dashboards import home

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Compare messages in English (tests/test_i18n.py covers the Chinese default)."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture(autouse=True)
def panels(app: Flask) -> None:
    """Register the two template globals (create_app calls home.init_app once wired)."""
    if "officer_dashboard" not in app.jinja_env.globals:
        home.init_app(app)


@pytest.fixture
def now(time_machine) -> datetime:  # type: ignore[no-untyped-def]
    """Freeze the clock at 15:00 today in Shanghai (the sites' zone)."""
    today = datetime.now(SHANGHAI).date()
    moment = datetime.combine(today, time(15, 0), SHANGHAI)
    time_machine.move_to(moment, tick=False)
    return moment
