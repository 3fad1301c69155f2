"""Who may do what to a rectification: roles (403), scope (404), party (403)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from elevator_safety.extensions import db
from elevator_safety.records.models import Finding, FindingStatus, Record, Signature
from elevator_safety.scoping import local_today
from tests.conftest import log_in
from tests.factories import PASSWORD
from tests.rectifications.helpers import make_finding

MOVES = {
    "start": FindingStatus.open,
    "complete": FindingStatus.open,
    "verify": FindingStatus.completed,
    "reopen": FindingStatus.completed,
}
DATA = {"text": "Done.", "password": PASSWORD, "description": "Stop", "idempotency_key": ""}


@pytest.mark.parametrize("role", ["admin", "regulator"])
@pytest.mark.parametrize("move", [*MOVES, "lockout"])
def test_readers_never_move(client, world, role, move):
    finding = make_finding(world.own, status=MOVES.get(move, FindingStatus.open))
    user = getattr(world.own, role)
    log_in(client, user)
    assert client.get(f"/rectifications/{finding.id}").status_code == 200
    assert client.post(f"/rectifications/{finding.id}/{move}", data=DATA).status_code == 403
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == MOVES.get(move, FindingStatus.open)


@pytest.mark.parametrize("role", ["manager", "technician"])
@pytest.mark.parametrize("move", ["verify", "reopen"])
def test_a_contractor_cannot_verify_or_reopen_even_its_own(client, world, role, move):
    finding = make_finding(world.own, owner="contractor", status=FindingStatus.completed)
    log_in(client, getattr(world.own, role))
    assert client.post(f"/rectifications/{finding.id}/{move}", data=DATA).status_code == 403
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == FindingStatus.completed


@pytest.mark.parametrize("move", [*MOVES, "lockout"])
def test_an_officer_of_another_company_gets_404(client, world, move):
    finding = make_finding(world.own, status=MOVES.get(move, FindingStatus.open))
    log_in(client, world.foreign.officer)
    assert client.get(f"/rectifications/{finding.id}").status_code == 404
    assert client.post(f"/rectifications/{finding.id}/{move}", data=DATA).status_code == 404


def test_a_regulator_of_another_district_gets_404(client, world):
    finding = make_finding(world.own)
    log_in(client, world.foreign.regulator)
    assert client.get(f"/rectifications/{finding.id}").status_code == 404


@pytest.mark.parametrize("move", ["start", "complete"])
def test_the_company_cannot_do_the_contractors_fix(client, world, move):
    finding = make_finding(world.own, owner="contractor")
    log_in(client, world.own.officer)
    assert client.post(f"/rectifications/{finding.id}/{move}", data=DATA).status_code == 403


@pytest.mark.parametrize("role", ["manager", "technician"])
def test_a_contractor_does_not_see_the_companys_own_fixes(client, world, role):
    finding = make_finding(world.own)
    log_in(client, getattr(world.own, role))
    assert client.get(f"/rectifications/{finding.id}").status_code == 404
    assert client.post(f"/rectifications/{finding.id}/start").status_code == 404


def test_a_contractor_completes_and_the_officer_verifies(client, world):
    finding = make_finding(world.own, owner="contractor")
    log_in(client, world.own.technician)
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert 'data-action="complete"' in page
    assert 'data-action="verify"' not in page
    response = client.post(
        f"/rectifications/{finding.id}/complete",
        data={"text": "Lamp replaced.", "password": PASSWORD},
    )
    assert response.status_code == 302
    log_in(client, world.own.director)
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert 'data-action="verify"' in page
    assert 'data-action="complete"' not in page
    response = client.post(f"/rectifications/{finding.id}/verify", data={"password": PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == FindingStatus.verified
    signers = [
        (s.signer_id, s.meaning.value)
        for s in db.session.scalars(select(Signature).order_by(Signature.id))
    ]
    assert signers == [
        (world.own.technician.id, "completed"),
        (world.own.director.id, "verified"),
    ]


def test_the_contractor_keeps_its_findings_after_its_contract_ends(client, world):
    finding = make_finding(world.own, owner="contractor")
    for contract in world.own.elevators[0].contracts:
        contract.end_date = local_today() - timedelta(days=1)
    db.session.commit()
    log_in(client, world.own.manager)
    assert client.get(f"/rectifications/{finding.id}").status_code == 200
    assert f'data-finding="{finding.id}"' in client.get("/rectifications").get_data(as_text=True)


def test_readers_see_no_actions(client, world):
    finding = make_finding(world.own, status=FindingStatus.completed)
    log_in(client, world.own.regulator)
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert 'data-testid="actions"' not in page


def test_a_resubmitted_completion_writes_one_record(client, world):
    finding = make_finding(world.own)
    log_in(client, world.own.officer)
    data = {"text": "Lamp replaced.", "password": PASSWORD, "idempotency_key": "k" * 32}
    assert client.post(f"/rectifications/{finding.id}/complete", data=data).status_code == 302
    again = client.post(f"/rectifications/{finding.id}/complete", data=data)
    assert again.status_code == 302
    assert "already submitted" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(db.session.scalars(select(Record)).all()) == 1
