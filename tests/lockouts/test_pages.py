"""Lockout pages: opening from the elevator page, the step pages, refusals, lists, banner."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import render_template_string
from sqlalchemy import func, select

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.lockouts import services
from elevator_safety.lockouts.models import Lockout, LockoutStatus
from elevator_safety.records.models import Record, RecordKind
from elevator_safety.registry.models import ElevatorStatus
from tests.conftest import log_in
from tests.factories import PASSWORD, png_bytes
from tests.lockouts.helpers import open_one, repair, secure


def records() -> int:
    return db.session.scalar(select(func.count()).select_from(Record)) or 0


def lockouts() -> int:
    return db.session.scalar(select(func.count()).select_from(Lockout)) or 0


def form(**values: object) -> dict:
    return {"password": PASSWORD, **values}


def test_an_officer_opens_a_lockout_from_the_elevator_page(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.officer)
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="open-lockout-button"' in page
    assert 'data-testid="lockout-banner"' not in page
    new = client.get(f"/elevators/{elevator.id}/lockouts/new")
    assert new.status_code == 200
    response = client.post(
        f"/elevators/{elevator.id}/lockouts/new",
        data=form(cause="fault", description="门不能关闭", idempotency_key="a" * 32),
    )
    assert response.status_code == 302
    lockout = db.session.scalar(select(Lockout))
    assert response.headers["Location"].endswith(f"/lockouts/{lockout.id}")
    assert elevator.status is ElevatorStatus.out_of_service
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="lockout-banner"' in page
    assert f'href="/lockouts/{lockout.id}"' in page
    assert 'data-testid="open-lockout-button"' not in page
    assert 'data-testid="entrapment-under-way"' not in page
    # The same form again: no second lockout, back to the first.
    again = client.post(
        f"/elevators/{elevator.id}/lockouts/new",
        data=form(cause="fault", description="门不能关闭", idempotency_key="a" * 32),
    )
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/lockouts/{lockout.id}")
    assert lockouts() == 1


def test_opening_with_an_entrapment_in_local_time(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.technician)
    alarm = (now_utc() - timedelta(minutes=5)).replace(second=0, microsecond=0)
    local = alarm.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/elevators/{elevator.id}/lockouts/new",
        data=form(
            cause="alarm",
            description="两人被困",
            entrapment="y",
            trapped_count="2",
            alarm_at=local,
        ),
    )
    assert response.status_code == 302
    lockout = db.session.scalar(select(Lockout))
    assert lockout.entrapment
    assert lockout.trapped_count == 2
    assert lockout.alarm_at == alarm
    assert lockout.opened_by_id == world.own.technician.id
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="entrapment-under-way"' in page


def test_the_opening_form_refuses_with_messages_per_field(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.officer)
    response = client.post(f"/elevators/{elevator.id}/lockouts/new", data={"description": "x"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field="cause"' in html
    assert 'data-field="password"' in html
    assert "\nx</textarea>" in html  # the user's values come back
    response = client.post(
        f"/elevators/{elevator.id}/lockouts/new",
        data=form(cause="fault", description="x", entrapment="y"),
    )
    assert response.status_code == 422
    assert 'data-field="trapped_count"' in response.get_data(as_text=True)
    response = client.post(
        f"/elevators/{elevator.id}/lockouts/new",
        data={"cause": "fault", "description": "x", "password": "wrong"},
    )
    assert response.status_code == 422
    assert "Wrong password" in response.get_data(as_text=True)
    future = (now_utc() + timedelta(hours=2)).astimezone(ZoneInfo("Asia/Shanghai"))
    response = client.post(
        f"/elevators/{elevator.id}/lockouts/new",
        data=form(cause="fault", description="x", occurred_at=future.strftime("%Y-%m-%dT%H:%M")),
    )
    assert response.status_code == 422
    assert 'data-field="occurred_at"' in response.get_data(as_text=True)
    assert lockouts() == 0
    assert elevator.status is ElevatorStatus.in_service


def test_a_second_lockout_is_refused_on_the_page(client, world):
    lockout = open_one(world.own)
    log_in(client, world.own.director)
    url = f"/elevators/{world.own.elevators[0].id}/lockouts/new"
    page = client.get(url).get_data(as_text=True)
    assert "already has an open lockout" in page
    assert f"/lockouts/{lockout.id}" in page
    before = records()
    response = client.post(url, data=form(cause="fault", description="again"))
    assert response.status_code == 422
    assert records() == before
    assert lockouts() == 1


def test_the_steps_through_the_pages(client, world):
    side = world.own
    elevator = side.elevators[0]
    lockout = open_one(side)
    log_in(client, side.officer)
    detail = client.get(f"/lockouts/{lockout.id}").get_data(as_text=True)
    assert 'data-step="notice_posted"' in detail
    assert 'data-step="contractor_notified"' in detail
    assert 'data-step="repaired"' not in detail  # the contractor's step
    assert 'data-step="cancelled"' in detail
    photo = (io.BytesIO(png_bytes(color="yellow")), "notice.png")
    response = client.post(
        f"/lockouts/{lockout.id}/notice",
        data=form(photo=photo),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert lockout.notice_posted_at is not None
    response = client.post(
        f"/lockouts/{lockout.id}/notify", data=form(channel="phone", party="王经理 13900000000")
    )
    assert response.status_code == 302
    assert lockout.notified_party == "王经理 13900000000"
    # Return before the repair: refused, nothing written.
    page = client.get(f"/lockouts/{lockout.id}/return").get_data(as_text=True)
    assert "contractor&#39;s repair record" in page
    assert 'data-testid="step-form"' not in page
    before = records()
    response = client.post(f"/lockouts/{lockout.id}/return", data=form())
    assert response.status_code == 422
    assert records() == before
    # The officer may not record the repair.
    assert client.get(f"/lockouts/{lockout.id}/repair").status_code == 403

    log_in(client, side.technician)
    assert client.get(f"/lockouts/{lockout.id}/notify").status_code == 403
    assert client.post(f"/lockouts/{lockout.id}/return", data=form()).status_code == 403
    page = client.get(f"/lockouts/{lockout.id}/repair").get_data(as_text=True)
    assert "arrival before the repair" in page
    assert client.post(f"/lockouts/{lockout.id}/arrival", data=form()).status_code == 302
    response = client.post(
        f"/lockouts/{lockout.id}/repair",
        data=form(found="门锁触点烧蚀", parts_replaced="门锁触点\n门机皮带\n"),
    )
    assert response.status_code == 302
    repair_record = db.session.get(Record, lockout.repair_record_id)
    assert repair_record.data["body"]["parts_replaced"] == ["门锁触点", "门机皮带"]
    shown = client.get(f"/records/{repair_record.id}").get_data(as_text=True)
    assert "门锁触点烧蚀" in shown
    assert 'data-step="repaired"' in shown

    log_in(client, side.officer)
    response = client.post(f"/lockouts/{lockout.id}/return", data=form(note="试运行正常"))
    assert response.status_code == 302
    assert lockout.status is LockoutStatus.returned
    assert elevator.status is ElevatorStatus.in_service
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="lockout-banner"' not in page
    detail = client.get(f"/lockouts/{lockout.id}").get_data(as_text=True)
    assert detail.count("<li data-step=") == 6
    assert 'data-meaning="returned_to_service"' in detail
    for record in db.session.scalars(select(Record).where(Record.kind == RecordKind.lockout)):
        assert client.get(f"/records/{record.id}").status_code == 200


def test_a_step_form_refused_by_its_fields(client, world):
    lockout = open_one(world.own)
    log_in(client, world.own.officer)
    response = client.post(f"/lockouts/{lockout.id}/notify", data={"party": "x"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field="channel"' in html
    assert 'data-field="password"' in html
    early = lockout.opened_at - timedelta(hours=1)
    typed = early.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/lockouts/{lockout.id}/notice", data=form(occurred_at=typed))
    assert response.status_code == 422
    assert "before the lockout was opened" in response.get_data(as_text=True)
    bad = (io.BytesIO(b"GIF89a not a photo"), "x.gif")
    response = client.post(
        f"/lockouts/{lockout.id}/notice",
        data=form(photo=bad),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert 'data-field="photo"' in response.get_data(as_text=True)
    assert lockout.notice_posted_at is None


def test_a_time_typed_in_the_minute_of_the_opening_is_accepted(client, world):
    lockout = open_one(world.own)
    typed = lockout.opened_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
    log_in(client, world.own.officer)
    response = client.post(f"/lockouts/{lockout.id}/notice", data=form(occurred_at=typed))
    assert response.status_code == 302
    assert lockout.notice_posted_at == lockout.opened_at


def test_cancelling_on_the_page(client, world):
    lockout = open_one(world.own)
    log_in(client, world.own.officer)
    response = client.post(f"/lockouts/{lockout.id}/cancel", data=form())
    assert response.status_code == 422
    assert 'data-field="reason"' in response.get_data(as_text=True)
    response = client.post(f"/lockouts/{lockout.id}/cancel", data=form(reason="误报"))
    assert response.status_code == 302
    assert lockout.status is LockoutStatus.cancelled
    detail = client.get(f"/lockouts/{lockout.id}").get_data(as_text=True)
    assert "误报" in detail
    assert 'data-testid="lockout-actions"' not in detail
    page = client.get(f"/lockouts/{lockout.id}/notice").get_data(as_text=True)
    assert "This lockout is closed" in page


def test_a_resubmitted_step_form_goes_back_to_the_lockout(client, world):
    lockout = open_one(world.own)
    log_in(client, world.own.officer)
    data = form(idempotency_key="b" * 32)
    assert client.post(f"/lockouts/{lockout.id}/notice", data=data).status_code == 302
    before = records()
    again = client.post(f"/lockouts/{lockout.id}/notice", data=data)
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/lockouts/{lockout.id}")
    assert records() == before


def test_regulators_and_admins_read_only(client, world):
    lockout = open_one(world.own)
    for user in (world.own.regulator, world.own.admin):
        log_in(client, user)
        detail = client.get(f"/lockouts/{lockout.id}")
        assert detail.status_code == 200
        assert 'data-step="notice_posted"' not in detail.get_data(as_text=True)
        page = client.get(f"/elevators/{world.own.elevators[0].id}").get_data(as_text=True)
        assert 'data-testid="lockout-banner"' in page
        assert 'data-testid="open-lockout-button"' not in page
        before = records()
        assert client.post(f"/lockouts/{lockout.id}/notice", data=form()).status_code == 403
        assert records() == before
    log_in(client, world.foreign.regulator)
    assert client.get(f"/lockouts/{lockout.id}").status_code == 404


def test_the_list_and_its_filters(client, world):
    side = world.own
    plain = open_one(side)
    trapped = open_one(side, elevator=side.elevators[1], trapped=1)
    secure(side, plain)
    repair(side, plain)
    services.return_to_service(plain, side.officer, PASSWORD)
    db.session.commit()
    foreign = open_one(world.foreign)
    log_in(client, side.technician)

    def listed(query: str) -> set[int]:
        html = client.get(f"/lockouts{query}").get_data(as_text=True)
        return {lk.id for lk in (plain, trapped, foreign) if f'data-lockout="{lk.id}"' in html}

    assert listed("") == {trapped.id}
    assert listed("?state=closed") == {plain.id}
    assert listed("?state=all") == {plain.id, trapped.id}
    assert listed("?state=all&entrapment=1") == {trapped.id}
    assert listed("?state=all&late=1") == set()
    assert listed("?state=nonsense") == {trapped.id}


def test_the_locked_badge_macro_for_other_lists(app, world):
    open_one(world.own)
    html = render_template_string(
        '{% from "lockouts/_macros.html" import locked_badge %}'
        "{% set ids = open_lockout_ids(elevator_ids) %}"
        "{% for e in elevator_ids %}[{{ locked_badge(e, ids) }}]{% endfor %}",
        elevator_ids=[e.id for e in world.own.elevators],
    )
    first, second = html.split("][")
    assert 'data-testid="locked-badge"' in first
    assert "locked-badge" not in second


def test_the_home_panel(client, world):
    open_one(world.own, trapped=2)
    log_in(client, world.own.officer)
    with client.application.test_request_context():
        from flask_login import login_user

        login_user(world.own.officer)
        html = render_template_string('{% include "lockouts/_home_panel.html" %}')
    assert 'data-testid="lockout-home"' in html
    assert "1 elevator locked out" in html
