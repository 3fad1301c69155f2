"""Browser tests: Playwright driving Debian's Chromium against a live server.

The server runs in a thread on 127.0.0.1 with its own migrated SQLite file and
the demo-like world from tests.factories. Without /usr/bin/chromium the tests
are skipped, unless REQUIRE_BROWSER=1 (CI), where a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from elevator_safety import create_app
from elevator_safety.extensions import db
from tests.factories import World, make_world

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder as a browser test."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); REQUIRE_BROWSER=1 fails")


@pytest.fixture
def live_app(template_database: dict, tmp_path: Path, shared_instance: Path) -> Iterator[Flask]:
    """The live server's app: a fresh SQLite copy, this test's own upload and export folders."""
    if template_database["kind"] != "sqlite":
        pytest.skip("browser tests run on the SQLite pass")
    path = tmp_path / "live.sqlite"
    shutil.copyfile(template_database["path"], path)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "browser-test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "RATELIMIT_ENABLED": False,
            "PROPAGATE_EXCEPTIONS": False,
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "EXPORT_DIR": str(tmp_path / "exports"),
        }
    )
    # Never write into the repository's instance/ (the PDF signing identity lives there).
    app.instance_path = str(shared_instance)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(live_app: Flask) -> Iterator[tuple[str, World]]:
    """Serve the app on a free local port with a fresh database and world."""
    with live_app.app_context():
        world = make_world()
        for obj in list(db.session.identity_map.values()):
            db.session.refresh(obj)  # load the columns before the objects leave the session
        db.session.expunge_all()
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", world
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser(chromium_path: str):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    """Folder for this test's screenshots: test-results/<test name>/."""
    folder = Path(request.config.rootpath) / "test-results" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_page(browser, base_url: str, *, phone: bool = False):  # type: ignore[no-untyped-def]
    """Open a page in a fresh context (desktop, or a phone-sized viewport)."""
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def log_in(page, login: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Log in through the form."""
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: not url.endswith("/login"))
