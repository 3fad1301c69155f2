"""Confirming on site (现场监督确认) and rejecting (退回) a maintenance record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from elevator_safety.auth.models import Role
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.maintenance import services
from elevator_safety.records import services as records_services
from elevator_safety.records.forms import new_token
from elevator_safety.records.models import Meaning, Record, RecordKind, Signature
from tests.conftest import log_in
from tests.factories import PASSWORD, make_record, make_user
from tests.maintenance.conftest import confirm, counts, field_errors, make_visit, reject


def url(record: Record) -> str:
    return f"/maintenance/{record.id}/review"


@pytest.fixture
def visit(world, now) -> Record:  # type: ignore[no-untyped-def]
    return make_visit(world.own.elevators[0], world.own.technician)


def reviews_of(record: Record) -> list[Record]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Record).where(Record.subject_id == record.id).order_by(Record.seq)
        )
    )


def submitted_signature(record: Record) -> Signature:
    return db.session.scalars(
        select(Signature).where(
            Signature.record_id == record.id, Signature.meaning == Meaning.submitted
        )
    ).one()


@pytest.mark.parametrize("role", ["safety_officer", "safety_director"])
def test_confirm_on_site(client, world, login_as, visit, role):
    user = login_as(role)
    page = client.get(url(visit)).get_data(as_text=True)
    assert 'data-testid="review-form"' in page
    assert "机房、滑轮间环境" in page  # the officer sees what is confirmed
    response = client.post(
        url(visit), data={"decision": "confirmed", "remarks": "现场核实", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/records/{visit.id}")
    (confirmation,) = reviews_of(visit)
    assert confirmation.kind == RecordKind.confirmation
    assert confirmation.subject_id == visit.id
    assert confirmation.author_id == user.id
    body = confirmation.data["body"]
    assert body["statement"] == "现场监督确认"
    assert body["remarks"] == "现场核实"
    assert confirmation.data["subject_content_hash"] == visit.content_hash
    (signature,) = db.session.scalars(
        select(Signature).where(Signature.record_id == confirmation.id)
    ).all()
    assert signature.meaning == Meaning.confirmed
    assert signature.subject_id == visit.id
    assert signature.signer_id == user.id
    assert signature.content_hash == submitted_signature(visit).content_hash
    assert signature.content_hash == records_services.body_hash(visit.data)
    assert records_services.verify().ok
    assert services.state_of(visit) == services.CONFIRMED
    detail = client.get(f"/records/{visit.id}").get_data(as_text=True)
    assert 'data-state="confirmed"' in detail
    assert 'data-meaning="confirmed"' in detail


def test_an_officer_who_is_not_responsible_may_not_review(client, world, visit):
    other = make_user(world.own.org, Role.safety_officer, certificate_no="T-0002")
    db.session.commit()
    log_in(client, other)
    before = counts()
    assert client.get(url(visit)).status_code == 403
    response = client.post(url(visit), data={"decision": "confirmed", "password": PASSWORD})
    assert response.status_code == 403
    assert counts() == before
    with pytest.raises(DomainError):
        services.confirm(visit, other, PASSWORD)
    db.session.rollback()


def test_the_foreign_director_does_not_find_the_record(client, world, login_as, visit):
    login_as("safety_director", "foreign")
    before = counts()
    assert client.get(url(visit)).status_code == 404
    assert (
        client.post(url(visit), data={"decision": "confirmed", "password": PASSWORD}).status_code
        == 404
    )
    assert counts() == before


def test_wrong_password_confirms_nothing(client, world, login_as, visit):
    login_as("safety_officer")
    before = counts()
    response = client.post(url(visit), data={"decision": "confirmed", "password": "nope"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "password")
    assert counts() == before
    assert services.state_of(visit) == services.AWAITING


def test_reject_requires_a_reason(client, world, login_as, visit):
    login_as("safety_officer")
    before = counts()
    response = client.post(url(visit), data={"decision": "rejected", "password": PASSWORD})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "reason") == [
        "Give the reason for the rejection."
    ]
    response = client.post(
        url(visit), data={"decision": "rejected", "reason": "   ", "password": PASSWORD}
    )
    assert response.status_code == 422
    assert counts() == before
    with pytest.raises(DomainError) as error:
        services.reject(visit, world.own.officer, PASSWORD, "")
    assert error.value.field == "reason"
    db.session.rollback()
    assert counts() == before


def test_a_rejected_record_stays_visible_with_its_reason(client, world, login_as, visit):
    officer = login_as("safety_officer")
    response = client.post(
        url(visit),
        data={"decision": "rejected", "reason": "底坑未清洁，请重新维保", "password": PASSWORD},
    )
    assert response.status_code == 302
    (rejection,) = reviews_of(visit)
    assert rejection.kind == RecordKind.rejection
    assert rejection.data["body"]["reason"] == "底坑未清洁，请重新维保"
    (signature,) = db.session.scalars(
        select(Signature).where(Signature.record_id == rejection.id)
    ).all()
    assert (signature.meaning, signature.reason, signature.subject_id) == (
        Meaning.rejected,
        "底坑未清洁，请重新维保",
        visit.id,
    )
    assert signature.signer_id == officer.id
    assert signature.content_hash == records_services.body_hash(visit.data)
    assert services.state_of(visit) == services.REJECTED
    assert db.session.get(Record, visit.id) is not None  # stays in the archive
    detail = client.get(f"/records/{visit.id}").get_data(as_text=True)
    assert 'data-state="rejected"' in detail
    assert "底坑未清洁，请重新维保" in detail
    listed = client.get("/maintenance?state=rejected").get_data(as_text=True)
    assert f'data-record="{visit.id}"' in listed
    rejection_page = client.get(f"/records/{rejection.id}").get_data(as_text=True)
    assert "底坑未清洁，请重新维保" in rejection_page
    assert records_services.verify().ok


@pytest.mark.parametrize("first", ["confirmed", "rejected"])
def test_a_reviewed_record_cannot_be_reviewed_again(client, world, login_as, visit, first):
    if first == "confirmed":
        confirm(visit, world.own.officer)
    else:
        reject(visit, world.own.officer)
    login_as("safety_director")
    page = client.get(url(visit))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'data-testid="already-reviewed"' in text
    assert 'data-testid="review-form"' not in text
    before = counts()
    response = client.post(
        url(visit), data={"decision": "confirmed", "password": PASSWORD}, follow_redirects=True
    )
    assert "cannot be reviewed again" in response.get_data(as_text=True)
    assert counts() == before
    with pytest.raises(DomainError, match="cannot be reviewed again"):
        services.confirm(visit, world.own.director, PASSWORD)
    with pytest.raises(DomainError, match="cannot be reviewed again"):
        services.reject(visit, world.own.director, PASSWORD, "again")
    db.session.rollback()
    assert counts() == before


def test_a_double_click_confirms_once(client, world, login_as, visit):
    login_as("safety_officer")
    data = {"decision": "confirmed", "password": PASSWORD, "idempotency_key": "b" * 32}
    assert client.post(url(visit), data=data).status_code == 302
    assert client.post(url(visit), data=data).status_code == 302
    assert len(reviews_of(visit)) == 1


def test_only_maintenance_records_are_reviewed(client, world, login_as, now):
    patrol = make_record(world.own.elevators[0], world.own.officer)
    db.session.commit()
    login_as("safety_officer")
    assert client.get(url(patrol)).status_code == 404
    assert client.get("/maintenance/999999/review").status_code == 404


def test_the_review_button_shows_for_who_may_review(client, world, login_as, visit):
    login_as("safety_officer")
    detail = client.get(f"/records/{visit.id}").get_data(as_text=True)
    assert 'data-testid="review-link"' in detail
    login_as("technician")
    detail = client.get(f"/records/{visit.id}").get_data(as_text=True)
    assert 'data-testid="review-link"' not in detail
    assert 'data-state="awaiting"' in detail


def test_a_new_record_after_a_rejection_is_reviewed_on_its_own(world, now):
    first = make_visit(world.own.elevators[0], world.own.technician)
    reject(first, world.own.officer)
    second = make_visit(world.own.elevators[0], world.own.technician)
    confirm(second, world.own.officer)
    assert services.state_of(first) == services.REJECTED
    assert services.state_of(second) == services.CONFIRMED
    assert records_services.verify().ok


def test_service_confirm_refuses_a_wrong_password(world, visit):
    before = counts()
    with pytest.raises(DomainError):
        services.confirm(visit, world.own.officer, "wrong", idempotency_key=new_token())
    db.session.rollback()
    assert counts() == before
