"""Fixtures of the patrol tests."""

from __future__ import annotations

import pytest

from elevator_safety.extensions import db
from tests.conftest import log_in


@pytest.fixture
def officer(client, world):  # type: ignore[no-untyped-def]
    """Log in as the own side's safety officer, reading English (messages are asserted)."""
    user = world.own.officer
    user.locale = "en"
    db.session.commit()
    log_in(client, user)
    return user
