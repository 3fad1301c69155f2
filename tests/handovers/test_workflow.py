"""The handover workflow end to end: start, checklist, 移交, 接收, confirmation."""

from __future__ import annotations

import json
from datetime import timedelta

import time_machine
from sqlalchemy import select

from elevator_safety.audit import AuditEntry
from elevator_safety.extensions import db
from elevator_safety.records import services as records
from elevator_safety.records.models import Handover, Meaning, Record, RecordKind, Signature
from elevator_safety.registry.models import Contract
from tests.conftest import log_in
from tests.handovers.conftest import (
    fill_checklist,
    handover_date,
    run_to,
    shanghai_noon,
    sign,
    start,
)


def handover_records(elevator_id: int) -> list[Record]:
    return list(
        db.session.scalars(
            select(Record)
            .where(Record.elevator_id == elevator_id, Record.kind == RecordKind.handover)
            .order_by(Record.seq)
        )
    )


def test_full_workflow_switches_the_contracts_and_signs_every_chain(client, world, incoming):
    day = handover_date()
    old = {e.id: e.contracts[0].id for e in world.own.elevators}
    old_ends = {e.id: e.contracts[0].end_date for e in world.own.elevators}
    handover = start(client, world, incoming, day=day, level_plan=["half_monthly", "quarterly"])
    assert handover.status.value == "started"
    assert handover.outgoing_contractor_id == world.own.contractor.id
    fill_checklist(
        client, world.own.director, handover, car_signs="no", car_signs_note="新标牌周一张贴"
    )
    assert sign(client, world.own.manager, handover, "hand_over").status_code == 302
    assert sign(client, incoming.manager, handover, "receive").status_code == 302
    # Nothing switches before the confirmation.
    db.session.expire_all()
    assert all(db.session.get(Contract, c).end_date > day for c in old.values())
    response = sign(client, world.own.admin, handover, "confirm")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Handover, handover.id).status.value == "confirmed"

    for elevator in world.own.elevators:
        ended = db.session.get(Contract, old[elevator.id])
        assert ended.contractor_id == world.own.contractor.id
        assert ended.end_date == day - timedelta(days=1)
        new = db.session.scalars(
            select(Contract).where(
                Contract.elevator_id == elevator.id, Contract.contractor_id == incoming.org.id
            )
        ).one()
        assert (new.start_date, new.end_date) == (day, day + timedelta(days=364))
        assert new.level_plan == "half_monthly,quarterly"
        # One record per step in the elevator's chain, each carrying its signature.
        chain = handover_records(elevator.id)
        assert [r.data["body"]["step"] for r in chain] == ["hand_over", "receive", "confirm"]
        signatures = [
            db.session.scalars(select(Signature).where(Signature.record_id == r.id)).one()
            for r in chain
        ]
        assert [s.meaning for s in signatures] == [
            Meaning.handed_over,
            Meaning.received,
            Meaning.handover_confirmed,
        ]
        assert [s.signer_id for s in signatures] == [
            world.own.manager.id,
            incoming.manager.id,
            world.own.admin.id,
        ]
        assert [s.organisation_name for s in signatures] == [
            world.own.contractor.name,
            incoming.org.name,
            world.own.org.name,
        ]
        body = chain[-1].data["body"]
        assert body["handover_id"] == handover.id
        assert body["outgoing"]["name"] == world.own.contractor.name
        assert body["incoming"]["name"] == incoming.org.name
        assert body["handover_date"] == day.isoformat()
        car_signs = next(i for i in body["checklist"] if i["code"] == "car_signs")
        assert (car_signs["ok"], car_signs["note"]) == (False, "新标牌周一张贴")
        assert body["contracts"]["ended"] == [
            {
                "contract_id": ended.id,
                "old_end": old_ends[elevator.id].isoformat(),
                "new_end": (day - timedelta(days=1)).isoformat(),
            }
        ]
        assert body["contracts"]["started"]["contract_id"] == new.id
    report = records.verify([e.id for e in world.own.elevators])
    assert report.ok, report.problems
    assert report.records == 6
    assert report.signatures == 6
    # Every change is in the property company's audit log.
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.organisation_id == world.own.org.id)
    ).all()
    contract_changes = [e for e in entries if e.object_type == "Contract"]
    assert sorted(e.action for e in contract_changes) == ["create", "create", "update", "update"]
    assert any(
        json.loads(e.changes or "{}").get("end_date", [None, None])[1]
        == (day - timedelta(days=1)).isoformat()
        for e in contract_changes
    )
    statuses = [
        e.changes_dict.get("status")
        for e in entries
        if e.object_type == "Handover" and e.object_id == handover.id
    ]
    assert [None, "started"] in statuses
    assert ["received", "confirmed"] in statuses


