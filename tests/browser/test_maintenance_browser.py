"""A technician records a half-monthly maintenance visit; the safety officer confirms it on site.

The live world's technician (certificate T-1234) is ticked by default; the
second technician present is typed in by name and certificate number, as an
agency worker would be.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.conftest import log_in, new_page
from tests.factories import PASSWORD


def visit_times() -> tuple[str, str, str]:
    """Return a visit date, arrival and departure in the past, in the site's zone."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    if now.hour < 2:
        day = (now - timedelta(days=1)).date()
        return day.isoformat(), "20:00", "21:30"
    arrival = now - timedelta(minutes=90)
    departure = now - timedelta(minutes=15)
    return now.date().isoformat(), arrival.strftime("%H:%M"), departure.strftime("%H:%M")


def test_technician_submits_and_officer_confirms_on_site(browser, live_server, shots):
    base_url, world = live_server
    elevator = world.own.elevators[0]
    day, arrival, departure = visit_times()

    # The technician records the visit on a phone.
    page = new_page(browser, base_url, phone=True)
    log_in(page, world.own.technician.email, PASSWORD)
    page.goto(f"/elevators/{elevator.id}")
    page.click("[data-testid=record-maintenance]")
    page.wait_for_url(f"**/elevators/{elevator.id}/maintenance/new")
    assert page.locator("fieldset.mt-item").count() == 31
    assert page.locator("fieldset.mt-item input[value=done]:checked").count() == 31
    assert page.locator(f"input[name=technicians][value='{world.own.technician.id}']").is_checked()
    page.fill("input[name=visit_date]", day)
    page.fill("input[name=arrival]", arrival)
    page.fill("input[name=departure]", departure)
    page.fill("input[name='coworkers-0-name']", "李四")
    page.fill("input[name='coworkers-0-certificate_no']", "T-5678")
    page.check("input[name=i_A1_5][value=adjusted]")
    page.click("fieldset[data-item='A-1.5'] details.mt-item-note summary")
    page.fill("input[name=n_A1_5]", "制动器间隙调整至0.5mm")
    page.fill("textarea[name='problems-0-description']", "底坑有少量积水")
    page.screenshot(path=str(shots / "1-visit-form.png"), full_page=True)
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=submit-visit]")
    page.wait_for_url(re.compile(r".*/records/\d+$"))
    record_url = page.url
    assert page.locator("[data-testid=maintenance-record] [data-state=awaiting]").count() == 1
    assert page.locator("tr[data-item='A-1.5'][data-result=adjusted]").count() == 1
    technicians = page.inner_text("[data-testid=technicians]")
    assert "T-1234" in technicians
    assert "T-5678" in technicians
    assert "底坑有少量积水" in page.inner_text("[data-testid=problems]")
    assert page.locator("[data-meaning=submitted]").count() == 1
    page.screenshot(path=str(shots / "2-submitted.png"), full_page=True)
    page.context.close()

    # The responsible safety officer confirms it on site.
    page = new_page(browser, base_url, phone=True)
    log_in(page, world.own.officer.email, PASSWORD)
    page.goto(f"/elevators/{elevator.id}")
    panel = page.locator("[data-testid=maintenance-panel]")
    assert panel.locator("[data-testid=maintenance-awaiting] li").count() == 1
    assert panel.locator("tr[data-level=half_monthly]").get_attribute("data-days") == ""
    panel.locator("[data-testid=maintenance-awaiting] a.button").click()
    page.wait_for_url("**/maintenance/*/review")
    assert "制动器间隙调整至0.5mm" in page.inner_text("main")
    page.fill("textarea[name=remarks]", "现场核实，同意")
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=str(shots / "3-review.png"), full_page=True)
    page.click("[data-testid=confirm]")
    page.wait_for_url(record_url)
    assert page.locator("[data-testid=maintenance-record] [data-state=confirmed]").count() == 1
    assert page.locator("[data-meaning=confirmed]").count() == 1
    page.screenshot(path=str(shots / "4-confirmed.png"), full_page=True)

    page.goto(f"/elevators/{elevator.id}")
    panel = page.locator("[data-testid=maintenance-panel]")
    expected_days = (
        "0" if day == datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat() else "1"
    )
    assert panel.locator("tr[data-level=half_monthly]").get_attribute("data-days") == expected_days
    assert panel.locator("[data-testid=maintenance-awaiting] li").count() == 0
    assert panel.locator("tr[data-state=confirmed]").count() == 1
    panel.screenshot(path=str(shots / "5-elevator-panel.png"))
    page.context.close()
