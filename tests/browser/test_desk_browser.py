"""The regulator's desk in a browser: find an elevator by its rescue code, download its signed
archive, and run a bulk export of the district whose job page follows the progress to 100 %.

The background export runs in a thread of this process, inside the live server's own app
(captured as the ``live_server`` fixture creates it), so that it writes to the same database,
export folder and signing identity as the pages the browser sees. The captured app gets this
test's own export folder and the session's shared instance folder, so nothing is written into
the repository's ``instance/``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from elevator_safety.auth.models import User
from elevator_safety.desk import services
from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator
from elevator_safety.reports.verifying import PdfCheck, check_pdf
from tests.browser.conftest import log_in, new_page
from tests.factories import PASSWORD, World, make_record
from tests.reports.helpers import pdf_fonts, pdf_text

#: Longest wait for the background export to reach 100 % and the page to show it (ms).
EXPORT_TIMEOUT_MS = 120_000


@dataclass
class Desk:
    """The live server's address, its world and its Flask app."""

    base_url: str
    world: World
    app: Flask


@pytest.fixture
def desk(live_app: Flask, live_server: tuple[str, World]) -> Desk:
    """The live server, with its app reachable for work done beside the browser."""
    base_url, world = live_server
    return Desk(base_url, world, live_app)


def _record_patrol(app: Flask, elevator_id: int, author_id: int) -> None:
    """Append one signed patrol record, so that the archive prints hashes to verify."""
    with app.app_context():
        elevator = db.session.get(Elevator, elevator_id)
        author = db.session.get(User, author_id)
        assert elevator is not None
        assert author is not None
        make_record(elevator, author)
        db.session.commit()


def _watch_console(page: Page) -> list[str]:
    """Collect the page's console errors."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def _download(page: Page, click: Callable[[], None], folder: Path) -> tuple[str, bytes]:
    """Click something that downloads a file; return its suggested name and content."""
    with page.expect_download() as info:
        click()
    download = info.value
    assert download.failure() is None
    path = folder / download.suggested_filename
    download.save_as(path)
    return download.suggested_filename, path.read_bytes()


def _check_pdf(app: Flask, data: bytes) -> PdfCheck:
    """Check a PDF against the live server's app, in a thread of its own.

    pyHanko validates with ``asyncio.run``, which refuses to run in this thread: the
    Playwright sync API keeps an event loop running here.
    """

    def check() -> PdfCheck:
        with app.app_context():
            return check_pdf(data)

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(check).result(timeout=60)


def test_regulator_finds_an_elevator_by_rescue_code_and_downloads_its_archive(
    browser, desk, shots, tmp_path
):
    own = desk.world.own
    elevator, other = own.elevators[1], own.elevators[0]
    assert elevator.rescue_code
    _record_patrol(desk.app, elevator.id, own.officer.id)

    page = new_page(browser, desk.base_url)
    errors = _watch_console(page)
    log_in(page, own.regulator.email, PASSWORD)
    page.locator("nav.nav a[href='/desk/']").click()
    page.wait_for_url("**/desk/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator(f"tr[data-elevator='{other.equipment_code}']")).to_have_count(1)

    search = page.locator("[data-testid=desk-search]")
    search.locator("#rescue").fill(elevator.rescue_code)
    search.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/desk/\?.*rescue=" + elevator.rescue_code))
    rows = page.locator("[data-testid=desk-results] tbody tr")
    expect(rows).to_have_count(1)
    row = page.locator(f"tr[data-elevator='{elevator.equipment_code}']")
    expect(row).to_have_count(1)
    assert elevator.rescue_code in row.inner_text()
    assert "锦江区" in page.locator("body").inner_text()
    page.screenshot(path=str(shots / "01-desk-search.png"), full_page=True)

    name, data = _download(page, row.locator("[data-testid=archive-link]").click, tmp_path)
    assert name.endswith(".pdf")
    assert elevator.equipment_code in name
    assert data.startswith(b"%PDF")
    check = _check_pdf(desk.app, data)
    assert check.signature_ok, check.signature_detail
    assert check.hashes  # the patrol's content hash and the chain head
    assert check.ok, [(c.kind, c.verdict) for c in check.failures]
    text = pdf_text(data)
    assert "电梯管理档案" in text
    assert elevator.equipment_code in text
    fonts = pdf_fonts(data)
    assert fonts
    assert all(embedded == "yes" for _font, embedded in fonts), fonts
    assert not [e for e in errors if "Content Security Policy" in e]
    page.context.close()


def _run_exports_in_background(app: Flask) -> tuple[threading.Thread, list[object]]:
    """Start the scheduler's export run in a thread; return it and its outcome list."""
    outcome: list[object] = []

    def run() -> None:
        with app.app_context():
            try:
                outcome.append(services.run_pending_exports())
            except Exception as error:  # reported by the test, not lost in the thread
                outcome.append(error)

    thread = threading.Thread(target=run, name="desk-export", daemon=True)
    thread.start()
    return thread, outcome


