"""Fixtures and helpers of the legal tests: English pages, form posts."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from elevator_safety.records.forms import new_token
from tests.factories import PASSWORD


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Speak English here, so that the assertions hold whatever the catalogue says."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"}


def inspection_form(**overrides: Any) -> dict[str, Any]:
    """Return a complete inspection form (passed periodic inspection, no items)."""
    data: dict[str, Any] = {
        "idempotency_key": new_token(),
        "type": "inspection",
        "inspected_on": "2025-05-20",
        "inspection_body": "Sichuan Special Equipment Inspection Institute",
        "report_no": "DJ-2025-0001",
        "result": "passed",
        "note": "",
        "password": PASSWORD,
    }
    for i in range(5):
        data[f"items-{i}-description"] = ""
        data[f"items-{i}-severity"] = "ordinary"
    data.update(overrides)
    return data


def addition_form(**overrides: Any) -> dict[str, Any]:
    """Return a complete addition form (approved advertising frame)."""
    data: dict[str, Any] = {
        "idempotency_key": new_token(),
        "what": "advertising",
        "description": "Poster frame on the car's rear wall",
        "location": "rear wall",
        "installed_on": "2025-03-01",
        "installer": "Ad Co.",
        "weight_kg": "2.5",
        "reviewed": "y",
        "reviewer": "Director Wang",
        "approved": "y",
        "review_note": "Fixed with rivets, no sharp edges",
        "note": "",
        "password": PASSWORD,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def misuse_form(**overrides: Any) -> dict[str, Any]:
    """Return a complete misuse form (an e-bike, dissuaded)."""
    data: dict[str, Any] = {
        "idempotency_key": new_token(),
        "occurred_at": "2025-05-20T08:30",
        "act": "e_bike",
        "action": "dissuaded",
        "note": "A resident tried to bring an e-bike in",
        "password": PASSWORD,
    }
    data.update(overrides)
    return data


def post(client: FlaskClient, url: str, data: dict[str, Any]):  # type: ignore[no-untyped-def]
    return client.post(url, data=data, content_type="multipart/form-data")
