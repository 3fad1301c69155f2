"""The legal index, the record lists and the elevator page's panel."""

from __future__ import annotations

from datetime import date, timedelta

from elevator_safety.extensions import db
from elevator_safety.legal import services
from elevator_safety.records.models import RecordKind
from elevator_safety.registry.models import ElevatorStatus, InspectionResult
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.factories import make_record


def test_index_lists_due_and_overdue_elevators_in_scope(client, world):
    today = local_today()
    soon, later = world.own.elevators
    soon.next_inspection_due = today + timedelta(days=30)
    later.next_inspection_due = today + timedelta(days=31)
    world.foreign.elevators[0].next_inspection_due = today - timedelta(days=1)
    db.session.commit()
    log_in(client, world.own.officer)
    page = client.get("/legal").get_data(as_text=True)
    assert f'data-elevator="{soon.equipment_code}"' in page
    assert f'data-elevator="{later.equipment_code}"' not in page
    assert world.foreign.elevators[0].equipment_code not in page
    everything = client.get("/legal?state=all").get_data(as_text=True)
    assert later.equipment_code in everything
    assert [e.id for e in services.inspections_due(world.own.officer)] == [soon.id]
    assert [e.id for e in services.inspections_due(world.own.officer, within_days=31)] == [
        soon.id,
        later.id,
    ]


def test_index_filters_overdue_failed_and_unknown(client, world):
    today = local_today()
    overdue, failed = world.own.elevators
    overdue.next_inspection_due = today - timedelta(days=1)
    failed.next_inspection_due = today + timedelta(days=200)
    failed.last_inspection_result = InspectionResult.failed
    db.session.commit()
    log_in(client, world.own.director)
    page = client.get("/legal?state=overdue").get_data(as_text=True)
    assert overdue.equipment_code in page
    assert failed.equipment_code not in page
    assert "Overdue: must not be used" in page
    page = client.get("/legal?state=failed").get_data(as_text=True)
    assert failed.equipment_code in page
    assert overdue.equipment_code not in page
    page = client.get("/legal?state=unknown").get_data(as_text=True)
    assert "No elevators match." in page
    assert client.get("/legal?state=bogus").status_code == 200


def test_decommissioned_elevators_are_left_out(client, world):
    elevator = world.own.elevators[0]
    elevator.next_inspection_due = local_today() - timedelta(days=5)
    elevator.status = ElevatorStatus.decommissioned
    db.session.commit()
    assert services.inspections_due(world.own.officer) == []


def test_panel_hard_stop_when_overdue(client, world):
    elevator = world.own.elevators[0]
    elevator.next_inspection_due = local_today() - timedelta(days=1)
    db.session.commit()
    log_in(client, world.own.officer)
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="legal-panel"' in page
    assert 'data-testid="inspection-stop"' in page
    assert "The inspection is overdue" in page
    assert 'data-testid="inspection-lockout"' in page
    assert 'data-testid="record-addition"' in page


def test_panel_apply_now_inside_the_application_window(client, world):
    elevator = world.own.elevators[0]
    elevator.next_inspection_due = local_today() + timedelta(days=10)
    db.session.commit()
    log_in(client, world.own.regulator)
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert "Apply now" in page
    assert 'data-testid="inspection-stop"' not in page
    assert 'data-testid="record-inspection"' not in page
    assert 'data-testid="record-misuse"' not in page


def test_state_computes_kind_and_apply_by(app, world):
    elevator = world.own.elevators[0]  # accepted 2015-06-01
    elevator.last_inspection_date = date(2025, 5, 20)
    elevator.next_inspection_due = date(2026, 6, 1)
    state = services.inspection_state(elevator, date(2026, 5, 2))
    assert (state.kind, state.year) == ("inspection", 11)
    assert state.apply_by == date(2026, 5, 2)
    assert state.apply_now
    assert not state.overdue
    assert not services.inspection_state(elevator, date(2026, 5, 1)).apply_now
    assert services.inspection_state(elevator, date(2026, 6, 2)).must_not_be_used
    assert not services.inspection_state(elevator, date(2026, 6, 1)).overdue


def test_record_lists_are_scoped(client, world):
    mine = make_record(
        world.own.elevators[0],
        world.own.officer,
        {"type": "self_test", "result": "passed", "report_no": "Z1", "items": []},
        kind=RecordKind.inspection,
    )
    theirs = make_record(
        world.foreign.elevators[0],
        world.foreign.officer,
        {"type": "inspection", "result": "failed", "report_no": "Z2", "items": []},
        kind=RecordKind.inspection,
    )
    db.session.commit()
    log_in(client, world.own.technician)
    page = client.get("/legal/inspections").get_data(as_text=True)
    assert f'data-record="{mine.id}"' in page
    assert f'data-record="{theirs.id}"' not in page
    filtered = client.get(f"/legal/inspections?elevator={world.own.elevators[1].id}")
    assert f'data-record="{mine.id}"' not in filtered.get_data(as_text=True)
    assert (
        client.get(f"/legal/inspections?elevator={world.foreign.elevators[0].id}").status_code
        == 404
    )
    assert client.get("/legal/additions").status_code == 200
    assert client.get("/legal/misuse").status_code == 200


def test_without_any_test_on_file_an_old_elevator_is_not_declared_overdue(client, world):
    elevator = world.own.elevators[0]  # accepted 2015, no test, no due date on file
    state = services.inspection_state(elevator, date(2026, 11, 28))
    assert state.due_on is None
    assert state.kind is None
    assert not state.must_not_be_used
    log_in(client, world.own.officer)
    page = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="no-test"' in page
    assert 'data-testid="inspection-stop"' not in page


def test_a_new_elevator_without_tests_is_due_on_its_first_anniversary(app, world):
    elevator = world.own.elevators[0]
    elevator.acceptance_date = date(2026, 3, 10)
    state = services.inspection_state(elevator, date(2026, 11, 28))
    assert (state.due_on, state.kind, state.year) == (date(2027, 3, 10), "inspection", 1)
    assert state.apply_by == date(2027, 2, 8)
    assert not state.overdue