def test_the_outgoing_contractor_loses_access_on_the_handover_date(client, world, incoming):
    day = handover_date()
    handover = run_to(client, world, incoming, "confirmed", day=day)
    elevator = world.own.elevators[0]
    url = f"/elevators/{elevator.id}"
    with time_machine.travel(shanghai_noon(day - timedelta(days=1)), tick=False):
        log_in(client, world.own.manager)
        assert client.get(url).status_code == 200
        log_in(client, world.own.technician)
        assert client.get(url).status_code == 200
        log_in(client, incoming.manager)
        assert client.get(url).status_code == 404
    for later in (day, day + timedelta(days=1)):
        with time_machine.travel(shanghai_noon(later), tick=False):
            log_in(client, world.own.manager)
            assert client.get(url).status_code == 404
            log_in(client, world.own.technician)
            assert client.get(url).status_code == 404
            log_in(client, incoming.manager)
            assert client.get(url).status_code == 200
            log_in(client, incoming.technician)
            assert client.get(url).status_code == 200
            # The outgoing contractor keeps seeing the handover it signed, not the elevator.
            log_in(client, world.own.manager)
            page = client.get(f"/handovers/{handover.id}")
            assert page.status_code == 200
            assert f'href="/elevators/{elevator.id}"' not in page.get_data(as_text=True)


def test_an_old_contract_already_ending_before_the_date_is_left_alone(client, world, incoming):
    elevator = world.own.elevators[0]
    contract = elevator.contracts[0]
    contract.end_date = handover_date() - timedelta(days=5)
    db.session.commit()
    day = handover_date()
    run_to(client, world, incoming, "confirmed", day=day, elevators=[elevator])
    db.session.expire_all()
    assert db.session.get(Contract, contract.id).end_date == day - timedelta(days=5)
    new = db.session.scalars(
        select(Contract).where(Contract.elevator_id == elevator.id, Contract.start_date == day)
    ).one()
    assert new.contractor_id == incoming.org.id
    body = handover_records(elevator.id)[-1].data["body"]
    assert body["contracts"]["ended"] == []


def test_a_handover_may_take_over_today(client, world, incoming):
    from elevator_safety.scoping import local_today

    today = local_today()
    run_to(client, world, incoming, "confirmed", day=today)
    elevator = world.own.elevators[0]
    log_in(client, world.own.manager)
    assert client.get(f"/elevators/{elevator.id}").status_code == 404
    log_in(client, incoming.manager)
    assert client.get(f"/elevators/{elevator.id}").status_code == 200


def test_a_resubmitted_signature_form_signs_once(client, world, incoming):
    handover = run_to(client, world, incoming, "started")
    fill_checklist(client, world.own.admin, handover)
    token = "a" * 32
    assert sign(client, world.own.manager, handover, "hand_over", token=token).status_code == 302
    again = sign(client, world.own.manager, handover, "hand_over", token=token)
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/handovers/{handover.id}")
    for elevator in world.own.elevators:
        assert len(handover_records(elevator.id)) == 1
    follow = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "already submitted" in follow


def test_the_elevator_page_offers_a_handover_and_the_form_is_prefilled(client, world, incoming):
    elevator = world.own.elevators[0]
    log_in(client, world.own.admin)
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert f'href="/elevators/{elevator.id}/handovers/new"' in page
    form = client.get(f"/elevators/{elevator.id}/handovers/new").get_data(as_text=True)
    checked = [
        line for line in form.splitlines() if 'name="elevator_ids"' in line and "checked" in line
    ]
    assert len(checked) == 1
    assert f'value="{elevator.id}"' in checked[0]
    # Posting the prefilled form starts the handover of that elevator.
    from tests.handovers.conftest import start_form

    response = client.post(
        f"/elevators/{elevator.id}/handovers/new", data=start_form([elevator], incoming.org)
    )
    assert response.status_code == 302
    handover = db.session.scalars(select(Handover)).one()
    assert [e.id for e in handover.elevators] == [elevator.id]
    # The panel now highlights the open handover and no longer offers to start one.
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="open-handover"' in page
    assert f'href="/handovers/{handover.id}"' in page
    assert f'href="/elevators/{elevator.id}/handovers/new"' not in page
    # Others see the panel without the button.
    log_in(client, world.own.officer)
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="open-handover"' in page
    assert "/handovers/new" not in page
