"""The rectification state machine: every (state, action) pair, allowed or refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records.models import (
    Finding,
    FindingStatus,
    Meaning,
    Record,
    RecordKind,
    Signature,
)
from elevator_safety.records.services import verify
from elevator_safety.rectifications import services
from elevator_safety.rectifications.services import TRANSITIONS, Action
from elevator_safety.registers.chain import verify_sites
from elevator_safety.registers.models import RegisterEntry, RegisterKind
from tests.conftest import log_in
from tests.factories import PASSWORD
from tests.rectifications.helpers import make_finding

ALLOWED = {
    (FindingStatus.open, Action.start): FindingStatus.in_progress,
    (FindingStatus.reopened, Action.start): FindingStatus.in_progress,
    (FindingStatus.open, Action.complete): FindingStatus.completed,
    (FindingStatus.in_progress, Action.complete): FindingStatus.completed,
    (FindingStatus.reopened, Action.complete): FindingStatus.completed,
    (FindingStatus.completed, Action.verify): FindingStatus.verified,
    (FindingStatus.completed, Action.reopen): FindingStatus.reopened,
}
PAIRS = [(state, action) for state in FindingStatus for action in Action]
SIGNED = {
    Action.complete: Meaning.completed,
    Action.verify: Meaning.verified,
    Action.reopen: Meaning.reopened,
}


def _count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_table_is_the_specification():
    table = {
        (state, action): rule.target
        for action, rule in TRANSITIONS.items()
        for state in rule.sources
    }
    assert table == ALLOWED


@pytest.mark.parametrize(("state", "action"), PAIRS, ids=lambda v: str(v))
def test_service_every_pair(world, state, action):
    finding = make_finding(world.own, status=state)
    records_before = _count(Record)
    if (state, action) not in ALLOWED:
        with pytest.raises(DomainError, match="is not possible"):
            services.transition(
                finding, action, world.own.officer, password=PASSWORD, text="Lamp replaced."
            )
        db.session.rollback()
        assert db.session.get(Finding, finding.id).status == state
        assert _count(Record) == records_before
        return
    evidence = services.transition(
        finding, action, world.own.officer, password=PASSWORD, text="Lamp replaced."
    )
    db.session.commit()
    assert finding.status == ALLOWED[(state, action)]
    if action in SIGNED:
        assert isinstance(evidence, Record)
        assert evidence.kind == RecordKind.rectification
        body = evidence.data["body"]
        assert body["finding_id"] == finding.id
        assert body["action"] == action.value
        assert body["text"] == "Lamp replaced."
        signature = db.session.scalar(select(Signature).where(Signature.record_id == evidence.id))
        assert signature.meaning == SIGNED[action]
        assert signature.signer_id == world.own.officer.id
    else:
        assert evidence is None
        assert _count(Record) == records_before
    if action == Action.complete:
        assert finding.completed_at is not None
    if action == Action.verify:
        assert finding.verified_at is not None
    audited = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "Finding",
            AuditEntry.object_id == finding.id,
            AuditEntry.action == action.value,
        )
    )
    assert audited.changes_dict["status"] == [state.value, ALLOWED[(state, action)].value]
    assert verify().ok


ENDPOINTS = {a: a.value for a in Action}


@pytest.mark.parametrize(("state", "action"), PAIRS, ids=lambda v: str(v))
def test_page_every_pair(client, world, state, action):
    finding = make_finding(world.own, status=state)
    log_in(client, world.own.officer)
    records_before = _count(Record)
    response = client.post(
        f"/rectifications/{finding.id}/{ENDPOINTS[action]}",
        data={"text": "Lamp replaced.", "password": PASSWORD},
    )
    db.session.expire_all()
    now = db.session.get(Finding, finding.id)
    if (state, action) in ALLOWED:
        assert response.status_code == 302
        assert now.status == ALLOWED[(state, action)]
        assert _count(Record) == records_before + (1 if action in SIGNED else 0)
    else:
        assert response.status_code == 422
        assert "is not possible" in response.get_data(as_text=True)
        assert now.status == state
        assert _count(Record) == records_before


def test_a_whole_life_with_a_reopening(client, world):
    finding = make_finding(world.own)
    log_in(client, world.own.officer)
    steps = [
        ("start", {}),
        ("complete", {"text": "Lamp replaced.", "password": PASSWORD}),
        ("reopen", {"text": "Still dark on the left side.", "password": PASSWORD}),
        ("start", {}),
        ("complete", {"text": "Second lamp replaced.", "password": PASSWORD}),
        ("verify", {"text": "", "password": PASSWORD}),
    ]
    for path, data in steps:
        assert client.post(f"/rectifications/{finding.id}/{path}", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == FindingStatus.verified
    page = client.get(f"/rectifications/{finding.id}").get_data(as_text=True)
    assert "Still dark on the left side." in page
    evidence = services.evidence_of(db.session.get(Finding, finding.id))
    assert [e.data["body"]["action"] for e in evidence] == [
        "complete",
        "reopen",
        "complete",
        "verify",
    ]
    reopen = evidence[1]
    signature = db.session.scalar(select(Signature).where(Signature.record_id == reopen.id))
    assert signature.reason == "Still dark on the left side."


def test_site_wide_finding_signs_in_the_site_chain(world):
    finding = make_finding(world.own, elevator=None)
    services.transition(
        finding, Action.complete, world.own.officer, password=PASSWORD, text="Roster filled."
    )
    services.transition(finding, Action.verify, world.own.director, password=PASSWORD)
    db.session.commit()
    entries = db.session.scalars(
        select(RegisterEntry).where(RegisterEntry.kind == RegisterKind.rectification)
    ).all()
    assert [e.data["body"]["action"] for e in entries] == ["complete", "verify"]
    assert [e.data["signatures"][0]["meaning"] for e in entries] == ["completed", "verified"]
    assert _count(Record) == 0
    assert verify_sites().ok


@pytest.mark.parametrize(
    ("action", "data", "field_message"),
    [
        ("complete", {"text": "", "password": PASSWORD}, "This field is required."),
        ("complete", {"text": "Done", "password": "wrong"}, "Wrong password"),
        ("complete", {"text": "Done"}, "This field is required."),
        ("reopen", {"text": "", "password": PASSWORD}, "This field is required."),
        ("reopen", {"text": "Not fixed", "password": "wrong"}, "Wrong password"),
        ("verify", {"password": "wrong"}, "Wrong password"),
        ("verify", {}, "This field is required."),
    ],
)
def test_signed_moves_need_their_text_and_password(client, world, action, data, field_message):
    state = FindingStatus.open if action == "complete" else FindingStatus.completed
    finding = make_finding(world.own, status=state)
    log_in(client, world.own.officer)
    before = _count(Record)
    response = client.post(f"/rectifications/{finding.id}/{action}", data=data)
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Finding, finding.id).status == state
    assert _count(Record) == before


def test_service_refuses_empty_texts(world):
    finding = make_finding(world.own)
    with pytest.raises(DomainError, match="Describe what was done"):
        services.transition(finding, Action.complete, world.own.officer, password=PASSWORD)
    finding.status = FindingStatus.completed
    with pytest.raises(DomainError, match="reason for reopening"):
        services.transition(finding, Action.reopen, world.own.officer, password=PASSWORD)
