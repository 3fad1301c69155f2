"""Who sees which handovers; what the pages show; overdue handovers."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from elevator_safety.extensions import db
from elevator_safety.handovers.services import overdue_handovers
from elevator_safety.records.models import Record, RecordKind
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.handovers.conftest import (
    fill_checklist,
    handover_date,
    make_contractor,
    run_to,
    shanghai_noon,
    start,
)


def listed(body: str) -> list[int]:
    return [int(m) for m in re.findall(r'<tr[^>]*data-handover="(\d+)"', body)]


def test_the_list_shows_each_user_the_handovers_in_scope(client, world, incoming):
    own = run_to(client, world, incoming, "started")
    foreign_incoming = make_contractor()
    db.session.commit()
    log_in(client, world.foreign.admin)
    from tests.handovers.conftest import start_form

    response = client.post(
        "/handovers/new", data=start_form(world.foreign.elevators, foreign_incoming.org)
    )
    assert response.status_code == 302
    third = make_contractor()
    db.session.commit()
    sees_own = [
        world.own.admin,
        world.own.director,
        world.own.officer,
        world.own.manager,
        world.own.technician,
        incoming.manager,
        incoming.technician,
        world.own.regulator,
    ]
    for user in sees_own:
        log_in(client, user)
        assert listed(client.get("/handovers").get_data(as_text=True)) == [own.id], user.role
        assert client.get(f"/handovers/{own.id}").status_code == 200
    for user in (
        world.foreign.admin,
        world.foreign.manager,
        world.foreign.regulator,
        third.manager,
    ):
        log_in(client, user)
        assert own.id not in listed(client.get("/handovers").get_data(as_text=True))
        assert client.get(f"/handovers/{own.id}").status_code == 404
    # The regulator reads and may do nothing.
    log_in(client, world.own.regulator)
    page = client.get(f"/handovers/{own.id}").get_data(as_text=True)
    for action in ("/checklist", "/hand-over", "/receive", "/confirm", "/cancel"):
        assert f"/handovers/{own.id}{action}" not in page


def test_the_detail_page_shows_the_signatures_and_the_next_step(client, world, incoming):
    handover = run_to(client, world, incoming, "started")
    log_in(client, world.own.admin)
    page = client.get(f"/handovers/{handover.id}").get_data(as_text=True)
    next_step = page[page.index('data-testid="next-step"') :]
    assert "completes the inspection checklist" in next_step[:600]
    assert f"/handovers/{handover.id}/checklist" in page
    fill_checklist(client, world.own.admin, handover)
    page = client.get(f"/handovers/{handover.id}").get_data(as_text=True)
    assert f"The manager of {world.own.contractor.name} (outgoing contractor)" in page
    assert "No signatures yet." in page
    # The outgoing manager is offered the signature, nobody else.
    log_in(client, world.own.manager)
    page = client.get(f"/handovers/{handover.id}").get_data(as_text=True)
    assert f'href="/handovers/{handover.id}/hand-over"' in page
    log_in(client, incoming.manager)
    assert "/hand-over" not in client.get(f"/handovers/{handover.id}").get_data(as_text=True)

    handover = run_to_received(client, world, incoming, handover)
    log_in(client, world.own.officer)
    page = client.get(f"/handovers/{handover.id}").get_data(as_text=True)
    signatures = re.findall(r'<li data-meaning="([a-z_]+)">(.*?)</li>', page, re.S)
    assert [m for m, _ in signatures] == ["handed_over", "received"]
    assert world.own.manager.name in signatures[0][1]
    assert world.own.contractor.name in signatures[0][1]
    assert "Handed over" in signatures[0][1]
    assert incoming.manager.name in signatures[1][1]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \+0800", signatures[1][1])
    assert f"{world.own.org.name} (administrator or safety director) confirms" in page
    # Every elevator's record is linked from the signature.
    for elevator in world.own.elevators:
        assert f"{elevator.equipment_code} #" in signatures[0][1]


def run_to_received(client, world, incoming, handover):  # type: ignore[no-untyped-def]
    from tests.handovers.conftest import sign

    assert sign(client, world.own.manager, handover, "hand_over").status_code == 302
    assert sign(client, incoming.manager, handover, "receive").status_code == 302
    return handover


def test_the_sign_page_shows_what_is_signed(client, world, incoming):
    handover = run_to(client, world, incoming, "received")
    log_in(client, world.own.director)
    page = client.get(f"/handovers/{handover.id}/confirm").get_data(as_text=True)
    assert 'name="password"' in page
    planned = page[page.index('data-testid="planned-switch"') :]
    day_before = (handover.handover_date - timedelta(days=1)).isoformat()
    for elevator in world.own.elevators:
        assert elevator.equipment_code in planned
    assert f"will end on {day_before}" in planned
    assert f"a new contract with {incoming.org.name}" in planned


def test_overdue_handovers_are_marked_and_listed(client, world, incoming):
    day = handover_date()
    late = run_to(
        client, world, incoming, "handed_over", day=day, elevators=[world.own.elevators[0]]
    )
    done = run_to(client, world, incoming, "confirmed", day=day, elevators=[world.own.elevators[1]])
    with time_machine.travel(shanghai_noon(day), tick=False):
        # On the handover date itself it is not overdue yet.
        assert overdue_handovers(world.own.admin, local_today()) == []
    with time_machine.travel(shanghai_noon(day + timedelta(days=1)), tick=False):
        today = local_today()
        for user in (
            world.own.admin,
            world.own.officer,
            world.own.manager,
            incoming.manager,
            world.own.regulator,
        ):
            assert [h.id for h in overdue_handovers(user, today)] == [late.id], user.role
        for user in (world.foreign.admin, world.foreign.regulator):
            assert overdue_handovers(user, today) == []
        log_in(client, world.own.admin)
        body = client.get("/handovers?status=overdue").get_data(as_text=True)
        assert listed(body) == [late.id]
        body = client.get("/handovers").get_data(as_text=True)
        assert sorted(listed(body)) == sorted([late.id, done.id])
        row = re.search(
            rf'<tr data-handover="{late.id}" class="row-overdue">(.*?)</tr>', body, re.S
        )
        assert row
        assert 'data-testid="overdue"' in row.group(1)
        row = re.search(rf'<tr data-handover="{done.id}"[^>]*>(.*?)</tr>', body, re.S)
        assert row
        assert 'data-testid="overdue"' not in row.group(0)
        assert 'data-testid="overdue-link"' in body
        # The elevator panel and the detail page say so too.
        panel = client.get(f"/elevators/{world.own.elevators[0].id}").get_data(as_text=True)
        panel = panel[panel.index('data-testid="handover-panel"') :]
        assert 'data-testid="overdue"' in panel
        assert 'data-testid="overdue-banner"' in client.get(f"/handovers/{late.id}").get_data(
            as_text=True
        )
        # The home-page partial lists it.
        from flask import render_template_string

        with client.application.test_request_context():
            log_in_context(world.own.admin)
            html = render_template_string('{% include "handovers/_home_panel.html" %}')
        assert f'data-handover="{late.id}"' in html
        assert f'data-handover="{done.id}"' not in html


def log_in_context(user) -> None:  # type: ignore[no-untyped-def]
    from flask_login import login_user

    login_user(user)


def test_the_record_page_shows_the_handover_in_both_languages(client, world, incoming):
    handover = run_to(client, world, incoming, "confirmed")
    record = db.session.scalars(
        select(Record)
        .where(Record.elevator_id == world.own.elevators[0].id, Record.kind == RecordKind.handover)
        .order_by(Record.seq.desc())
    ).first()
    assert record is not None
    log_in(client, world.own.officer)
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert 'data-testid="handover-record"' in page
    assert f'href="/handovers/{handover.id}"' in page
    assert "Archive complete and handed over" in page
    assert 'data-testid="contract-changes"' in page
    assert "Handover confirmed" in page  # the signature's meaning
    world.own.officer.locale = "zh_Hans_CN"
    db.session.commit()
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert "档案资料完整并移交" in page
    assert "Archive complete and handed over" not in page


def test_the_checklist_speaks_the_users_language(client, world, incoming):
    handover = start(client, world, incoming)
    page = client.get(f"/handovers/{handover.id}/checklist").get_data(as_text=True)
    assert "Signs in the car updated with the new contractor&#39;s name and phone" in page
    world.own.admin.locale = "zh_Hans_CN"
    db.session.commit()
    page = client.get(f"/handovers/{handover.id}/checklist").get_data(as_text=True)
    assert "轿厢内维保单位名称和电话已更新" in page


def test_the_pages_carry_no_inline_script_or_style(client, world, incoming):
    handover = run_to(client, world, incoming, "received")
    log_in(client, world.own.admin)
    urls = [
        "/handovers",
        "/handovers/new",
        f"/handovers/{handover.id}",
        f"/handovers/{handover.id}/checklist",
        f"/handovers/{handover.id}/confirm",
        f"/handovers/{handover.id}/cancel",
        f"/elevators/{world.own.elevators[0].id}",
    ]
    for url in urls:
        body = client.get(url).get_data(as_text=True)
        assert " style=" not in body, url
        assert re.search(r"<script(?![^>]*\bsrc=)", body) is None, url
        assert not re.search(r"\son[a-z]+=", body), url
