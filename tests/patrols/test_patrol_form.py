"""The patrol form: a full patrol, failed items, readings, bad input, signing, resubmission."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from elevator_safety.extensions import db
from elevator_safety.patrols import checklists
from elevator_safety.records import services as records
from elevator_safety.records.models import Finding, Meaning, Photo, Severity, Signature
from elevator_safety.registry.models import ElevatorKind, ElevatorStatus
from tests.conftest import log_in
from tests.factories import make_elevator, make_record
from tests.patrols.helpers import (
    checked,
    counts,
    field_errors,
    form_url,
    input_value,
    latest_record,
    patrol_data,
    png_upload,
    post,
    stored_files,
)

NOTHING = {"records": 0, "signatures": 0, "findings": 0, "photos": 0, "files": 0}


def findings() -> list[Finding]:
    return list(db.session.scalars(select(Finding).order_by(Finding.id)))


# --- the form -------------------------------------------------------------------


def test_form_groups_items_by_duty_with_big_choices_and_camera_photos(client, world, officer):
    elevator = world.own.elevators[0]
    response = client.get(form_url(elevator))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    duties = re.findall(r'<fieldset class="card duty-group" data-duty="([^"]+)"', body)
    assert duties == ["D2", "D3", "D5", "D6", "D7", "D10", "D3-misuse"]
    assert 'data-testid="checklist-version"' in body
    assert "version 1" in body
    assert '<input id="doors__result-0" name="doors__result" type="radio" value="pass">' in body
    for choice in ("pass", "fail", "na"):
        assert f'data-choice="{choice}"' in body
    assert re.search(
        r'<input[^>]*accept="image/\*"[^>]*capture="environment"[^>]*name="doors__photo"'
        r'[^>]*type="file"',
        body,
    )
    assert 'inputmode="decimal"' in body
    assert "Limits: 5–40 °C" in body
    assert "Limits: ≤ 85 %RH" in body
    assert 'enctype="multipart/form-data"' in body
    assert 'name="password"' in body
    # The ten prohibited acts, and no inline script or style (CSP).
    select_html = re.search(r'<select[^>]*name="misuse_act".*?</select>', body, re.S)
    assert select_html is not None
    values = re.findall(r'<option[^>]*value="([^"]*)"', select_html.group(0))
    assert values[0] == ""
    assert len(values[1:]) == 10
    assert "e_bike" in values
    assert "style=" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)


def test_escalator_gets_the_escalator_checklist_in_chinese(client, world):
    escalator = make_elevator(world.own.site, world.own.officer, kind=ElevatorKind.escalator)
    db.session.commit()
    log_in(client, world.own.officer)  # no locale: the default, Chinese
    body = client.get(form_url(escalator)).get_data(as_text=True)
    assert checklists.current_for("escalator").item("comb_plates").label_zh in body
    assert 'name="comb_plates__result"' in body
    assert 'name="doors__result"' not in body


# --- a full patrol ----------------------------------------------------------------


def test_full_patrol_is_stored_signed_and_in_the_chain(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(elevator, note="All good.")
    response = post(client, elevator, data)
    assert response.status_code == 302
    record = latest_record()
    assert response.headers["Location"].endswith(f"/records/{record.id}")
    assert record.kind.value == "patrol"
    assert record.idempotency_key == data["idempotency_key"]
    body = record.data["body"]
    assert body["checklist"] == "patrol-elevator"
    assert body["checklist_version"] == 1
    assert body["out_of_service"] is False
    assert body["note"] == "All good."
    temperature = body["items"]["machine_room_temperature"]
    assert temperature == {
        "duty": "D5",
        "max": "40",
        "min": "5",
        "note": None,
        "photos": [],
        "result": "pass",
        "severity": None,
        "unit": "°C",
        "value": "22.5",
    }
    assert body["items"]["machine_room_humidity"]["value"] == "60"
    assert body["items"]["doors"]["result"] == "pass"
    assert '"22.5"' in record.content  # readings are strings, never floats
    signature = db.session.scalar(select(Signature).where(Signature.record_id == record.id))
    assert signature.meaning == Meaning.submitted
    assert signature.signer_id == officer.id
    assert signature.content_hash == records.body_hash(record.data)
    assert findings() == []
    assert records.verify().ok
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Patrol recorded and signed (#1 in the chain)." in page


def test_wrong_password_writes_nothing_and_keeps_the_answers(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(
        elevator,
        password="not-my-password",
        doors__result="fail",
        doors__note="Door hesitates.",
        doors__photo=png_upload(),
    )
    response = post(client, elevator, data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(body, "password") == ["Wrong password: the signature was not made."]
    assert checked(body, "doors__result") == "fail"
    assert "Door hesitates." in body
    assert counts() == NOTHING
    assert stored_files() == []


def test_failed_item_opens_a_finding_with_photo_and_severity(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(
        elevator,
        doors__result="fail",
        doors__note="Landing door 3 scrapes when closing.",
        doors__serious="y",
        doors__photo=png_upload(),
        use_sign__result="fail",
    )
    response = post(client, elevator, data)
    assert response.status_code == 302
    record = latest_record()
    photo = db.session.scalar(select(Photo))
    assert photo is not None
    assert photo.elevator_id == elevator.id
    item = record.data["body"]["items"]["doors"]
    assert item["result"] == "fail"
    assert item["severity"] == "serious"
    assert item["photos"] == [photo.sha256]
    use_sign, doors = findings()  # in checklist order
    assert (doors.item_code, doors.duty, doors.severity) == ("doors", "D3", Severity.serious)
    assert doors.source_record_id == record.id
    assert doors.elevator_id == elevator.id
    assert doors.description == "Landing door 3 scrapes when closing."
    assert doors.photo_hashes == [photo.sha256]
    assert doors.owner_organisation_id == world.own.org.id
    assert doors.item_label == "门开关顺畅，无异响、无迟滞"  # the installation's language
    assert (use_sign.item_code, use_sign.duty, use_sign.severity) == (
        "use_sign",
        "D2",
        Severity.ordinary,
    )
    assert use_sign.description  # generated when the officer wrote no note
    assert use_sign.photo_hashes == []
    assert len(stored_files()) == 1
    assert records.verify().ok


def test_reading_out_of_range_fails_and_opens_a_finding(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(
        elevator, machine_room_temperature__value="41.5", machine_room_humidity__value="85"
    )
    assert post(client, elevator, data).status_code == 302
    items = latest_record().data["body"]["items"]
    assert items["machine_room_temperature"]["result"] == "fail"
    assert items["machine_room_temperature"]["value"] == "41.5"
    assert items["machine_room_humidity"]["result"] == "pass"  # 85 is within ≤ 85
    (finding,) = findings()
    assert (finding.item_code, finding.duty) == ("machine_room_temperature", "D5")
    assert "41.5" in finding.description
    assert "5–40 °C" in finding.description


def test_humidity_above_its_limit_fails(client, world, officer):
    elevator = world.own.elevators[0]
    assert (
        post(
            client, elevator, patrol_data(elevator, machine_room_humidity__value="85,5")
        ).status_code
        == 302
    )
    item = latest_record().data["body"]["items"]["machine_room_humidity"]
    assert (item["value"], item["result"]) == ("85.5", "fail")
    assert [f.item_code for f in findings()] == ["machine_room_humidity"]


def test_configured_limits_apply_and_are_stored_with_the_reading(app, client, world, officer):
    app.config["PATROL_LIMITS"] = {"machine_room_temperature": ("10", "30")}
    elevator = world.own.elevators[0]
    data = patrol_data(elevator, machine_room_temperature__value="31")
    assert post(client, elevator, data).status_code == 302
    item = latest_record().data["body"]["items"]["machine_room_temperature"]
    assert (item["min"], item["max"], item["result"]) == ("10", "30", "fail")


def test_reading_marked_not_applicable(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(elevator, machine_room_humidity__value=None, machine_room_humidity__na="y")
    assert post(client, elevator, data).status_code == 302
    item = latest_record().data["body"]["items"]["machine_room_humidity"]
    assert (item["value"], item["result"]) == (None, "na")
    assert findings() == []


def test_misuse_is_logged_not_a_finding(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(
        elevator,
        misuse_act="e_bike",
        misuse_action="dissuaded",
        misuse_note="Resident with an e-bike at the lobby, turned back.",
    )
    assert post(client, elevator, data).status_code == 302
    record = latest_record()
    assert record.data["body"]["misuse"] == {
        "act": "e_bike",
        "action": "dissuaded",
        "note": "Resident with an e-bike at the lobby, turned back.",
    }
    assert findings() == []
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert "Bringing an e-bike, e-motorbike or its battery into the car" in page
    assert "Dissuaded" in page


# --- bad input --------------------------------------------------------------------


def test_missing_answers_rerender_with_values_and_messages(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(
        elevator,
        doors__result=None,
        levelling__result="fail",
        levelling__note="Step of 2 cm at floor 5.",
        machine_room_temperature__value=None,
        machine_room_humidity__value="wet",
        misuse_action="reported",
        note="Written before the mistake.",
    )
    response = post(client, elevator, data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Please correct the fields marked below." in body
    assert field_errors(body, "doors__result") == ["Choose pass, fail or not applicable."]
    assert field_errors(body, "machine_room_temperature__value") == [
        "Enter the reading, or mark it not applicable."
    ]
    assert field_errors(body, "machine_room_humidity__value") == ["Enter a number, e.g. 23.5."]
    assert field_errors(body, "misuse_act") == ["Choose which prohibited act you saw."]
    assert field_errors(body, "use_sign__result") == []
    # The answers given are still there.
    assert checked(body, "levelling__result") == "fail"
    assert checked(body, "use_sign__result") == "pass"
    assert checked(body, "misuse_action") == "reported"
    assert input_value(body, "machine_room_humidity__value") == "wet"
    assert "Step of 2 cm at floor 5." in body
    assert "Written before the mistake." in body
    assert input_value(body, "idempotency_key") == data["idempotency_key"]
    assert counts() == NOTHING


def test_implausible_reading_and_reading_with_na_are_refused(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(
        elevator,
        machine_room_humidity__value="120",
        machine_room_temperature__na="y",
        misuse_act="overloading",
    )
    body = post(client, elevator, data).get_data(as_text=True)
    assert field_errors(body, "machine_room_humidity__value") == [
        "Enter a value between 0 and 100."
    ]
    assert field_errors(body, "machine_room_temperature__value") == [
        "Either enter a reading or mark it not applicable."
    ]
    assert field_errors(body, "misuse_action") == ["Say what was done: dissuaded or reported."]
    assert counts() == NOTHING


def test_fake_image_with_a_jpeg_name_is_refused(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(
        elevator,
        doors__result="fail",
        doors__photo=(io.BytesIO(b"<html>not a photo</html>" * 10), "door.jpg"),
        levelling__photo=(io.BytesIO(b"\xff\xd8\xff" + b"garbage" * 20), "level.jpg"),
    )
    response = post(client, elevator, data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(body, "doors__photo") == ["Only JPEG, PNG or WebP photos are accepted."]
    assert field_errors(body, "levelling__photo") == ["This file is not a readable photo."]
    assert checked(body, "doors__result") == "fail"
    assert counts() == NOTHING


def test_a_good_photo_is_not_stored_when_another_field_is_wrong(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(elevator, doors__photo=png_upload(), levelling__result=None)
    response = post(client, elevator, data)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose the photo again" in body
    assert counts() == NOTHING


# --- resubmission -------------------------------------------------------------------


def test_double_submission_creates_one_record(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(elevator, doors__result="fail")
    first = post(client, elevator, dict(data))
    second = post(client, elevator, dict(data))
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert counts() | {"files": 0} == {
        "records": 1,
        "signatures": 1,
        "findings": 1,
        "photos": 0,
        "files": 0,
    }
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "This patrol was already recorded; here it is." in page


def test_several_patrols_a_day_are_allowed(client, world, officer):
    elevator = world.own.elevators[0]
    assert post(client, elevator, patrol_data(elevator)).status_code == 302
    assert post(client, elevator, patrol_data(elevator)).status_code == 302
    assert counts()["records"] == 2
    assert records.verify().ok


# --- out of service ----------------------------------------------------------------


def test_out_of_service_elevator_gets_the_short_form(client, world, officer):
    elevator = world.own.elevators[1]
    elevator.status = ElevatorStatus.out_of_service
    db.session.commit()
    page = client.get(form_url(elevator)).get_data(as_text=True)
    assert 'data-testid="out-of-service-form"' in page
    assert 'name="doors__result"' not in page
    assert 'name="status_seen"' in page

    response = post(client, elevator, {"status_seen": "stopped", "password": "x"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert field_errors(body, "notice_posted") == ["Answer yes or no."]
    assert checked(body, "status_seen") == "stopped"
    assert counts() == NOTHING

    data = {
        "idempotency_key": "oos-1",
        "status_seen": "stopped",
        "notice_posted": "no",
        "note": "Barrier in place, no notice on floor 1.",
        "password": patrol_data(elevator)["password"],
        "photo": png_upload(),
    }
    response = post(client, elevator, data)
    assert response.status_code == 302
    record = latest_record()
    body_data = record.data["body"]
    assert record.kind.value == "patrol"
    assert body_data["out_of_service"] is True
    assert body_data["registry_status"] == "out_of_service"
    assert body_data["status_seen"] == "stopped"
    assert body_data["notice_posted"] is False
    assert len(body_data["photos"]) == 1
    (finding,) = findings()
    assert (finding.item_code, finding.duty) == ("out_of_service_notice", "D8")
    assert finding.description == "Barrier in place, no notice on floor 1."
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert 'data-testid="out-of-service-body"' in page
    assert "Stopped, not carrying passengers" in page
    assert records.verify().ok


def test_out_of_service_elevator_found_carrying_passengers_is_a_serious_finding(
    client, world, officer
):
    elevator = world.own.elevators[1]
    elevator.status = ElevatorStatus.out_of_service
    db.session.commit()
    data = patrol_data(elevator, status_seen="in_use", notice_posted="yes")
    assert post(client, elevator, data).status_code == 302
    (finding,) = findings()
    assert (finding.item_code, finding.duty, finding.severity) == (
        "out_of_service_in_use",
        "D3",
        Severity.serious,
    )


# --- the record page ------------------------------------------------------------------


def test_record_page_shows_items_photos_and_corrected_values(client, world, officer):
    elevator = world.own.elevators[0]
    data = patrol_data(
        elevator,
        doors__result="fail",
        doors__note="Scrapes.",
        doors__photo=png_upload(),
        machine_room_temperature__value="24",
    )
    post(client, elevator, data)
    record = latest_record()
    photo = db.session.scalar(select(Photo))
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert "Daily patrol: elevator · version 1" in page
    assert 'data-testid="failed-items"' in page
    assert re.search(r'<tr id="patrol-doors" data-item="doors" data-result="fail"', page)
    assert f'src="/photos/{photo.sha256}"' in page
    assert "Doors open and close without abnormal noise or hesitation" in page
    assert "style=" not in page

    records.correct(
        record,
        officer,
        data["password"],
        {"items.machine_room_temperature.value": "42", "items.doors.result": "pass"},
        "Misread the thermometer; the door was fixed before I left.",
    )
    db.session.commit()
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    row = re.search(r'<tr id="patrol-machine_room_temperature".*?</tr>', page, re.S)
    assert row is not None
    assert re.search(r'<span class="corrected"[^>]*>42</span>', row.group(0))
    assert '<del class="muted">24</del>' in row.group(0)
    assert "corrected" in row.group(0)
    assert "Outside the limits" in row.group(0)  # the corrected value is outside 5–40
    doors = re.search(r'<tr id="patrol-doors".*?</tr>', page, re.S)
    assert doors is not None
    assert re.search(r'<span class="corrected"[^>]*>Pass</span>', doors.group(0))
    assert '<del class="muted">Fail</del>' in doors.group(0)
    # The original stays byte for byte.
    assert latest_record().subject_id == record.id
    assert record.data["body"]["items"]["machine_room_temperature"]["value"] == "24"
    assert records.verify().ok


def test_photo_bytes_are_served_to_those_who_see_the_elevator(client, world, officer):
    elevator = world.own.elevators[0]
    post(client, elevator, patrol_data(elevator, doors__photo=png_upload()))
    photo = db.session.scalar(select(Photo))
    with client.get(f"/photos/{photo.sha256}") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"


def test_a_copy_that_loses_the_race_is_sent_to_the_winners_record(
    client, world, officer, monkeypatch
):
    """Two copies of one form at once: the loser hits a unique constraint, then finds the record."""
    from sqlalchemy.exc import IntegrityError

    from elevator_safety.patrols import services, views

    elevator = world.own.elevators[0]
    data = patrol_data(elevator)
    assert post(client, elevator, dict(data)).status_code == 302
    winner = latest_record()
    answers = iter([None])  # the loser's first look finds nothing: the winner had not committed

    def racing_lookup(token):  # type: ignore[no-untyped-def]
        return next(answers, records.find_by_idempotency_key(token))

    def collide(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise IntegrityError("INSERT INTO photos", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(views, "find_by_idempotency_key", racing_lookup)
    monkeypatch.setattr(services, "submit_patrol", collide)
    response = post(client, elevator, dict(data))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/records/{winner.id}")
    assert counts()["records"] == 1


def test_a_patrol_body_without_checklist_shows_every_field(client, world, officer):
    record = make_record(world.own.elevators[0], officer, {"readings": {"temp": "23.5"}})
    db.session.commit()
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert "<th>readings.temp</th><td>23.5</td>" in page
    assert 'data-testid="checklist-version"' not in page


def test_a_passing_patrol_post_makes_few_round_trips(client, world, officer):
    """Each thing a POST reads is read once, and nothing is read after its commit."""
    from sqlalchemy import event

    elevator = world.own.elevators[0]
    data = patrol_data(elevator)
    trips: list[str] = []

    def statement(conn, cursor, sql, parameters, context, executemany):  # type: ignore[no-untyped-def]
        trips.append(" ".join(sql.split()))

    def commit(conn):  # type: ignore[no-untyped-def]
        trips.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        response = post(client, elevator, data)
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
    assert response.status_code == 302
    assert trips[-1] == "COMMIT"  # the message's findings count came before it
    token_lookups = [t for t in trips if "WHERE records.idempotency_key =" in t]
    assert len(token_lookups) == 2  # the view (before the out-of-service page), the service
    head_reads = [t for t in trips if "ORDER BY records.seq DESC" in t]
    assert len(head_reads) == 1
    assert head_reads[0].startswith("SELECT records.seq, records.chain_hash FROM")  # not content
    assert not [t for t in trips if "FROM sites WHERE" in t]  # the site came with the elevator
    assert len(trips) <= 13  # 12 statements on PostgreSQL (FOR UPDATE included), and the commit
