"""Inspection reports: the record, the rectifications, the elevator's dates, every refusal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.legal import services
from elevator_safety.records.models import Finding, FindingSource, Record, RecordKind, Severity
from elevator_safety.registry.models import InspectionResult
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.legal.conftest import inspection_form, post


def url(elevator) -> str:  # type: ignore[no-untyped-def]
    return f"/elevators/{elevator.id}/inspections/new"


def count(kind: RecordKind = RecordKind.inspection) -> int:
    return db.session.scalar(select(func.count()).select_from(Record).where(Record.kind == kind))


def test_form_shows_the_cycle_and_proposes_the_due_kind(client, world):
    log_in(client, world.own.officer)
    page = client.get(url(world.own.elevators[0]))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "years 1, 4, 7, 9, 11, 13 and 15" in text
    assert 'data-testid="inspection-form"' in text


def test_officer_records_a_passed_inspection_and_the_elevator_is_updated(client, world):
    elevator = world.own.elevators[0]  # accepted 2015-06-01
    log_in(client, world.own.officer)
    response = post(client, url(elevator), inspection_form())
    assert response.status_code == 302
    record = db.session.scalar(select(Record).where(Record.kind == RecordKind.inspection))
    assert response.headers["Location"].endswith(f"/records/{record.id}")
    body = record.data["body"]
    assert body["type"] == "inspection"
    assert body["inspected_on"] == "2025-05-20"
    assert body["report_no"] == "DJ-2025-0001"
    assert body["result"] == "passed"
    assert body["items"] == []
    # Done within two months of the 10th anniversary (2025-06-01): year 11 is next.
    assert body["next_due"] == "2026-06-01"
    assert body["next_due_kind"] == "inspection"
    assert body["next_due_year"] == 11
    assert record.data["signatures"][0]["meaning"] == "recorded"
    db.session.refresh(elevator)
    assert elevator.last_inspection_date == date(2025, 5, 20)
    assert elevator.last_inspection_result == InspectionResult.passed
    assert elevator.next_inspection_due == date(2026, 6, 1)
    audit = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "Elevator", AuditEntry.object_id == elevator.id
        )
    )
    assert audit is not None
    assert audit.changes_dict["next_inspection_due"] == [None, "2026-06-01"]
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert 'data-testid="inspection-record"' in page
    assert "DJ-2025-0001" in page
    assert "2026-06-01" in page


def test_each_item_opens_a_rectification(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.officer)
    form = inspection_form(
        result="passed_after_rectification",
        **{
            "items-0-description": "Landing door gap too wide on floor 3",
            "items-0-severity": "serious",
            "items-2-description": "Pit lighting weak",
        },
    )
    assert post(client, url(elevator), form).status_code == 302
    record = db.session.scalar(select(Record).where(Record.kind == RecordKind.inspection))
    findings = db.session.scalars(select(Finding).order_by(Finding.id)).all()
    assert [f.item_label for f in findings] == [
        "Landing door gap too wide on floor 3",
        "Pit lighting weak",
    ]
    assert [f.severity for f in findings] == [Severity.serious, Severity.ordinary]
    for finding in findings:
        assert finding.source == FindingSource.inspection
        assert finding.duty == "D9"
        assert finding.source_record_id == record.id
        assert finding.source_reference == "DJ-2025-0001"
        assert finding.owner_organisation_id == world.own.org.id
        assert finding.elevator_id == elevator.id
    assert len(record.data["body"]["items"]) == 2


def test_a_failed_inspection_says_stop_and_links_the_lockout(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.officer)
    response = post(client, url(elevator), inspection_form(result="failed"))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "must not be used" in page
    assert f"/elevators/{elevator.id}/lockouts/new?cause=inspection" in page
    panel = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert 'data-testid="inspection-stop"' in panel


def test_contractor_records_a_self_test(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.technician)
    page = client.get(url(elevator)).get_data(as_text=True)
    assert 'value="inspection"' not in page
    response = post(client, url(elevator), inspection_form(type="self_test", report_no="ZJ-1"))
    assert response.status_code == 302
    record = db.session.scalar(select(Record).where(Record.kind == RecordKind.inspection))
    assert record.data["body"]["type"] == "self_test"
    assert record.organisation_id == world.own.contractor.id


def test_contractor_may_not_record_a_periodic_inspection(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.manager)
    response = post(client, url(elevator), inspection_form(type="inspection"))
    assert response.status_code == 422
    assert count() == 0


def test_the_service_refuses_a_periodic_inspection_by_a_contractor(app, world):
    data = services.InspectionInput(
        type="inspection",
        inspected_on=date(2025, 5, 20),
        inspection_body="Body",
        report_no="X",
        result="passed",
    )
    with pytest.raises(DomainError) as refused:
        services.record_inspection(
            world.own.elevators[0], world.own.technician, "whatever", data, now=_now()
        )
    assert refused.value.field == "type"


def _now():  # type: ignore[no-untyped-def]
    from elevator_safety.db import now_utc

    return now_utc()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "wrong"}, "password"),
        ({"inspected_on": "2999-01-01"}, "inspected_on"),
        ({"inspected_on": "2015-05-31"}, "inspected_on"),
        ({"inspected_on": "not a date"}, "inspected_on"),
        ({"result": "maybe"}, "result"),
        ({"type": ""}, "type"),
        ({"report_no": ""}, "report_no"),
        ({"inspection_body": "  "}, "inspection_body"),
        ({"items-0-description": "x", "items-0-severity": "fatal"}, "items-0-severity"),
    ],
)
def test_refusals_write_nothing_and_name_the_field(client, world, overrides, field):
    elevator = world.own.elevators[0]
    log_in(client, world.own.officer)
    response = post(client, url(elevator), inspection_form(**overrides))
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.get_data(as_text=True)
    assert count() == 0
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 0
    db.session.refresh(elevator)
    assert elevator.last_inspection_date is None


def test_an_older_report_keeps_the_newer_dates(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.officer)
    assert post(client, url(elevator), inspection_form()).status_code == 302
    older = inspection_form(inspected_on="2024-05-20", report_no="DJ-2024", result="failed")
    response = post(client, url(elevator), older)
    assert response.status_code == 302
    assert count() == 2
    db.session.refresh(elevator)
    assert elevator.last_inspection_date == date(2025, 5, 20)
    assert elevator.last_inspection_result == InspectionResult.passed
    assert elevator.next_inspection_due == date(2026, 6, 1)


def test_without_acceptance_date_the_next_test_is_a_year_later(client, world):
    elevator = world.own.elevators[0]
    elevator.acceptance_date = None
    db.session.commit()
    log_in(client, world.own.officer)
    response = post(client, url(elevator), inspection_form())
    assert response.status_code == 302
    db.session.refresh(elevator)
    assert elevator.next_inspection_due == date(2026, 5, 20)
    record = db.session.scalar(select(Record).where(Record.kind == RecordKind.inspection))
    assert record.data["body"]["next_due_kind"] is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "no acceptance date" in page


def test_a_resubmitted_form_records_once(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.officer)
    form = inspection_form(**{"items-0-description": "Fix the light"})
    first = post(client, url(elevator), form)
    second = post(client, url(elevator), form)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert count() == 1
    assert db.session.scalar(select(func.count()).select_from(Finding)) == 1


@pytest.mark.parametrize("role", ["admin", "regulator"])
def test_other_roles_are_refused(client, world, role):
    user = world.own.admin if role == "admin" else world.own.regulator
    log_in(client, user)
    assert post(client, url(world.own.elevators[0]), inspection_form()).status_code == 403
    assert count() == 0


def test_a_foreign_elevator_is_not_found(client, world):
    log_in(client, world.own.officer)
    assert post(client, url(world.foreign.elevators[0]), inspection_form()).status_code == 404


def test_a_contractor_without_a_contract_is_refused(client, world):
    elevator = world.own.elevators[0]
    for contract in elevator.contracts:
        contract.end_date = local_today() - timedelta(days=1)
        contract.start_date = contract.end_date - timedelta(days=30)
    db.session.commit()
    log_in(client, world.own.technician)
    assert post(client, url(elevator), inspection_form(type="self_test")).status_code == 404
