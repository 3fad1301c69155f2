"""Fixtures of the desk tests: messages in English and an export folder of the test's own."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def app_config(app_config: dict, tmp_path: Path) -> dict:
    """Run the desk tests in English with exports written under the test's folder."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en", "EXPORT_DIR": str(tmp_path / "exports")}
