"""The passenger's page (no login): what it shows, what it stores, the honeypot, CSRF."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from elevator_safety.audit import AuditEntry
from elevator_safety.extensions import db
from elevator_safety.notifications.models import Notification
from elevator_safety.public.models import PublicReport, ReportCategory, ReportStatus
from elevator_safety.registry.models import ElevatorStatus
from tests.factories import make_elevator
from tests.public.conftest import page_url, report_count, submit


def test_page_shows_the_hotline_and_codes_and_nothing_else(passenger, world):
    elevator = world.own.elevators[0]
    elevator.unit = "2单元"
    db.session.commit()
    response = passenger.get(page_url(elevator))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "If someone is trapped, call 96333 now." in body
    assert 'href="tel:96333"' in body
    assert re.search(r'data-testid="rescue-code">\s*' + elevator.rescue_code, body)
    assert elevator.equipment_code in body
    assert world.own.site.name in body
    assert elevator.location in body
    assert "2单元" in body
    # Nothing else about the elevator: no contractor, officer, status, company or registration.
    for secret in (
        world.own.contractor.name,
        world.own.officer.name,
        world.own.org.name,
        elevator.registration_no,
        world.own.site.address,
        "In service",
        "Out of service",
    ):
        assert secret not in body, secret
    # The four categories, the optional fields, the honeypot hidden by a class.
    for value in ("trapped", "not_working", "unsafe_behaviour", "other"):
        assert f'value="{value}"' in body
    assert 'name="phone"' in body
    assert 'name="note"' in body
    assert re.search(r'<div class="pr-hp" aria-hidden="true">\s*<label for="website">', body)
    assert "Leave this field empty" in body
    # Anonymous: no navigation, only the language switch; a link for staff to the patrol form.
    assert "Log out" not in body
    assert 'href="/patrols"' not in body
    assert f'href="/elevators/{elevator.id}/patrols/new"' in body
    assert "Staff: record a patrol" in body
    assert "style=" not in body
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)


def _without_tokens(html: str) -> str:
    """The page with its CSRF tokens blanked: a token carries the second it was signed in."""
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)


def test_unknown_and_decommissioned_elevators_are_an_ordinary_404(client, world):
    gone = make_elevator(world.own.site, world.own.officer, status=ElevatorStatus.decommissioned)
    db.session.commit()
    unknown = client.get("/r/0000000000")
    assert unknown.status_code == 404
    page = _without_tokens(unknown.get_data(as_text=True).replace("/r/0000000000", "URL"))
    assert 'name="csrf_token" value=""' in page
    for url in (f"/r/{gone.equipment_code}", f"/r/{gone.equipment_code}/thanks"):
        response = client.get(url)
        assert response.status_code == 404
        assert _without_tokens(response.get_data(as_text=True).replace(url, "URL")) == page
    assert submit(client, gone).status_code == 404
    assert report_count() == 0


def test_out_of_service_elevator_still_takes_reports(client, world):
    elevator = world.own.elevators[0]
    elevator.status = ElevatorStatus.out_of_service
    db.session.commit()
    assert client.get(page_url(elevator)).status_code == 200
    assert submit(client, elevator).status_code == 302
    assert report_count() == 1


def test_a_report_is_stored_pending_with_a_hashed_address_and_redirects(passenger, app, world):
    elevator = world.own.elevators[0]
    response = submit(
        passenger,
        elevator,
        address="203.0.113.7",
        category="not_working",
        phone=" +86 138-0000-0000 ",
        note="  Doors do not close.  ",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/r/{elevator.equipment_code}/thanks"
    report = db.session.scalars(select(PublicReport)).one()
    assert report.elevator_id == elevator.id
    assert report.category is ReportCategory.not_working
    assert report.status is ReportStatus.pending
    assert report.phone == "+86 138-0000-0000"
    assert report.note == "Doors do not close."
    expected = hashlib.sha256((app.config["SECRET_KEY"] + "203.0.113.7").encode()).hexdigest()
    assert report.client_hash == expected
    # The raw address is stored nowhere (not in the audit log either).
    assert "203.0.113.7" not in repr(report.__dict__)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.ip == "203.0.113.7")) is None
    thanks = passenger.get(response.headers["Location"])
    body = thanks.get_data(as_text=True)
    assert thanks.status_code == 200
    assert "safety officer has been told" in body
    assert 'href="tel:96333"' in body


def test_optional_fields_may_stay_empty(client, world):
    assert submit(client, world.own.elevators[0], category="other").status_code == 302
    report = db.session.scalars(select(PublicReport)).one()
    assert report.phone is None
    assert report.note is None


def test_a_report_notifies_the_elevators_officer_and_the_directors(client, world):
    elevator = world.own.elevators[0]
    submit(client, elevator, category="unsafe_behaviour")
    report = db.session.scalars(select(PublicReport)).one()
    notes = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    assert {n.user_id for n in notes} == {world.own.officer.id, world.own.director.id}
    assert all(n.kind == "public_report" for n in notes)
    assert all(n.link == f"/reports/{report.id}" for n in notes)
    assert notes[0].params["report_id"] == report.id
    assert elevator.equipment_code in notes[0].params["place"]


def test_a_trapped_report_has_its_own_notification_kind(client, world):
    submit(client, world.own.elevators[0], category="trapped")
    kinds = set(db.session.scalars(select(Notification.kind)))
    assert kinds == {"public_report_trapped"}


def test_an_inactive_officer_is_not_notified(client, world):
    world.own.officer.active = False
    db.session.commit()
    submit(client, world.own.elevators[0])
    assert set(db.session.scalars(select(Notification.user_id))) == {world.own.director.id}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"category": None}, "category", "Choose what is wrong."),
        ({"category": "fire"}, "category", "Choose one of the options."),
        ({"phone": "call me"}, "phone", "Enter a phone number"),
        ({"phone": "1234"}, "phone", "Enter a phone number"),
        ({"phone": "1" * 21}, "phone", "Enter a phone number"),
        ({"phone": "+-- -"}, "phone", "Enter a phone number"),
        ({"note": "x" * 501}, "note", "At most 500 characters."),
    ],
)
def test_invalid_reports_show_the_form_again_and_store_nothing(
    passenger, world, changes, field, message
):
    response = submit(passenger, world.own.elevators[0], **({"note": "kept note"} | changes))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'class="error"[^>]*data-field="{field}">[^<]*{re.escape(message)}', body)
    if "note" not in changes:
        assert "kept note" in body  # the passenger's values are kept
    assert report_count() == 0
    assert db.session.scalar(select(Notification.id)) is None


def test_phone_numbers_of_5_to_20_digits_spaces_plus_and_dashes_are_accepted(client, world):
    for phone in ("12345", "+86 28 8888-8888", "1" * 20):
        assert submit(client, world.own.elevators[0], phone=phone).status_code == 302
    assert report_count() == 3


def test_honeypot_answers_like_success_and_stores_nothing(passenger, world):
    elevator = world.own.elevators[0]
    response = submit(passenger, elevator, website="http://spam.example", note="buy now")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/r/{elevator.equipment_code}/thanks"
    assert report_count() == 0
    assert db.session.scalar(select(Notification.id)) is None
    # Even an otherwise invalid post gets the same answer: the bot learns nothing.
    response = submit(passenger, elevator, website="x", category=None, phone="nope")
    assert response.status_code == 302
    assert report_count() == 0


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_csrf_protects_the_form_and_works_without_login(client, world):
    elevator = world.own.elevators[0]
    assert submit(client, elevator).status_code == 400
    assert report_count() == 0
    body = client.get(page_url(elevator)).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body)
    assert token is not None
    assert submit(client, elevator, csrf_token=token.group(1)).status_code == 302
    assert report_count() == 1


def test_a_logged_in_user_may_report_too(client, world, login_as):
    login_as("technician")
    assert submit(client, world.foreign.elevators[0]).status_code == 302
    report = db.session.scalars(select(PublicReport)).one()
    assert report.elevator_id == world.foreign.elevators[0].id
