"""Fixtures of the document tests: the installation's signing identity in a folder of the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture(scope="session")
def signing_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder shared by the run, so that the signing key is made only once."""
    return tmp_path_factory.mktemp("reports-instance")


@pytest.fixture(autouse=True)
def _instance(app: Flask, signing_instance: Path) -> None:
    """Keep the signing identity out of the repository's instance folder."""
    app.instance_path = str(signing_instance)
