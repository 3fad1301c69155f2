"""Fixtures of the rule-values tests: messages in English, so that tests read them."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Run the rule-values tests in English (the interface's default is Chinese)."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"}
