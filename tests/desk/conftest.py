"""Fixtures of the desk tests: English messages, an export folder of their own, a district."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from elevator_safety.extensions import db
from tests.factories import make_record, make_site


@pytest.fixture
def app_config(app_config: dict, tmp_path: Path) -> dict:
    """Run the desk tests in English with exports written under the test's folder."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en", "EXPORT_DIR": str(tmp_path / "exports")}


@pytest.fixture
def small_district(world):  # type: ignore[no-untyped-def]
    """The own district with records in October 2026 and a second, empty site."""
    own = world.own
    for elevator in own.elevators:
        make_record(elevator, own.officer, occurred_at=datetime(2026, 10, 10, 2, 0, tzinfo=UTC))
    make_site(own.org, name="Empty Court", district_code="510104")
    db.session.commit()
    return own
