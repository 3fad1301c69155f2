"""What the handover workflow refuses, and that a refusal writes nothing."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.handovers import services
from elevator_safety.records import services as records
from elevator_safety.records.models import Handover, HandoverStatus
from elevator_safety.registry.models import Contract
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.factories import make_contract, make_elevator
from tests.handovers.conftest import (
    checklist_form,
    fill_checklist,
    handover_date,
    make_contractor,
    run_to,
    sign,
    start,
    start_form,
    state,
)


def field_errors(body: str, name: str) -> list[str]:
    pattern = rf'<div class="error"[^>]*data-field="{name}">(.*?)</div>'
    return [html.unescape(m).strip() for m in re.findall(pattern, body, re.S)]


def selected(body: str, name: str) -> str | None:
    select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', body, re.S)
    assert select_html, name
    match = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"', select_html.group(0))
    match = match or re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', select_html.group(0))
    return match.group(1) if match else None


def input_value(body: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', body)
    assert match, name
    return html.unescape(match.group(1))


def refusal(body: str) -> str:
    match = re.search(r'data-testid="refusal">(.*?)</div>', body, re.S)
    assert match, "no refusal shown"
    return html.unescape(match.group(1)).strip()


def handover_count() -> int:
    return db.session.scalar(select(func.count(Handover.id))) or 0


# --- start ---------------------------------------------------------------------------------


def test_elevators_with_different_outgoing_contractors_are_refused(client, world, incoming):
    other = make_contractor()
    third = make_elevator(world.own.site, world.own.officer)
    make_contract(third, other.org)
    db.session.commit()
    log_in(client, world.own.admin)
    response = client.post(
        "/handovers/new", data=start_form([world.own.elevators[0], third], incoming.org)
    )
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "elevator_ids")
    assert any("different contractors" in e and other.org.name in e for e in errors), errors
    assert handover_count() == 0


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"handover_date": "past"}, "handover_date", "cannot be in the past"),
        ({"new_contract_end": "before"}, "new_contract_end", "cannot end before"),
        ({"incoming_contractor_id": "outgoing"}, "incoming_contractor_id", "must differ"),
        ({"incoming_contractor_id": ""}, "incoming_contractor_id", "required"),
        ({"elevator_ids": []}, "elevator_ids", "at least one elevator"),
        ({"elevator_ids": "foreign"}, "elevator_ids", "your own company"),
        ({"handover_date": "not-a-date"}, "handover_date", "YYYY-MM-DD"),
        ({"level_plan": []}, "level_plan", "at least one maintenance level"),
    ],
)
def test_start_refuses_bad_values_and_writes_nothing(
    client, world, incoming, changes, field, fragment
):
    day = handover_date()
    values = {
        "past": (local_today() - timedelta(days=1)).isoformat(),
        "before": (day - timedelta(days=1)).isoformat(),
        "outgoing": str(world.own.contractor.id),
        "foreign": [str(world.foreign.elevators[0].id)],
    }
    data = start_form(world.own.elevators, incoming.org, day=day)
    for key, value in changes.items():
        data[key] = values.get(value, value) if isinstance(value, str) else value
    log_in(client, world.own.admin)
    before = state_rows()
    response = client.post("/handovers/new", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    errors = field_errors(body, field)
    assert any(fragment in e for e in errors), (field, errors)
    # The user's answers come back.
    assert (selected(body, "incoming_contractor_id") or "") == data["incoming_contractor_id"]
    assert input_value(body, "new_contract_end") == data["new_contract_end"]
    assert state_rows() == before


def state_rows() -> dict[str, int]:
    from tests.handovers.conftest import row_counts

    db.session.expire_all()
    return row_counts()


def test_an_elevator_without_a_contract_in_force_is_refused(client, world, incoming):
    bare = make_elevator(world.own.site, world.own.officer)
    db.session.commit()
    log_in(client, world.own.admin)
    response = client.post("/handovers/new", data=start_form([bare], incoming.org))
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "elevator_ids")
    assert any("No maintenance contract is in force" in e for e in errors)
    assert handover_count() == 0


def test_an_elevator_already_in_an_unfinished_handover_is_refused(client, world, incoming):
    first = start(client, world, incoming, elevators=[world.own.elevators[0]])
    response = client.post("/handovers/new", data=start_form(world.own.elevators, incoming.org))
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "elevator_ids")
    assert any(world.own.elevators[0].equipment_code in e for e in errors)
    assert handover_count() == 1
    # Once cancelled, the elevator may be handed over again.
    client.post(f"/handovers/{first.id}/cancel", data={"reason": "wrong contractor"})
    response = client.post("/handovers/new", data=start_form(world.own.elevators, incoming.org))
    assert response.status_code == 302
    assert handover_count() == 2


def test_a_future_contract_in_the_way_is_refused_at_start(client, world, incoming):
    day = handover_date()
    other = make_contractor()
    make_contract(
        world.own.elevators[1],
        other.org,
        start_date=world.own.elevators[1].contracts[0].end_date + timedelta(days=1),
        end_date=day + timedelta(days=800),
    )
    db.session.commit()
    log_in(client, world.own.admin)
    response = client.post("/handovers/new", data=start_form(world.own.elevators, incoming.org))
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "handover_date")
    assert any(other.org.name in e and world.own.elevators[1].equipment_code in e for e in errors)
    assert handover_count() == 0


def test_an_incoming_contractor_with_an_expired_qualification_is_refused(client, world):
    expired = make_contractor(qualification_expires=local_today())
    db.session.commit()
    log_in(client, world.own.admin)
    response = client.post("/handovers/new", data=start_form(world.own.elevators, expired.org))
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "incoming_contractor_id")
    assert any("qualification" in e for e in errors)


# --- order of the steps ------------------------------------------------------------------


def test_receive_before_hand_over_is_refused_and_writes_nothing(client, world, incoming):
    handover = run_to(client, world, incoming, "started")
    fill_checklist(client, world.own.admin, handover)
    before = state(handover)
    response = sign(client, incoming.manager, handover, "receive")
    assert response.status_code == 422
    assert "Hand over" in refusal(response.get_data(as_text=True))
    assert state(handover) == before


def test_confirm_before_receipt_is_refused_and_writes_nothing(client, world, incoming):
    handover = run_to(client, world, incoming, "handed_over")
    before = state(handover)
    response = sign(client, world.own.admin, handover, "confirm")
    assert response.status_code == 422
    assert "Receive" in refusal(response.get_data(as_text=True))
    assert state(handover) == before


def test_hand_over_with_an_unanswered_checklist_is_refused(client, world, incoming):
    handover = run_to(client, world, incoming, "started")
    fill_checklist(client, world.own.admin, handover, keys_tools=None)
    before = state(handover)
    response = sign(client, world.own.manager, handover, "hand_over")
    assert response.status_code == 422
    message = refusal(response.get_data(as_text=True))
    assert "unanswered" in message
    assert "Keys and tools handed over" in message
    assert state(handover) == before


def test_confirm_with_an_unanswered_checklist_is_refused(client, world, incoming):
    handover = run_to(client, world, incoming, "received")
    # Not reachable through the pages (the checklist is frozen once handed over), but the
    # rule holds on its own: the confirmation checks the checklist again.
    row = db.session.get(Handover, handover.id)
    row.checklist = {k: v for k, v in row.checklist.items() if k != "archive"}
    db.session.commit()
    before = state(handover)
    response = sign(client, world.own.director, handover, "confirm")
    assert response.status_code == 422
    assert "unanswered" in refusal(response.get_data(as_text=True))
    assert state(handover) == before


def test_a_step_signed_twice_is_refused(client, world, incoming):
    handover = run_to(client, world, incoming, "received")
    before = state(handover)
    response = sign(client, world.own.manager, handover, "hand_over")
    assert response.status_code == 422
    assert "already signed" in refusal(response.get_data(as_text=True))
    assert state(handover) == before


@pytest.mark.parametrize("step", ["hand_over", "receive", "confirm"])
def test_a_wrong_password_writes_nothing(client, world, incoming, step):
    status = {"hand_over": "started", "receive": "handed_over", "confirm": "received"}[step]
    handover = run_to(client, world, incoming, status)
    if step == "hand_over":
        fill_checklist(client, world.own.admin, handover)
    signer = {"hand_over": world.own.manager, "receive": incoming.manager}.get(
        step, world.own.admin
    )
    before = state(handover)
    response = sign(client, signer, handover, step, password="not-my-password")
    assert response.status_code == 422
    assert any(
        "Wrong password" in e for e in field_errors(response.get_data(as_text=True), "password")
    )
    assert state(handover) == before
    response = sign(client, signer, handover, step, password="")
    assert response.status_code == 422
    assert state(handover) == before


# --- the wrong party ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "who", "expected"),
    [
        ("hand_over", "incoming_manager", 403),
        ("hand_over", "outgoing_technician", 403),
        ("hand_over", "own_admin", 403),
        ("hand_over", "third_manager", 404),
        ("hand_over", "foreign_manager", 404),
        ("receive", "outgoing_manager", 403),
        ("receive", "incoming_technician", 403),
        ("receive", "third_manager", 404),
        ("confirm", "foreign_admin", 404),
        ("confirm", "own_officer", 403),
        ("confirm", "incoming_manager", 403),
        ("confirm", "regulator", 403),
        ("confirm", "foreign_director", 404),
    ],
)
def test_the_wrong_party_is_refused_and_nothing_is_written(
    client, world, incoming, step, who, expected
):
    status = {"hand_over": "started", "receive": "handed_over", "confirm": "received"}[step]
    handover = run_to(client, world, incoming, status)
    if step == "hand_over":
        fill_checklist(client, world.own.admin, handover)
    third = make_contractor()
    db.session.commit()
    users = {
        "incoming_manager": incoming.manager,
        "incoming_technician": incoming.technician,
        "outgoing_manager": world.own.manager,
        "outgoing_technician": world.own.technician,
        "own_admin": world.own.admin,
        "own_officer": world.own.officer,
        "third_manager": third.manager,
        "foreign_manager": world.foreign.manager,
        "foreign_admin": world.foreign.admin,
        "foreign_director": world.foreign.director,
        "regulator": world.own.regulator,
    }
    before = state(handover)
    response = sign(client, users[who], handover, step)
    assert response.status_code == expected
    assert client.get(response.request.path).status_code == expected
    assert state(handover) == before


# --- the confirmation is one transaction ------------------------------------------------


def test_a_contract_conflict_refuses_the_confirmation_and_changes_nothing(client, world, incoming):
    day = handover_date()
    handover = run_to(client, world, incoming, "received", day=day)
    # Meanwhile someone entered a future contract with a third contractor that overlaps.
    third = make_contractor()
    elevator = world.own.elevators[1]
    old_end = elevator.contracts[0].end_date
    make_contract(
        elevator,
        third.org,
        start_date=old_end + timedelta(days=1),
        end_date=old_end + timedelta(days=400),
    )
    db.session.commit()
    before = state(handover)
    response = sign(client, world.own.admin, handover, "confirm")
    assert response.status_code == 422
    message = refusal(response.get_data(as_text=True))
    assert third.org.name in message
    assert elevator.equipment_code in message
    assert state(handover) == before
    # The confirm page says so before anyone tries, and offers no signature.
    page = client.get(f"/handovers/{handover.id}/confirm").get_data(as_text=True)
    assert third.org.name in refusal(page)
    assert 'name="password"' not in page


def test_the_registry_refusal_rolls_back_everything(client, world, incoming, monkeypatch):
    """When create_contract itself refuses (the pre-check missed it), nothing remains."""
    day = handover_date()
    handover = run_to(client, world, incoming, "received", day=day)
    third = make_contractor()
    elevator = world.own.elevators[1]
    make_contract(
        elevator, third.org, start_date=day + timedelta(days=30), end_date=day + timedelta(days=60)
    )
    db.session.commit()
    monkeypatch.setattr(services, "contract_problems", lambda *a, **k: [])
    before = state(handover)
    response = sign(client, world.own.admin, handover, "confirm")
    assert response.status_code == 422
    message = refusal(response.get_data(as_text=True))
    assert "already has a contract with" in message
    assert third.org.name in message
    # The first elevator's contract had already been switched in the transaction: undone.
    assert state(handover) == before


def test_a_failure_on_the_last_elevator_rolls_back_the_first(client, world, incoming, monkeypatch):
    handover = run_to(client, world, incoming, "received")
    real_append = records.append
    calls = []

    def failing_append(elevator, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(elevator.id)
        if len(calls) == 2:
            raise DomainError("the disk is full")
        return real_append(elevator, *args, **kwargs)

    monkeypatch.setattr(records, "append", failing_append)
    before = state(handover)
    response = sign(client, world.own.admin, handover, "confirm")
    assert response.status_code == 422
    assert refusal(response.get_data(as_text=True)) == "the disk is full"
    assert len(calls) == 2
    assert state(handover) == before
    monkeypatch.undo()
    assert records.verify([e.id for e in world.own.elevators]).ok


# --- checklist -----------------------------------------------------------------------------


def test_a_no_needs_a_note(client, world, incoming):
    handover = run_to(client, world, incoming, "started")
    log_in(client, world.own.admin)
    before = state(handover)
    response = client.post(f"/handovers/{handover.id}/checklist", data=checklist_form(archive="no"))
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "archive_note")
    assert state(handover) == before


def test_the_checklist_is_frozen_once_handed_over(client, world, incoming):
    handover = run_to(client, world, incoming, "handed_over")
    log_in(client, world.own.admin)
    page = client.get(f"/handovers/{handover.id}/checklist").get_data(as_text=True)
    assert 'name="archive_answer"' not in page
    before = state(handover)
    response = client.post(
        f"/handovers/{handover.id}/checklist", data=checklist_form(archive="no", archive_note="x")
    )
    assert response.status_code == 422
    assert state(handover) == before


def test_the_checklist_lists_the_open_findings_with_their_owner(client, world, incoming):
    from elevator_safety.records.models import Finding
    from tests.factories import make_record

    elevator = world.own.elevators[0]
    source = make_record(elevator, world.own.officer)
    db.session.add(
        Finding(
            elevator_id=elevator.id,
            source_record_id=source.id,
            item_label="层门自动关闭装置失效",
            duty="D9",
            description="5楼层门关闭缓慢",
            owner_organisation_id=world.own.contractor.id,
        )
    )
    db.session.commit()
    handover = run_to(client, world, incoming, "started")
    log_in(client, world.own.admin)
    page = client.get(f"/handovers/{handover.id}/checklist").get_data(as_text=True)
    table = page[page.index('data-testid="open-findings"') :]
    assert "层门自动关闭装置失效" in table
    assert world.own.contractor.name in table
    fill_checklist(client, world.own.admin, handover)
    sign(client, world.own.manager, handover, "hand_over")
    from elevator_safety.records.models import Record, RecordKind

    record = db.session.scalars(
        select(Record).where(Record.elevator_id == elevator.id, Record.kind == RecordKind.handover)
    ).one()
    assert [f["item"] for f in record.data["body"]["open_findings"]] == ["层门自动关闭装置失效"]
    assert record.data["body"]["open_findings"][0]["owner"] == world.own.contractor.name


# --- cancel --------------------------------------------------------------------------------


def test_cancel_needs_a_reason_is_audited_and_stops_the_steps(client, world, incoming):
    from elevator_safety.audit import AuditEntry

    handover = run_to(client, world, incoming, "handed_over")
    log_in(client, world.own.director)
    before = state(handover)
    response = client.post(f"/handovers/{handover.id}/cancel", data={"reason": "  "})
    assert response.status_code == 422
    assert state(handover) == before
    response = client.post(
        f"/handovers/{handover.id}/cancel", data={"reason": "业主大会否决了新维保单位"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Handover, handover.id).status is HandoverStatus.cancelled
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "cancel", AuditEntry.object_id == handover.id)
    ).one()
    assert entry.user_id == world.own.director.id
    assert entry.organisation_id == world.own.org.id
    assert entry.changes_dict == {
        "reason": [None, "业主大会否决了新维保单位"],
        "status": ["handed_over", "cancelled"],
    }
    page = client.get(f"/handovers/{handover.id}").get_data(as_text=True)
    assert "业主大会否决了新维保单位" in page
    # No further step, no second cancellation, the contracts unchanged.
    after = state(handover)
    assert sign(client, incoming.manager, handover, "receive").status_code == 422
    log_in(client, world.own.director)
    assert (
        client.post(f"/handovers/{handover.id}/cancel", data={"reason": "again"}).status_code == 422
    )
    assert state(handover) == after
    assert all(
        c.contractor_id == world.own.contractor.id
        for e in world.own.elevators
        for c in db.session.scalars(select(Contract).where(Contract.elevator_id == e.id))
    )


def test_a_confirmed_handover_cannot_be_cancelled(client, world, incoming):
    handover = run_to(client, world, incoming, "confirmed")
    log_in(client, world.own.admin)
    before = state(handover)
    response = client.post(f"/handovers/{handover.id}/cancel", data={"reason": "too late"})
    assert response.status_code == 422
    assert "confirmed" in refusal(response.get_data(as_text=True))
    assert state(handover) == before
