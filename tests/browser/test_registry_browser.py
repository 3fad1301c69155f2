"""A safety officer and a contractor use the registry in a real browser."""

from __future__ import annotations

from tests.browser.conftest import log_in, new_page
from tests.factories import PASSWORD


def test_officer_finds_opens_and_switches_language(browser, live_server, shots):
    base_url, world = live_server
    officer = world.own.officer
    wanted = world.own.elevators[1]
    page = new_page(browser, base_url, phone=True)
    log_in(page, officer.email, PASSWORD)
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    page.fill("input[name=q]", wanted.equipment_code[-6:])
    page.keyboard.press("Enter")
    page.wait_for_url("**/elevators?**")
    page.screenshot(path=str(shots / "search.png"), full_page=True)
    page.get_by_role("link", name=wanted.equipment_code).click()
    page.wait_for_url(f"**/elevators/{wanted.id}")
    assert wanted.equipment_code in page.inner_text("main")
    assert wanted.rescue_code in page.inner_text("main")
    page.screenshot(path=str(shots / "detail-zh.png"), full_page=True)

    if not page.locator("[data-testid=lang-switch]").is_visible():
        page.click("label.nav-toggle-label")  # the phone layout folds the menu
    page.click("[data-testid=lang-switch]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.endswith(f"/elevators/{wanted.id}")
    assert "Log out" in page.content()
    page.screenshot(path=str(shots / "detail-en.png"), full_page=True)
    page.context.close()


def test_contractor_sees_only_its_contracted_elevators(browser, live_server, shots):
    base_url, world = live_server
    page = new_page(browser, base_url)
    log_in(page, world.own.manager.email, PASSWORD)
    page.goto("/elevators")
    text = page.inner_text("main")
    for elevator in world.own.elevators:
        assert elevator.equipment_code in text
    for elevator in world.foreign.elevators:
        assert elevator.equipment_code not in text
    page.screenshot(path=str(shots / "contractor-list.png"), full_page=True)
    response = page.goto(f"/elevators/{world.foreign.elevators[0].id}")
    assert response is not None
    assert response.status == 404
    page.context.close()
