"""Fixtures of the signing and verification tests: a signing identity of the test's own."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from elevator_safety.reports import signing


@pytest.fixture
def app_config(app_config: dict, request: pytest.FixtureRequest) -> dict:
    """Speak English (messages are asserted); a test may add settings through ``param``."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"} | getattr(request, "param", {})


@pytest.fixture(autouse=True)
def instance(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """Give the app an instance folder of the test's own, so each test has its own identity."""
    folder = tmp_path / "instance"
    folder.mkdir()
    app.instance_path = str(folder)
    signing.clear_cache()
    yield folder
    signing.clear_cache()


def make_pdf(*lines: str) -> bytes:
    """Return an unsigned one-page PDF printing the lines in a monospace font."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setFont("Courier", 7)
    for number, line in enumerate(lines):
        page.drawString(40, 800 - 12 * number, line)
    page.showPage()
    page.save()
    return out.getvalue()


def content_line(content_hash: str) -> str:
    return f"Content hash: {content_hash}"


def head_line(chain_hash: str) -> str:
    return f"Chain head: {chain_hash}"
