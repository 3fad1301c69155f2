"""A safety officer records a daily patrol on a phone: one failed item with a photo."""

from __future__ import annotations

from tests.browser.conftest import log_in, new_page
from tests.factories import PASSWORD, png_bytes

READINGS = {"machine_room_temperature": "23.5", "machine_room_humidity": "55"}


def test_officer_completes_a_patrol_on_a_phone(browser, live_server, shots, tmp_path):
    base_url, world = live_server
    officer = world.own.officer
    elevator = world.own.elevators[0]
    photo = tmp_path / "door.png"
    photo.write_bytes(png_bytes(size=(64, 48), color="orange"))

    page = new_page(browser, base_url, phone=True)
    log_in(page, officer.email, PASSWORD)
    page.goto(f"/elevators/{elevator.id}")
    panel = page.locator("[data-testid=patrol-panel]")
    assert panel.locator("[data-testid=patrol-today]").get_attribute("data-state") == "missing"
    panel.locator("[data-testid=record-patrol]").click()
    page.wait_for_url(f"**/elevators/{elevator.id}/patrols/new")
    page.screenshot(path=str(shots / "01-form.png"), full_page=True)

    # Big touch targets, and nothing wider than the phone.
    box = page.locator("[data-item=use_sign] label[data-choice=pass]").bounding_box()
    assert box is not None
    assert box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    items = page.locator(".patrol-item[data-item]")
    codes = [items.nth(i).get_attribute("data-item") for i in range(items.count())]
    assert "doors" in codes
    assert set(READINGS) <= set(codes)
    for code in codes:
        if code in READINGS:
            page.fill(f"input[name={code}__value]", READINGS[code])
        else:
            page.locator(f"[data-item={code}] label[data-choice=pass]").click()
    doors = page.locator("[data-item=doors]")
    doors.locator("label[data-choice=fail]").click()
    assert doors.locator("input[value=fail]").is_checked()
    doors.locator("summary").click()
    page.fill("textarea[name=doors__note]", "Landing door on floor 3 scrapes when closing.")
    page.set_input_files("input[name=doors__photo]", str(photo))
    page.fill("input[name=password]", PASSWORD)
    doors.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "02-failed-item.png"))
    page.screenshot(path=str(shots / "03-filled.png"), full_page=True)

    page.locator("[data-testid=submit-patrol]").click()
    page.wait_for_url("**/records/*")
    assert page.locator(".flash-warning").count() == 1  # signed, with one finding opened
    row = page.locator("tr[data-item=doors]")
    assert row.get_attribute("data-result") == "fail"
    assert "Landing door on floor 3 scrapes when closing." in row.inner_text()
    image = row.locator("img.thumb")
    assert image.count() == 1
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("img => img.naturalWidth") == 64
    assert page.locator("[data-testid=failed-items] a").count() == 1
    assert page.locator("tr[data-item=use_sign]").get_attribute("data-result") == "pass"
    assert page.locator(".signatures li[data-meaning=submitted]").count() == 1
    page.screenshot(path=str(shots / "04-record.png"), full_page=True)

    page.goto(f"/elevators/{elevator.id}")
    today = page.locator("[data-testid=patrol-today]")
    assert today.get_attribute("data-state") == "done"
    page.screenshot(path=str(shots / "05-elevator-panel.png"), full_page=True)
    page.goto(f"/elevators/{elevator.id}/label")
    assert page.locator("[data-testid=qr] svg.qr").count() == 1
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    page.screenshot(path=str(shots / "06-label-print.png"), full_page=True)
    page.context.close()
