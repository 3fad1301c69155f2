"""The safety director opens the compliance matrix, clicks a red cell and finds the alert."""

from __future__ import annotations

from pathlib import Path

from elevator_safety import create_app
from elevator_safety.compliance import engine
from elevator_safety.extensions import db
from tests.browser.conftest import log_in, new_page
from tests.factories import PASSWORD


def _evaluate(path: Path) -> None:
    """Run the compliance rules once on the live server's database (no maintenance yet)."""
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    )
    with app.app_context():
        engine.evaluate()
        db.session.commit()
        db.engine.dispose()


def test_director_follows_a_red_cell_to_the_missing_evidence(browser, live_server, shots, tmp_path):
    base_url, world = live_server
    _evaluate(tmp_path / "live.sqlite")
    elevator = world.own.elevators[0]

    page = new_page(browser, base_url)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, world.own.director.email, PASSWORD)
    page.goto("/dashboards/matrix")
    assert page.locator("[data-testid=trend-chart]").is_visible()
    assert page.locator(f"tr[data-elevator='{world.foreign.elevators[0].id}']").count() == 0
    cell = page.locator(f"tr[data-elevator='{elevator.id}'] td[data-duty=D1]")
    assert cell.get_attribute("data-state") == "overdue"
    page.screenshot(path=str(shots / "01-matrix.png"), full_page=True)
    cell.locator("a.badge-bad").click()
    page.wait_for_url(f"**/alerts?elevator={elevator.id}&duty=D1")

    rows = page.locator("[data-testid=alert-table] tbody tr")
    assert rows.count() == 2  # half-monthly and quarterly maintenance never recorded
    rules = {rows.nth(i).get_attribute("data-rule") for i in range(rows.count())}
    assert rules == {"D1.maintenance.half_monthly", "D1.maintenance.quarterly"}
    link = rows.first.locator("a[href$='/maintenance/new']")
    assert link.get_attribute("href") == f"/elevators/{elevator.id}/maintenance/new"
    page.screenshot(path=str(shots / "02-alerts.png"), full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e]
