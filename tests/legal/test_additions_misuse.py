"""Additions and advertising (D10) and misuse incidents (D3)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from elevator_safety.extensions import db
from elevator_safety.records.models import Finding, FindingSource, Record, RecordKind
from tests.conftest import log_in
from tests.factories import png_bytes
from tests.legal.conftest import addition_form, misuse_form, post


def count(kind: RecordKind) -> int:
    return db.session.scalar(select(func.count()).select_from(Record).where(Record.kind == kind))


def findings() -> list[Finding]:
    return list(db.session.scalars(select(Finding).order_by(Finding.id)))


# --- additions ----------------------------------------------------------------------


def add_url(elevator) -> str:  # type: ignore[no-untyped-def]
    return f"/elevators/{elevator.id}/additions/new"


def test_an_approved_addition_is_registered_without_rectification(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.officer)
    response = post(client, add_url(elevator), addition_form())
    assert response.status_code == 302
    record = db.session.scalar(select(Record).where(Record.kind == RecordKind.addition))
    body = record.data["body"]
    assert body["what"] == "advertising"
    assert body["weight_kg"] == "2.5"
    assert body["installed_on"] == "2025-03-01"
    assert body["review"] == {
        "reviewed": True,
        "reviewer": "Director Wang",
        "approved": True,
        "note": "Fixed with rivets, no sharp edges",
    }
    assert findings() == []
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert 'data-review="approved"' in page
    panel = client.get(f"/elevators/{elevator.id}").get_data(as_text=True)
    assert "Poster frame on the car" in panel


def test_a_refused_review_opens_a_rectification(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.director)
    form = addition_form(approved=None, review_note="Covers the emergency instructions")
    assert post(client, add_url(elevator), form).status_code == 302
    record = db.session.scalar(select(Record).where(Record.kind == RecordKind.addition))
    assert record.data["body"]["review"]["approved"] is False
    [finding] = findings()
    assert finding.source == FindingSource.addition
    assert finding.duty == "D10"
    assert finding.source_record_id == record.id
    assert finding.item_code == "addition.refused"
    assert finding.description == "Covers the emergency instructions"
    assert "refused" in finding.item_label


def test_an_unreviewed_addition_opens_a_rectification(client, world):
    log_in(client, world.own.officer)
    form = addition_form(reviewed=None, approved=None, reviewer="")
    assert post(client, add_url(world.own.elevators[0]), form).status_code == 302
    [finding] = findings()
    assert finding.item_code == "addition.unreviewed"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "wrong"}, "password"),
        ({"what": "spaceship"}, "what"),
        ({"description": ""}, "description"),
        ({"weight_kg": "heavy"}, "weight_kg"),
        ({"weight_kg": "0"}, "weight_kg"),
        ({"installed_on": "2999-01-01"}, "installed_on"),
        ({"reviewed": None}, "approved"),
        ({"reviewer": ""}, "reviewer"),
    ],
)
def test_addition_refusals(client, world, overrides, field):
    log_in(client, world.own.officer)
    response = post(client, add_url(world.own.elevators[0]), addition_form(**overrides))
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.get_data(as_text=True)
    assert count(RecordKind.addition) == 0
    assert findings() == []


@pytest.mark.parametrize("attr", ["technician", "manager", "admin", "regulator"])
def test_only_company_officers_register_additions(client, world, attr):
    log_in(client, getattr(world.own, attr))
    assert post(client, add_url(world.own.elevators[0]), addition_form()).status_code == 403
    assert count(RecordKind.addition) == 0


# --- misuse -------------------------------------------------------------------------


def misuse_url(elevator) -> str:  # type: ignore[no-untyped-def]
    return f"/elevators/{elevator.id}/misuse/new"


def test_the_form_offers_the_ten_prohibited_acts(client, world):
    log_in(client, world.own.officer)
    page = client.get(misuse_url(world.own.elevators[0])).get_data(as_text=True)
    for code in ("riding_out_of_service", "e_bike", "unrestrained_dog", "other_dangerous"):
        assert f'value="{code}"' in page


def test_officer_records_misuse_with_a_photo(client, world):
    elevator = world.own.elevators[0]
    log_in(client, world.own.officer)
    form = misuse_form(photo=(io.BytesIO(png_bytes()), "bike.png"))
    response = post(client, misuse_url(elevator), form)
    assert response.status_code == 302
    record = db.session.scalar(select(Record).where(Record.kind == RecordKind.misuse))
    body = record.data["body"]
    assert body["act"] == "e_bike"
    assert body["act_label"]
    assert body["action"] == "dissuaded"
    assert len(body["photos"]) == 1
    # 08:30 in Shanghai is 00:30 UTC.
    assert record.data["occurred_at"].startswith("2025-05-20T00:30")
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert 'data-act="e_bike"' in page
    assert "e-bike" in page
    listing = client.get("/legal/misuse").get_data(as_text=True)
    assert f'data-record="{record.id}"' in listing


def test_contractor_records_misuse_it_witnessed(client, world):
    log_in(client, world.own.technician)
    form = misuse_form(act="forcing_doors", action="reported")
    assert post(client, misuse_url(world.own.elevators[0]), form).status_code == 302
    assert count(RecordKind.misuse) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "wrong"}, "password"),
        ({"act": "juggling"}, "act"),
        ({"act": ""}, "act"),
        ({"action": "ignored"}, "action"),
        ({"action": "other", "note": ""}, "note"),
        ({"occurred_at": "2999-01-01T00:00"}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"photo": (io.BytesIO(b"not an image"), "x.png")}, "photo"),
    ],
)
def test_misuse_refusals(client, world, overrides, field):
    log_in(client, world.own.officer)
    response = post(client, misuse_url(world.own.elevators[0]), misuse_form(**overrides))
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.get_data(as_text=True)
    assert count(RecordKind.misuse) == 0


@pytest.mark.parametrize("attr", ["admin", "regulator"])
def test_misuse_refused_to_other_roles(client, world, attr):
    log_in(client, getattr(world.own, attr))
    assert post(client, misuse_url(world.own.elevators[0]), misuse_form()).status_code == 403


def test_misuse_on_a_foreign_elevator_is_not_found(client, world):
    log_in(client, world.own.technician)
    assert post(client, misuse_url(world.foreign.elevators[0]), misuse_form()).status_code == 404
