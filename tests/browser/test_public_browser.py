"""A passenger reports a fault from the QR label on a phone; the officer turns it into a lockout."""

from __future__ import annotations

import re

from tests.browser.conftest import log_in, new_page
from tests.factories import PASSWORD


def test_passenger_reports_and_officer_opens_a_lockout(browser, live_server, shots):
    base_url, world = live_server
    elevator = world.own.elevators[0]
    officer = world.own.officer

    # The passenger: no login, a phone.
    phone = new_page(browser, base_url, phone=True)
    phone.goto(f"/r/{elevator.equipment_code}")
    hotline = phone.locator("[data-testid=hotline]")
    assert hotline.is_visible()
    assert hotline.get_attribute("href") == "tel:96333"
    assert phone.locator("[data-testid=rescue-code]").inner_text().strip() == elevator.rescue_code
    assert phone.locator("header nav a").count() == 0  # no navigation for passengers
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # The emergency box comes before the form.
    emergency = phone.locator("[data-testid=emergency]").bounding_box()
    form = phone.locator("[data-testid=public-report-form]").bounding_box()
    assert emergency is not None
    assert form is not None
    assert emergency["y"] < form["y"]
    # The honeypot is out of sight.
    trap = phone.locator("input[name=website]").bounding_box()
    assert trap is not None
    assert trap["x"] + trap["width"] <= 0
    phone.screenshot(path=str(shots / "01-public-page.png"), full_page=True)

    choice = phone.locator("label.pr-category-not_working")
    box = choice.bounding_box()
    assert box is not None
    assert box["height"] >= 44
    choice.click()
    assert phone.locator("input[name=category][value=not_working]").is_checked()
    phone.fill("textarea[name=note]", "The car does not come; the display is dark.")
    phone.fill("input[name=phone]", "138 0000 0000")
    phone.locator("button[type=submit].pr-submit").click()
    phone.wait_for_url(f"**/r/{elevator.equipment_code}/thanks")
    assert phone.locator("[data-testid=thanks]").is_visible()
    assert phone.locator("[data-testid=hotline]").get_attribute("href") == "tel:96333"
    phone.screenshot(path=str(shots / "02-thanks.png"), full_page=True)
    phone.context.close()

    # The safety officer: the pending report, then a lockout.
    page = new_page(browser, base_url)
    log_in(page, officer.email, PASSWORD)
    page.goto("/reports")
    row = page.locator("[data-testid=report-table] tr[data-report]").first
    assert row.locator("[data-status]").get_attribute("data-status") == "pending"
    assert "The car does not come" in row.inner_text()
    page.screenshot(path=str(shots / "03-reports.png"), full_page=True)
    row.locator("a").first.click()
    page.wait_for_url(re.compile(r".*/reports/\d+$"))
    assert "The car does not come" in page.locator("[data-testid=report-note]").inner_text()
    page.screenshot(path=str(shots / "04-report.png"), full_page=True)

    lockout_form = page.locator("[data-testid=lockout-form]")
    lockout_form.locator("input[name=password]").fill(PASSWORD)
    lockout_form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/lockouts/\d+$"))
    page.screenshot(path=str(shots / "05-lockout.png"), full_page=True)

    lockout_id = page.url.rsplit("/", 1)[1]
    page.goto(f"/elevators/{elevator.id}")
    banner = page.locator("[data-testid=lockout-banner]")
    assert banner.count() == 1
    assert banner.locator(f"a[href='/lockouts/{lockout_id}']").count() == 1
    assert page.locator("[data-testid=public-report-panel] li[data-report]").count() == 0
    page.goto("/reports?status=pending")
    assert page.locator("tr[data-report]").count() == 0
    page.context.close()