def _manifest_matches(archive: zipfile.ZipFile) -> list[str]:
    """Check manifest.csv (the last entry) against every other entry; return their names."""
    names = archive.namelist()
    assert names[-1] == services.MANIFEST
    lines = list(csv.reader(io.StringIO(archive.read(services.MANIFEST).decode("utf-8"))))
    assert tuple(lines[0]) == services.MANIFEST_HEADER
    listed = {file_name: (sha256, int(size)) for file_name, sha256, size in lines[1:]}
    entries = names[:-1]
    assert sorted(listed) == sorted(entries)
    for entry in entries:
        content = archive.read(entry)
        assert content.startswith(b"%PDF"), entry
        assert listed[entry] == (hashlib.sha256(content).hexdigest(), len(content)), entry
    return entries


def test_regulator_exports_the_district_and_the_page_follows_the_progress(
    browser, desk, shots, tmp_path
):
    own = desk.world.own
    page = new_page(browser, desk.base_url)
    errors = _watch_console(page)
    polls: list[int] = []
    page.on("response", lambda r: polls.append(r.status) if r.url.endswith("/status") else None)
    log_in(page, own.regulator.email, PASSWORD)
    page.goto("/desk/")
    page.locator("a[href='/desk/exports/new']").first.click()
    page.wait_for_url("**/desk/exports/new")
    form = page.locator("[data-testid=export-form]")
    assert form.locator("select[name=target]").input_value() == services.DISTRICT
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/desk/exports/\d+$"))
    job_url = page.url

    bar = page.locator("progress[data-export-bar]")
    expect(bar).to_have_js_property("value", 0)
    expect(page.locator("[data-testid=export-download]")).to_have_count(0)
    page.screenshot(path=str(shots / "01-export-queued.png"), full_page=True)

    thread, outcome = _run_exports_in_background(desk.app)
    expect(bar).to_have_js_property("value", 100, timeout=EXPORT_TIMEOUT_MS)
    link = page.locator("[data-testid=export-download]")
    expect(link).to_be_visible(timeout=EXPORT_TIMEOUT_MS)
    thread.join(timeout=EXPORT_TIMEOUT_MS / 1000)
    assert not thread.is_alive()
    assert outcome == [1]
    assert page.url == job_url  # the page got there by itself
    assert polls
    assert set(polls) == {200}
    page.screenshot(path=str(shots / "02-export-done.png"), full_page=True)

    name, data = _download(page, link.click, tmp_path)
    assert name.endswith(".zip")
    assert (
        hashlib.sha256(data).hexdigest()
        == page.locator("[data-testid=export-sha256]").inner_text().strip()
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = _manifest_matches(archive)
    archives = [entry for entry in entries if entry.startswith("archives/")]
    codes = sorted(entry.split("/")[1].split("_")[0] for entry in archives)
    assert codes == sorted(e.equipment_code for e in own.elevators)
    assert any(entry.startswith(f"summaries/site-{own.site.id}_") for entry in entries)
    assert any(
        entry.startswith(f"summaries/district-{own.regulator_org.district_code}_")
        for entry in entries
    )
    assert not [e for e in errors if "Content Security Policy" in e]
    page.context.close()
