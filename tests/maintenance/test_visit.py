"""Recording a maintenance visit: what is stored, and what is refused (nothing written)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from elevator_safety.extensions import db
from elevator_safety.maintenance import services
from elevator_safety.maintenance.items import field_name, items_for, note_name
from elevator_safety.records import services as records_services
from elevator_safety.records.models import Finding, Meaning, Record, RecordKind, Severity
from elevator_safety.registry.models import ElevatorKind, MaintenanceLevel
from tests.factories import make_contract, make_elevator, make_user, png_bytes
from tests.maintenance.conftest import (
    checked_value,
    counts,
    field_errors,
    visit_form,
    visit_input,
)


def url(elevator) -> str:  # type: ignore[no-untyped-def]
    return f"/elevators/{elevator.id}/maintenance/new"


def only_record() -> Record:
    records = db.session.scalars(select(Record)).all()
    assert len(records) == 1
    return records[0]


# --- the form ------------------------------------------------------------------


def test_form_defaults_every_item_to_done_and_says_so(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    body = client.get(url(elevator)).get_data(as_text=True)
    half = items_for(ElevatorKind.traction, MaintenanceLevel.half_monthly)
    assert body.count('data-item="') == 31
    for item in half:
        assert checked_value(body, field_name(item.code)) == "done"
        assert item.text in body
    assert 'data-testid="items-default-note"' in body
    assert 'data-testid="list-incomplete"' not in body
    assert checked_value(body, "technicians") == str(tech.id)


def test_form_shows_the_cumulative_items_of_the_level_asked_for(client, world, login_as, now):
    login_as("technician")
    elevator = world.own.elevators[0]
    body = client.get(url(elevator) + "?level=annual").get_data(as_text=True)
    assert body.count('data-item="') == 76


def test_form_offers_only_the_levels_of_the_plan(client, world, login_as, now):
    login_as("technician")
    elevator = world.own.elevators[0]
    elevator.contracts[0].level_plan = "half_monthly,quarterly"
    db.session.commit()
    body = client.get(url(elevator)).get_data(as_text=True)
    assert 'value="half_monthly"' in body
    assert 'value="quarterly"' in body
    assert 'value="annual"' not in body


def test_changing_the_level_keeps_the_answers_and_writes_nothing(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech, level="quarterly", reload="1")
    data[field_name("A-1.3")] = "adjusted"
    data[note_name("A-1.3")] = "调整制动器间隙"
    before = counts()
    response = client.post(url(elevator), data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.count('data-item="') == 44
    assert checked_value(body, field_name("A-1.3")) == "adjusted"
    assert "调整制动器间隙" in body
    assert checked_value(body, field_name("A-2.1")) == "done"  # new items start as done
    assert counts() == before


def test_an_incomplete_list_is_announced_and_takes_free_text_items(client, world, login_as, now):
    tech = login_as("technician")
    hydraulic = make_elevator(world.own.site, world.own.officer, kind=ElevatorKind.hydraulic)
    make_contract(hydraulic, world.own.contractor)
    db.session.commit()
    body = client.get(url(hydraulic)).get_data(as_text=True)
    assert 'data-testid="list-incomplete"' in body
    assert 'name="extra_items-0-text"' in body

    before = counts()
    response = client.post(url(hydraulic), data=visit_form(hydraulic, tech))
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "extra_items")
    assert counts() == before

    data = visit_form(
        hydraulic,
        tech,
        **{
            "extra_items-0-text": "油箱油位检查",
            "extra_items-0-result": "done",
            "extra_items-1-text": "液压管路渗漏",
            "extra_items-1-result": "adjusted",
            "extra_items-1-note": "紧固接头",
        },
    )
    assert client.post(url(hydraulic), data=data).status_code == 302
    body = only_record().data["body"]
    assert body["checklist"]["status"] == "incomplete"
    assert body["items"] == []
    assert body["extra_items"] == [
        {"item": "油箱油位检查", "result": "done", "note": None},
        {"item": "液压管路渗漏", "result": "adjusted", "note": "紧固接头"},
    ]


# --- a valid visit --------------------------------------------------------------


def test_a_valid_visit_is_stored_signed_and_chained(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech, level="quarterly")
    data[field_name("A-1.5")] = "adjusted"
    data[note_name("A-1.5")] = "间隙调至0.5mm"
    data[field_name("A-2.2")] = "replaced"
    data["parts_replaced"] = "制动衬 x2\n\n  门导靴  "
    data["remarks"] = "运行正常"
    response = client.post(url(elevator), data=data)
    assert response.status_code == 302
    record = only_record()
    assert response.headers["Location"].endswith(f"/records/{record.id}")
    assert record.kind == RecordKind.maintenance
    assert record.level == "quarterly"
    assert record.organisation_id == world.own.contractor.id
    today = now.date()
    assert record.occurred_on == today
    assert record.occurred_at == now.replace(hour=9, minute=0).astimezone(record.occurred_at.tzinfo)
    body = record.data["body"]
    assert len(body["items"]) == 44
    by_code = {i["code"]: i for i in body["items"]}
    assert by_code["A-1.5"] == {
        "code": "A-1.5",
        "level": "half_monthly",
        "item": "制动器间隙",
        "result": "adjusted",
        "note": "间隙调至0.5mm",
    }
    assert by_code["A-2.2"]["result"] == "replaced"
    assert by_code["A-1.1"]["result"] == "done"
    assert body["parts_replaced"] == ["制动衬 x2", "门导靴"]
    assert body["technicians"] == [
        {"user_id": tech.id, "name": tech.name, "certificate_no": "T-1234", "source": "account"},
        {"user_id": None, "name": "李四", "certificate_no": "T-5678", "source": "typed"},
    ]
    assert body["arrival_at"] == f"{today.isoformat()}T01:00:00Z"  # 09:00 in Shanghai
    assert body["departure_at"] == f"{today.isoformat()}T02:30:00Z"
    assert body["contract"]["contractor_id"] == world.own.contractor.id
    assert body["checklist"]["id"] == "tsg-t5002-2017-appendix-a"
    assert body["remarks"] == "运行正常"
    signatures = record_signatures(record)
    assert [(s.meaning, s.signer_id, s.subject_id) for s in signatures] == [
        (Meaning.submitted, tech.id, record.id)
    ]
    assert signatures[0].content_hash == records_services.body_hash(record.data)
    assert records_services.verify().ok
    assert services.state_of(record) == services.AWAITING


def record_signatures(record: Record):  # type: ignore[no-untyped-def]
    from elevator_safety.records.models import Signature

    return db.session.scalars(select(Signature).where(Signature.record_id == record.id)).all()


def test_a_contractor_manager_may_record_too(client, world, login_as, now):
    manager = login_as("contractor_manager")
    elevator = world.own.elevators[1]
    data = visit_form(elevator, world.own.technician)
    data["coworkers-0-name"] = "王五"
    data["coworkers-0-certificate_no"] = "T-9999"
    assert client.post(url(elevator), data=data).status_code == 302
    record = only_record()
    assert record.author_id == manager.id


def test_double_submission_with_the_same_token_creates_one_record(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech, token="a" * 32)
    first = client.post(url(elevator), data=data)
    second = client.post(url(elevator), data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert counts()["Record"] == 1


def test_a_problem_found_becomes_a_finding_of_the_property_company(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(
        elevator,
        tech,
        **{
            "problems-0-description": "底坑有积水",
            "problems-0-severity": "serious",
            "problems-0-photo": (io.BytesIO(png_bytes(color="green")), "pit.png"),
            "problems-1-description": "轿厢照明一灯不亮",
            "problems-1-severity": "ordinary",
            "photos": [(io.BytesIO(png_bytes(color="yellow")), "visit.png")],
        },
    )
    response = client.post(url(elevator), data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    record = only_record()
    findings = db.session.scalars(select(Finding).order_by(Finding.id)).all()
    assert [(f.description, f.severity) for f in findings] == [
        ("底坑有积水", Severity.serious),
        ("轿厢照明一灯不亮", Severity.ordinary),
    ]
    body = record.data["body"]
    assert findings[0].photo_hashes == [body["problems"][0]["photo"]]
    assert findings[1].photo_hashes == []
    for finding in findings:
        assert finding.source_record_id == record.id
        assert finding.elevator_id == elevator.id
        assert finding.owner_organisation_id == world.own.org.id
        assert finding.duty == "D9"
    assert len(body["photos"]) == 1
    photo = client.get(f"/photos/{body['photos'][0]}")
    photo.close()  # a file response holds the file open until closed
    assert photo.status_code == 200
    detail = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert "底坑有积水" in detail


# --- refused: nothing written ---------------------------------------------------


def refused(client, elevator, data):  # type: ignore[no-untyped-def]
    """Post a visit that must be refused; return the re-rendered page."""
    before = counts()
    response = client.post(url(elevator), data=data)
    assert response.status_code == 422
    assert counts() == before
    body = response.get_data(as_text=True)
    assert 'data-testid="visit-refused"' in body
    return body


def test_wrong_password_writes_nothing(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    body = refused(client, elevator, visit_form(elevator, tech, password="wrong-one"))
    assert field_errors(body, "password")


def test_departure_before_arrival_is_refused_with_the_answers_kept(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech, arrival="11:00", departure="10:00")
    data[field_name("A-1.7")] = "not_applicable"
    data[note_name("A-1.7")] = "无编码器"
    data["remarks"] = "我的备注"
    body = refused(client, elevator, data)
    assert field_errors(body, "departure") == ["The departure must be after the arrival."]
    assert checked_value(body, field_name("A-1.7")) == "not_applicable"
    assert "无编码器" in body
    assert "我的备注" in body
    assert 'value="11:00"' in body
    assert "李四" in body
    assert "T-5678" in body


def test_a_visit_on_a_future_day_is_refused(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    body = refused(client, elevator, visit_form(elevator, tech, day=now.date() + timedelta(days=1)))
    assert field_errors(body, "visit_date") == ["The visit date is in the future."]


def test_a_visit_later_today_is_refused(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    body = refused(client, elevator, visit_form(elevator, tech, arrival="14:00", departure="16:00"))
    assert field_errors(body, "departure") == ["The departure time is in the future."]
    body = refused(client, elevator, visit_form(elevator, tech, arrival="15:30", departure="16:00"))
    assert field_errors(body, "arrival") == ["The arrival time is in the future."]


def test_a_level_not_in_the_plan_is_refused(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    elevator.contracts[0].level_plan = "half_monthly,quarterly"
    db.session.commit()
    body = refused(client, elevator, visit_form(elevator, tech, level="annual"))
    (message,) = field_errors(body, "level")
    assert "not in the maintenance plan" in message


def test_one_technician_only_is_refused(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech)
    data["coworkers-0-name"] = ""
    data["coworkers-0-certificate_no"] = ""
    body = refused(client, elevator, data)
    assert field_errors(body, "technicians") == [
        "At least 2 technicians must be present, each with an operator certificate number."
    ]


def test_a_technician_without_certificate_is_refused(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    manager = world.own.manager  # no certificate number on record
    data = visit_form(elevator, tech, technicians=[str(tech.id), str(manager.id)])
    data["coworkers-0-name"] = ""
    data["coworkers-0-certificate_no"] = ""
    body = refused(client, elevator, data)
    messages = field_errors(body, "technicians")
    assert any(manager.name in m and "no operator certificate" in m for m in messages)


def test_a_typed_coworker_needs_a_certificate_number(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    body = refused(
        client, elevator, visit_form(elevator, tech, **{"coworkers-0-certificate_no": ""})
    )
    assert field_errors(body, "coworkers-0-certificate_no") == [
        "Give the technician's operator certificate number."
    ]


def test_a_technician_of_another_company_cannot_be_chosen(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    other = world.foreign.technician
    body = refused(client, elevator, visit_form(elevator, tech, technicians=[str(other.id)]))
    assert "Choose technicians of your own company." in field_errors(body, "technicians")


def test_a_missing_answer_is_marked_and_not_filled_in(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech)
    del data[field_name("A-1.9")]
    body = refused(client, elevator, data)
    assert field_errors(body, field_name("A-1.9")) == ["Answer this item."]
    assert checked_value(body, field_name("A-1.9")) is None
    assert checked_value(body, field_name("A-1.8")) == "done"


def test_a_replaced_part_must_be_named(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech)
    data[field_name("A-1.13")] = "replaced"
    body = refused(client, elevator, data)
    assert field_errors(body, "parts_replaced")


def test_several_problems_are_shown_at_once(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech, arrival="", departure="", password="")
    data["coworkers-0-name"] = ""
    body = refused(client, elevator, data)
    assert field_errors(body, "arrival") == ["Give the arrival time."]
    assert field_errors(body, "departure") == ["Give the departure time."]
    assert field_errors(body, "password")
    assert field_errors(body, "coworkers-0-name") == ["Give the technician's name."]


def test_a_bad_photo_is_refused_and_nothing_written(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech, photos=[(io.BytesIO(b"not an image"), "x.jpg")])
    before = counts()
    response = client.post(url(elevator), data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "photos")
    assert counts() == before


def test_unknown_elevator_is_404(client, world, login_as, now):
    tech = login_as("technician")
    before = counts()
    assert client.get("/elevators/999999/maintenance/new").status_code == 404
    data = visit_form(world.own.elevators[0], tech)
    assert client.post("/elevators/999999/maintenance/new", data=data).status_code == 404
    assert counts() == before


# --- only the contractor with the active contract -----------------------------


def test_the_foreign_contractor_is_refused_on_our_elevator(client, world, login_as, now):
    tech = login_as("technician", "foreign")
    elevator = world.own.elevators[0]
    before = counts()
    assert client.get(url(elevator)).status_code == 404
    assert client.post(url(elevator), data=visit_form(elevator, tech)).status_code == 404
    assert counts() == before


def test_a_contract_that_ended_yesterday_refuses_the_contractor(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    contract = elevator.contracts[0]
    contract.end_date = now.date() - timedelta(days=1)
    db.session.commit()
    before = counts()
    assert client.get(url(elevator)).status_code == 404
    assert client.post(url(elevator), data=visit_form(elevator, tech)).status_code == 404
    assert counts() == before
    # The service refuses too, whoever calls it.
    with pytest.raises(services.VisitRefused) as refused_error:
        services.record_visit(
            elevator, tech, visit_input(elevator, tech, day=now.date()), "correct-horse-9"
        )
    assert "no maintenance contract in force" in refused_error.value.problems["visit_date"][0]
    db.session.rollback()
    assert counts() == before


def test_a_visit_before_the_contract_started_is_refused_with_a_message(
    client, world, login_as, now
):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    elevator.contracts[0].start_date = now.date()
    db.session.commit()
    body = refused(client, elevator, visit_form(elevator, tech, day=now.date() - timedelta(days=2)))
    (message,) = field_errors(body, "visit_date")
    assert "no maintenance contract in force" in message


def test_a_technician_of_a_new_contractor_takes_over(client, world, login_as, now):
    """After a change of contractor, only the new one records; the old one is refused."""
    from elevator_safety.auth.models import OrgKind, Role
    from tests.factories import make_org

    elevator = world.own.elevators[0]
    old = elevator.contracts[0]
    old.end_date = now.date() - timedelta(days=1)
    newcomer = make_org(OrgKind.contractor)
    new_tech = make_user(newcomer, Role.technician, certificate_no="N-1")
    make_contract(
        elevator, newcomer, start_date=now.date(), end_date=now.date() + timedelta(days=365)
    )
    db.session.commit()
    login_as("technician")
    assert client.get(url(elevator)).status_code == 404
    from tests.conftest import log_in

    log_in(client, new_tech)
    assert client.post(url(elevator), data=visit_form(elevator, new_tech)).status_code == 302
    assert only_record().organisation_id == newcomer.id


@pytest.mark.parametrize("role", ["admin", "safety_director", "safety_officer", "regulator"])
def test_other_roles_may_not_record(client, world, login_as, now, role):
    login_as(role)
    elevator = world.own.elevators[0]
    before = counts()
    assert client.get(url(elevator)).status_code == 403
    assert (
        client.post(url(elevator), data=visit_form(elevator, world.own.technician)).status_code
        == 403
    )
    assert counts() == before


def test_an_unknown_level_is_refused(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech)
    data["level"] = "weekly"
    body = refused(client, elevator, data)
    assert field_errors(body, "level") == ["Choose one of the maintenance levels."]


def test_no_contract_on_the_sites_day_shows_a_clear_message(client, world, login_as, now):
    """At 15:00 in Shanghai it is still yesterday in Los Angeles, before the contract."""
    login_as("technician")
    elevator = world.own.elevators[0]
    elevator.site.timezone = "America/Los_Angeles"
    elevator.contracts[0].start_date = now.date()
    db.session.commit()
    before = counts()
    response = client.get(url(elevator))
    assert response.status_code == 403
    assert 'data-testid="no-contract"' in response.get_data(as_text=True)
    assert client.post(url(elevator), data={}).status_code == 403
    assert counts() == before


def test_a_problem_photo_needs_a_description(client, world, login_as, now):
    tech = login_as("technician")
    elevator = world.own.elevators[0]
    data = visit_form(elevator, tech, **{"problems-0-photo": (io.BytesIO(png_bytes()), "p.png")})
    before = counts()
    response = client.post(url(elevator), data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert field_errors(body, "problems-0-description") == ["Describe the problem."]
    assert "Photos must be chosen again." in body
    assert counts() == before
