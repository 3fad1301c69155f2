"""An officer locks out an elevator; the technician repairs it; the officer returns it to service.

Also: the entrapment timer ticks in the browser (static/js/lockout-timer.js).
"""

from __future__ import annotations

import re

from tests.browser.conftest import log_in, new_page
from tests.factories import PASSWORD


def accept_dialogs(page) -> None:  # type: ignore[no-untyped-def]
    """Answer yes to the confirmation questions (data-confirm)."""
    page.on("dialog", lambda dialog: dialog.accept())


def sign_and_submit(page) -> None:  # type: ignore[no-untyped-def]
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=submit-step]")
    page.wait_for_url(re.compile(r".*/lockouts/\d+$"))


def test_officer_locks_out_technician_repairs_officer_returns(browser, live_server, shots):
    base_url, world = live_server
    elevator = world.own.elevators[0]

    # The officer opens a lockout from the elevator page, then posts the notice and notifies.
    page = new_page(browser, base_url, phone=True)
    accept_dialogs(page)
    log_in(page, world.own.officer.email, PASSWORD)
    page.goto(f"/elevators/{elevator.id}")
    assert page.locator("[data-testid=lockout-banner]").count() == 0
    page.click("[data-testid=open-lockout-button]")
    page.wait_for_url(f"**/elevators/{elevator.id}/lockouts/new")
    page.select_option("select[name=cause]", "fault")
    page.fill("textarea[name=description]", "轿厢停在5楼与6楼之间，门无法打开")
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=str(shots / "1-open.png"), full_page=True)
    page.click("[data-testid=submit-lockout]")
    page.wait_for_url(re.compile(r".*/lockouts/\d+$"))
    lockout_url = page.url
    assert page.locator("[data-testid=lockout-open]").count() == 1

    page.click("a[data-step=notice_posted]")
    page.wait_for_url("**/notice")
    sign_and_submit(page)
    assert page.locator("[data-testid=notice-at] .badge").count() == 0

    page.click("a[data-step=contractor_notified]")
    page.wait_for_url("**/notify")
    page.check("input[name=channel][value=phone]")
    page.fill("input[name=party]", "维保调度 王工 13900000000")
    sign_and_submit(page)
    assert "王工" in page.inner_text("[data-testid=notified-at]")
    # No return to service yet: the repair record is missing.
    assert page.locator("a[data-step=returned]").count() == 0
    assert page.locator("[data-testid=return-refusal]").count() == 1
    page.screenshot(path=str(shots / "2-secured.png"), full_page=True)
    page.goto(f"/elevators/{elevator.id}")
    assert page.locator("[data-testid=lockout-banner]").count() == 1
    assert page.locator(".banner-bad", has_text="停用").count() == 1
    page.context.close()

    # The contractor's technician records the arrival and the repair.
    page = new_page(browser, base_url, phone=True)
    accept_dialogs(page)
    log_in(page, world.own.technician.email, PASSWORD)
    page.goto(lockout_url)
    page.click("a[data-step=contractor_arrived]")
    page.wait_for_url("**/arrival")
    sign_and_submit(page)
    page.click("a[data-step=repaired]")
    page.wait_for_url("**/repair")
    page.fill("textarea[name=found]", "门锁触点烧蚀，更换后试运行正常")
    page.fill("textarea[name=parts_replaced]", "厅门门锁触点")
    page.screenshot(path=str(shots / "3-repair.png"), full_page=True)
    sign_and_submit(page)
    assert page.locator("[data-testid=repaired-at] a").count() == 1
    assert page.locator("a[data-step=returned]").count() == 0  # the officer's step
    page.context.close()

    # The officer returns the elevator to service.
    page = new_page(browser, base_url, phone=True)
    accept_dialogs(page)
    log_in(page, world.own.officer.email, PASSWORD)
    page.goto(lockout_url)
    page.click("a[data-step=returned]")
    page.wait_for_url("**/return")
    page.fill("textarea[name=note]", "试运行正常，恢复使用")
    sign_and_submit(page)
    assert page.locator("[data-testid=lockout-summary] [data-status=returned]").count() == 1
    assert page.locator("[data-testid=lockout-steps] > li").count() == 6
    page.screenshot(path=str(shots / "4-returned.png"), full_page=True)
    page.goto(f"/elevators/{elevator.id}")
    assert page.locator("[data-testid=lockout-banner]").count() == 0
    # The registry's out-of-service banner is gone too: the elevator is in service again.
    assert page.locator(".banner-bad", has_text="停用").count() == 0
    assert page.locator(".banner-bad", has_text="nobody may ride").count() == 0
    assert page.locator("[data-testid=lockout-panel] [data-status=returned]").count() == 1
    page.screenshot(path=str(shots / "5-elevator.png"), full_page=True)
    page.context.close()


def test_the_entrapment_timer_ticks(browser, live_server, shots):
    base_url, world = live_server
    elevator = world.own.elevators[1]
    page = new_page(browser, base_url)
    accept_dialogs(page)
    log_in(page, world.own.technician.email, PASSWORD)
    page.goto(f"/elevators/{elevator.id}/lockouts/new")
    page.select_option("select[name=cause]", "alarm")
    page.fill("textarea[name=description]", "一人被困")
    page.check("input[name=entrapment]")
    page.fill("input[name=trapped_count]", "1")
    page.fill("input[name=password]", PASSWORD)
    page.click("[data-testid=submit-lockout]")
    page.wait_for_url(re.compile(r".*/lockouts/\d+$"))
    timer = page.locator("[data-testid=entrapment-card] [data-timer-text]")
    first = timer.inner_text()
    assert re.fullmatch(r"\d\d:\d\d", first)
    page.wait_for_function(
        "(first) => document.querySelector('[data-testid=entrapment-card] [data-timer-text]')"
        ".textContent !== first",
        arg=first,
    )
    assert page.locator("[data-testid=entrapment-card] [data-testid=rescue-late]").count() == 0
    page.screenshot(path=str(shots / "timer.png"), full_page=True)
    page.context.close()
