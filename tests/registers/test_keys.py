"""Special keys and tools (D4): the key list, issue to a certified holder, return, late keys."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from elevator_safety.audit import AuditEntry
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.registers import chain, services
from elevator_safety.registers.models import KeyKind, RegisterKind, SiteKey
from tests.factories import PASSWORD
from tests.registers.conftest import add_key, count, entries, sh


def issue_form(**values):  # type: ignore[no-untyped-def]
    return {
        "holder_user": "0",
        "holder": "Zhang San",
        "certificate_no": "TS-0042",
        "purpose": "Rescue drill",
        "issued_at": "2026-05-04T09:30",
        "password": PASSWORD,
    } | values


# --- the key list ---------------------------------------------------------------------


def test_admin_adds_a_key_and_it_is_audited(client, login_as, world):
    admin = login_as("admin")
    site = world.own.site
    assert client.get(f"/sites/{site.id}/keys/new").status_code == 200
    response = client.post(
        f"/sites/{site.id}/keys/new",
        data={"code": " MR-1 ", "kind": "machine_room_key", "description": "Building 3"},
    )
    assert response.status_code == 302
    key = db.session.scalar(select(SiteKey))
    assert (key.code, key.kind, key.description, key.active) == (
        "MR-1",
        KeyKind.machine_room_key,
        "Building 3",
        True,
    )
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "SiteKey"))
    assert audit.action == "create"
    assert audit.user_id == admin.id


def test_key_code_is_unique_per_site(client, login_as, world):
    login_as("safety_officer")
    add_key(world.own.site, "TK-1")
    add_key(world.foreign.site, "TK-2")
    taken = client.post(
        f"/sites/{world.own.site.id}/keys/new", data={"code": "TK-1", "kind": "triangle_key"}
    )
    assert taken.status_code == 422
    assert "already has a key or tool with this code" in taken.get_data(as_text=True)
    # The same code on another site is fine.
    other = client.post(
        f"/sites/{world.own.site.id}/keys/new", data={"code": "TK-2", "kind": "triangle_key"}
    )
    assert other.status_code == 302
    blank = client.post(
        f"/sites/{world.own.site.id}/keys/new", data={"code": "", "kind": "nonsense"}
    )
    assert blank.status_code == 422
    assert count(SiteKey) == 3


def test_deactivate_a_key_refused_while_issued(client, login_as, world, frozen):
    login_as("safety_director")
    site, officer = world.own.site, world.own.officer
    key = add_key(site)
    services.issue_key(
        site,
        key,
        officer,
        PASSWORD,
        holder="Li",
        certificate_no="T-1",
        purpose=None,
        issued_at=now_utc(),
    )
    db.session.commit()
    url = f"/sites/{site.id}/keys/{key.id}/deactivate"
    client.post(url)
    db.session.refresh(key)
    assert key.active is True
    services.return_key(site, key, officer, PASSWORD, returned_at=now_utc(), note=None)
    db.session.commit()
    assert client.post(url).status_code == 302
    db.session.refresh(key)
    assert key.active is False
    assert db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "deactivate", AuditEntry.object_type == "SiteKey"
        )
    )
    # An inactive key cannot be issued.
    response = client.post(f"/sites/{site.id}/keys/{key.id}/issue", data=issue_form())
    assert response.status_code == 422
    assert "out of the register" in response.get_data(as_text=True)


def test_key_of_another_site_is_404(client, login_as, world):
    login_as("safety_officer")
    foreign_key = add_key(world.foreign.site)
    assert client.get(f"/sites/{world.own.site.id}/keys/{foreign_key.id}/issue").status_code == 404
    assert (
        client.post(f"/sites/{world.own.site.id}/keys/{foreign_key.id}/deactivate").status_code
        == 404
    )


# --- issue and return -----------------------------------------------------------------


def test_issue_and_return_a_key(client, login_as, world, frozen):
    officer = login_as("safety_officer")
    site = world.own.site
    key = add_key(site)
    page = client.get(f"/sites/{site.id}/keys/{key.id}/issue")
    assert page.status_code == 200
    assert 'value="2026-05-04T10:00"' in page.get_data(as_text=True)
    response = client.post(f"/sites/{site.id}/keys/{key.id}/issue", data=issue_form())
    assert response.status_code == 302
    (issue,) = entries(RegisterKind.key_issue)
    assert issue.key_id == key.id
    assert issue.author_id == officer.id
    assert issue.occurred_at == sh(2026, 5, 4, 9, 30)
    assert issue.data["body"] == {
        "key_code": "TK-1",
        "key_kind": "triangle_key",
        "holder": "Zhang San",
        "holder_user_id": None,
        "certificate_no": "TS-0042",
        "purpose": "Rescue drill",
    }
    assert issue.data["signatures"][0]["signer_id"] == officer.id
    hub = client.get(f"/sites/{site.id}/registers").get_data(as_text=True)
    assert "Zhang San" in hub
    assert 'data-testid="key-late"' not in hub

    ret = client.post(
        f"/sites/{site.id}/keys/{key.id}/return",
        data={"returned_at": "2026-05-04T09:50", "note": "Fine", "password": PASSWORD},
    )
    assert ret.status_code == 302
    (returned,) = entries(RegisterKind.key_return)
    assert returned.subject_id == issue.id
    assert returned.key_id == key.id
    assert returned.data["body"]["holder"] == "Zhang San"
    assert services.open_issue(key) is None
    assert chain.verify_sites([site.id]).ok


def test_key_issue_refused_without_a_certificate(client, login_as, world, frozen):
    login_as("safety_officer")
    site = world.own.site
    key = add_key(site)
    response = client.post(
        f"/sites/{site.id}/keys/{key.id}/issue", data=issue_form(certificate_no="  ")
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field="certificate_no"' in html
    assert "Only a certified person may hold a special key or tool" in html
    assert "Zhang San" in html  # the typed values stay
    assert entries() == []


def test_issue_service_refuses_without_a_certificate(world, frozen):
    site, officer = world.own.site, world.own.officer
    key = add_key(site)
    with pytest.raises(DomainError) as refused:
        services.issue_key(
            site,
            key,
            officer,
            PASSWORD,
            holder="Li",
            certificate_no=None,
            purpose=None,
            issued_at=now_utc(),
        )
    assert refused.value.field == "certificate_no"
    assert entries() == []


def test_issue_to_a_chosen_certified_user(client, login_as, world, frozen):
    login_as("safety_officer")
    site, technician = world.own.site, world.own.technician
    world.own.elevators[0].contracts[0].start_date = date(2026, 1, 1)  # in force on the frozen day
    key = add_key(site)
    page = client.get(f"/sites/{site.id}/keys/{key.id}/issue").get_data(as_text=True)
    assert f'value="{technician.id}"' in page  # the contractor's certified technician is offered
    assert f'value="{world.foreign.technician.id}"' not in page
    response = client.post(
        f"/sites/{site.id}/keys/{key.id}/issue",
        data=issue_form(holder_user=str(technician.id), holder="", certificate_no=""),
    )
    assert response.status_code == 302
    body = entries(RegisterKind.key_issue)[0].data["body"]
    assert (body["holder"], body["certificate_no"], body["holder_user_id"]) == (
        technician.name,
        "T-1234",
        technician.id,
    )


def test_issue_refusals(client, login_as, world, frozen):
    login_as("safety_officer")
    site = world.own.site
    key = add_key(site)
    url = f"/sites/{site.id}/keys/{key.id}/issue"
    cases = [
        (issue_form(holder=""), "holder", "Name the person"),
        (issue_form(issued_at="2026-05-04T12:00"), "issued_at", "in the future"),
        (issue_form(password="wrong"), "password", "Wrong password"),
        (issue_form(issued_at=""), "issued_at", "required"),
    ]
    for data, field, message in cases:
        response = client.post(url, data=data)
        assert response.status_code == 422, field
        html = response.get_data(as_text=True)
        assert f'data-field="{field}"' in html, field
        assert message in html, field
    assert entries() == []
    assert client.post(url, data=issue_form()).status_code == 302
    out = client.post(url, data=issue_form(holder="Someone Else"))
    assert out.status_code == 422
    assert "already issued" in out.get_data(as_text=True)
    assert len(entries(RegisterKind.key_issue)) == 1


def test_return_refusals(client, login_as, world, frozen):
    login_as("safety_officer")
    site, officer = world.own.site, world.own.officer
    key = add_key(site)
    url = f"/sites/{site.id}/keys/{key.id}/return"
    not_out = client.post(url, data={"returned_at": "2026-05-04T09:00", "password": PASSWORD})
    assert not_out.status_code == 422
    assert "not issued" in not_out.get_data(as_text=True)
    services.issue_key(
        site,
        key,
        officer,
        PASSWORD,
        holder="Li",
        certificate_no="T-1",
        purpose=None,
        issued_at=sh(2026, 5, 4, 9),
    )
    db.session.commit()
    before = client.post(url, data={"returned_at": "2026-05-04T08:59", "password": PASSWORD})
    assert before.status_code == 422
    assert "cannot be before the issue" in before.get_data(as_text=True)
    future = client.post(url, data={"returned_at": "2026-05-04T11:00", "password": PASSWORD})
    assert future.status_code == 422
    wrong = client.post(url, data={"returned_at": "2026-05-04T09:30", "password": "x"})
    assert wrong.status_code == 422
    assert entries(RegisterKind.key_return) == []


# --- keys not returned by the end of the day ------------------------------------------


def test_keys_not_returned_after_the_issue_day(client, login_as, world):
    site, officer = world.own.site, world.own.officer
    key = add_key(site)
    returned_key = add_key(site, "TK-2")
    with time_machine.travel(sh(2026, 5, 4, 23, 30), tick=False):
        issue = services.issue_key(
            site,
            key,
            officer,
            PASSWORD,
            holder="Li",
            certificate_no="T-1",
            purpose=None,
            issued_at=now_utc(),
        )
        services.issue_key(
            site,
            returned_key,
            officer,
            PASSWORD,
            holder="Wu",
            certificate_no="T-2",
            purpose=None,
            issued_at=now_utc(),
        )
        db.session.commit()
        services.return_key(site, returned_key, officer, PASSWORD, returned_at=now_utc(), note=None)
        db.session.commit()
        assert services.keys_not_returned([site.id], now_utc()) == []
    with time_machine.travel(sh(2026, 5, 5, 0, 1), tick=False):
        late = services.keys_not_returned([site.id], now_utc())
        assert late == [issue]
        assert services.keys_not_returned([world.foreign.site.id], now_utc()) == []
        assert services.unreturned_keys_for(officer) == [issue]
        assert services.unreturned_keys_for(world.own.regulator) == [issue]
        assert services.unreturned_keys_for(world.own.technician) == []
        assert services.unreturned_keys_for(world.foreign.officer) == []
        login_as("safety_officer")
        hub = client.get(f"/sites/{site.id}/registers").get_data(as_text=True)
        assert 'data-testid="key-late"' in hub
        index = client.get("/registers").get_data(as_text=True)
        assert 'data-testid="late-keys"' in index
        assert "Li" in index


def test_late_key_uses_the_sites_day(world):
    site, officer = world.own.site, world.own.officer
    site.timezone = "Asia/Urumqi"  # two hours behind Shanghai
    db.session.commit()
    key = add_key(site)
    with time_machine.travel(sh(2026, 5, 4, 23), tick=False):
        services.issue_key(
            site,
            key,
            officer,
            PASSWORD,
            holder="Li",
            certificate_no="T-1",
            purpose=None,
            issued_at=now_utc(),
        )
        db.session.commit()
    # 00:30 in Shanghai is 22:30 of the issue day in Urumqi: not late yet.
    with time_machine.travel(sh(2026, 5, 5, 0, 30), tick=False):
        assert services.keys_not_returned([site.id], now_utc()) == []
    with time_machine.travel(sh(2026, 5, 5, 2, 30), tick=False):
        assert len(services.keys_not_returned([site.id], now_utc())) == 1


def test_duplicate_issue_form_goes_to_the_first_entry(client, login_as, world, frozen):
    login_as("safety_officer")
    site = world.own.site
    key = add_key(site)
    url = f"/sites/{site.id}/keys/{key.id}/issue"
    first = client.post(url, data=issue_form(idempotency_key="tok-1"))
    assert first.status_code == 302
    second = client.post(url, data=issue_form(idempotency_key="tok-1"))
    (issue,) = entries(RegisterKind.key_issue)
    assert second.status_code == 302
    assert second.headers["Location"].endswith(f"/register-entries/{issue.id}")
