"""Patrol lists (scoped, filtered), today's round by calendar day, the elevator panel, the label."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import segno
import time_machine

from elevator_safety.auth.models import Role
from elevator_safety.extensions import db
from elevator_safety.records.models import Finding, Severity
from elevator_safety.registry.models import ElevatorStatus
from tests.conftest import log_in
from tests.factories import make_elevator, make_record, make_site, make_user

# 16:30 UTC on 28 November is 00:30 on 29 November in Shanghai.
FROZEN = datetime(2026, 11, 28, 16, 30, tzinfo=UTC)


def listed(body: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-record="(\d+)"', body)]


def add_finding(record, side) -> None:  # type: ignore[no-untyped-def]
    db.session.add(
        Finding(
            elevator_id=record.elevator_id,
            source_record_id=record.id,
            item_code="doors",
            item_label="Doors",
            duty="D3",
            severity=Severity.ordinary,
            description="Scrapes",
            photo_hashes=[],
            owner_organisation_id=side.org.id,
        )
    )


def english(user) -> None:  # type: ignore[no-untyped-def]
    user.locale = "en"
    db.session.commit()


# --- /patrols ---------------------------------------------------------------------


def test_list_shows_only_patrols_in_scope_newest_first(client, world):
    own, foreign = world.own, world.foreign
    base = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    older = make_record(own.elevators[0], own.officer, occurred_at=base)
    newer = make_record(own.elevators[1], own.officer, occurred_at=base + timedelta(hours=5))
    hidden = make_record(foreign.elevators[0], foreign.officer, occurred_at=base)
    db.session.commit()
    for user in (own.officer, own.director, own.admin, own.manager, own.technician, own.regulator):
        log_in(client, user)
        response = client.get("/patrols")
        assert response.status_code == 200
        assert listed(response.get_data(as_text=True)) == [newer.id, older.id], user.role
    log_in(client, foreign.regulator)
    assert listed(client.get("/patrols").get_data(as_text=True)) == [hidden.id]


def test_list_filters_by_site_day_elevator_and_failed_items(client, world):
    own = world.own
    other_site = make_site(own.org)
    other = make_elevator(other_site, own.officer)
    day1 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    day2 = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    a = make_record(own.elevators[0], own.officer, occurred_at=day1)
    b = make_record(own.elevators[1], own.officer, occurred_at=day2)
    c = make_record(other, own.officer, occurred_at=day2)
    add_finding(b, own)
    db.session.commit()
    english(own.officer)
    log_in(client, own.officer)

    def ids(query: str) -> set[int]:
        response = client.get("/patrols?" + query)
        assert response.status_code == 200
        return set(listed(response.get_data(as_text=True)))

    assert ids("") == {a.id, b.id, c.id}
    assert ids(f"site={other_site.id}") == {c.id}
    assert ids("date_from=2026-11-21") == {b.id, c.id}
    assert ids("date_from=2026-11-20&date_to=2026-11-20") == {a.id}
    assert ids("failed=yes") == {b.id}
    assert ids("failed=no") == {a.id, c.id}
    assert ids(f"elevator={own.elevators[1].id}") == {b.id}
    body = client.get("/patrols?date_from=yesterday").get_data(as_text=True)
    assert "Enter a date as YYYY-MM-DD." in body
    assert 'data-failed="1"' in client.get("/patrols?failed=yes").get_data(as_text=True)
    foreign_elevator = world.foreign.elevators[0].id
    assert client.get(f"/patrols?elevator={foreign_elevator}").status_code == 404


def test_list_pages(app, client, world):
    app.config["PAGE_SIZE"] = 2
    own = world.own
    base = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    made = [
        make_record(own.elevators[0], own.officer, occurred_at=base + timedelta(hours=n))
        for n in range(5)
    ]
    db.session.commit()
    log_in(client, own.officer)
    newest_first = [r.id for r in reversed(made)]
    assert listed(client.get("/patrols").get_data(as_text=True)) == newest_first[:2]
    assert listed(client.get("/patrols?page=3").get_data(as_text=True)) == newest_first[4:]


# --- /patrols/today ------------------------------------------------------------------


def test_today_counts_the_calendar_day_of_the_site_zone(client, world):
    own = world.own
    first, second = own.elevators
    # 23:00 on the 28th in Shanghai: yesterday once it is 00:30 on the 29th.
    make_record(first, own.officer, occurred_at=datetime(2026, 11, 28, 15, 0, tzinfo=UTC))
    # 00:10 on the 29th in Shanghai, although still the 28th in UTC.
    done = make_record(second, own.officer, occurred_at=datetime(2026, 11, 28, 16, 10, tzinfo=UTC))
    db.session.commit()
    assert done.occurred_on == date(2026, 11, 29)
    english(own.officer)
    with time_machine.travel(FROZEN, tick=False):
        log_in(client, own.officer)  # sessions last 12 hours: log in at the frozen time
        body = client.get("/patrols/today").get_data(as_text=True)
    assert "2026-11-29" in body
    states = dict(re.findall(r'<tr data-elevator="([^"]+)" data-state="(\w+)"', body))
    assert states == {first.equipment_code: "missing", second.equipment_code: "done"}
    assert re.search(r'data-testid="done-count">1<', body)
    assert re.search(r'data-testid="missing-count">1<', body)
    assert f'href="/records/{done.id}"' in body
    assert "2026-11-29 00:10 +0800" in body

    with time_machine.travel(datetime(2026, 11, 28, 15, 30, tzinfo=UTC), tick=False):
        log_in(client, own.officer)
        body = client.get("/patrols/today").get_data(as_text=True)  # 23:30 on the 28th
    states = dict(re.findall(r'<tr data-elevator="([^"]+)" data-state="(\w+)"', body))
    assert states == {first.equipment_code: "done", second.equipment_code: "missing"}


def test_today_lists_the_officers_own_elevators_and_all_for_the_director(client, world):
    own = world.own
    colleague = make_user(own.org, Role.safety_officer)
    theirs = make_elevator(own.site, colleague)
    gone = make_elevator(own.site, own.officer, status=ElevatorStatus.decommissioned)
    db.session.commit()
    log_in(client, own.officer)
    body = client.get("/patrols/today").get_data(as_text=True)
    codes = set(re.findall(r'<tr data-elevator="([^"]+)"', body))
    assert codes == {e.equipment_code for e in own.elevators}
    assert theirs.equipment_code not in body
    assert gone.equipment_code not in body
    log_in(client, own.director)
    body = client.get("/patrols/today").get_data(as_text=True)
    codes = set(re.findall(r'<tr data-elevator="([^"]+)"', body))
    assert codes == {e.equipment_code for e in own.elevators} | {theirs.equipment_code}
    assert colleague.name in body


# --- the elevator page's panel --------------------------------------------------------


def test_elevator_panel_shows_today_last_patrols_and_actions(client, world):
    own = world.own
    elevator = own.elevators[0]
    with time_machine.travel(FROZEN, tick=False):
        record = make_record(elevator, own.officer)
        db.session.commit()
        english(own.officer)
        log_in(client, own.officer)
        body = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    panel = re.search(r'<section class="card" data-testid="patrol-panel">.*?</section>', body, re.S)
    assert panel is not None
    html = panel.group(0)
    assert 'data-state="done"' in html
    assert "Today (2026-11-29)" in html
    assert f'href="/records/{record.id}"' in html
    assert f'href="/elevators/{elevator.id}/patrols/new"' in html
    assert f'href="/elevators/{elevator.id}/label"' in html
    assert f'href="/patrols?elevator={elevator.id}"' in html

    log_in(client, own.technician)
    body = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="patrol-panel"' in body
    assert "/patrols/new" not in body  # only those who may patrol get the button
    assert f'href="/elevators/{elevator.id}/label"' in body


def test_elevator_panel_without_patrols(client, world):
    elevator = world.own.elevators[1]
    english(world.own.director)
    log_in(client, world.own.director)
    body = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert "No patrol recorded yet." in body
    assert re.search(r'data-testid="patrol-today" data-state="missing"', body)


# --- the QR label ---------------------------------------------------------------------


def test_label_has_codes_and_a_qr_code_of_the_public_report_page(client, world):
    elevator = world.own.elevators[0]
    english(world.own.officer)
    log_in(client, world.own.officer)
    response = client.get(f"/elevators/{elevator.id}/label")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    url = f"http://localhost/r/{elevator.equipment_code}"
    assert url in body
    expected = segno.make(url, error="m").svg_inline(scale=1, border=4, omitsize=True)
    modules = re.search(r' d="([^"]+)"', expected)
    assert modules is not None
    assert f'd="{modules.group(1)}"' in body  # the QR code encodes exactly the page's URL
    assert '<svg viewBox="0 0 37 37" class="qr">' in body
    assert elevator.equipment_code in body
    assert elevator.rescue_code in body
    assert elevator.site.name in body
    assert "96333" in body
    assert "style=" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
