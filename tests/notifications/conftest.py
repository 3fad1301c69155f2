"""Fixtures of the rectification tests: English messages (the checks read them)."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture(autouse=True)
def english(app: Flask) -> None:
    """Speak English in pages and in service messages (no request: the default locale)."""
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
