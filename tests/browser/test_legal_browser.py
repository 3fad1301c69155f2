"""A safety officer records a failed periodic inspection on a phone and sees the hard stop."""

from __future__ import annotations

from tests.browser.conftest import log_in, new_page
from tests.factories import PASSWORD


def test_officer_records_a_failed_inspection(browser, live_server, shots):
    base_url, world = live_server
    officer = world.own.officer
    elevator = world.own.elevators[0]

    page = new_page(browser, base_url, phone=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, officer.email, PASSWORD)
    page.goto(f"/elevators/{elevator.id}")
    panel = page.locator("[data-testid=legal-panel]")
    panel.locator("[data-testid=record-inspection]").click()
    page.wait_for_url(f"**/elevators/{elevator.id}/inspections/new")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator("label[data-choice=inspection]").click()
    page.fill("input[name=inspected_on]", "2025-05-20")
    page.fill("input[name=inspection_body]", "Special Equipment Inspection Institute")
    page.fill("input[name=report_no]", "DJ-2025-0042")
    page.locator("label[data-choice=failed]").click()
    page.fill("input[name=items-0-description]", "Brake wear beyond limit")
    page.select_option("select[name=items-0-severity]", "serious")
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=str(shots / "01-form.png"), full_page=True)
    page.locator("[data-testid=submit-inspection]").click()
    page.wait_for_url("**/records/*")

    banner = page.locator("[data-testid=inspection-failed]")
    assert banner.is_visible()
    assert "cause=inspection" in (banner.locator("a").get_attribute("href") or "")
    assert "DJ-2025-0042" in page.locator("[data-testid=inspection-record]").inner_text()
    page.screenshot(path=str(shots / "02-record.png"), full_page=True)

    page.goto(f"/elevators/{elevator.id}")
    stop = page.locator("[data-testid=inspection-stop]")
    assert stop.is_visible()
    assert (
        page.locator("[data-testid=inspection-status] [data-due]").get_attribute("data-due")
        == "2026-06-01"
    )
    assert not [e for e in errors if "Content Security Policy" in e]
