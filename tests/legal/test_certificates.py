"""Certificates of safety staff and technicians (D11): scope, expiry flags, edits, refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.extensions import db
from elevator_safety.legal import services
from elevator_safety.registers.models import Certificate, CertificateKind
from elevator_safety.scoping import local_today
from tests.conftest import log_in


def make_certificate(user, number: str, expires_on: date, kind=CertificateKind.technician):  # type: ignore[no-untyped-def]
    made = Certificate(user_id=user.id, kind=kind, number=number, expires_on=expires_on)
    db.session.add(made)
    db.session.commit()
    return made


def form(user, **overrides):  # type: ignore[no-untyped-def]
    data = {
        "user_id": str(user.id),
        "kind": "technician",
        "number": "TS-2025-001",
        "issuer": "Chengdu Market Regulation Bureau",
        "issued_on": "2023-01-01",
        "expires_on": "2027-01-01",
    }
    return data | overrides


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Certificate))


def test_contractor_manager_adds_a_technician_certificate(client, world):
    log_in(client, world.own.manager)
    assert client.get("/certificates/new").status_code == 200
    response = client.post("/certificates/new", data=form(world.own.technician))
    assert response.status_code == 302
    made = db.session.scalar(select(Certificate))
    assert made.user_id == world.own.technician.id
    assert made.kind == CertificateKind.technician
    assert made.expires_on == date(2027, 1, 1)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "Certificate"))
    assert audit.action == "create"


def test_director_edits_an_officer_certificate_audited(client, world):
    made = make_certificate(
        world.own.officer, "A-1", date(2026, 1, 1), CertificateKind.safety_officer
    )
    log_in(client, world.own.director)
    page = client.get(f"/certificates/{made.id}/edit").get_data(as_text=True)
    assert 'value="A-1"' in page
    data = form(world.own.officer, kind="safety_officer", number="A-2", expires_on="2030-01-01")
    assert client.post(f"/certificates/{made.id}/edit", data=data).status_code == 302
    db.session.refresh(made)
    assert made.number == "A-2"
    assert made.expires_on == date(2030, 1, 1)
    audit = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "Certificate", AuditEntry.action == "update"
        )
    )
    assert audit.changes_dict["number"] == ["A-1", "A-2"]


def test_a_duplicate_number_is_refused_on_the_field(client, world):
    make_certificate(world.foreign.technician, "TS-2025-001", date(2030, 1, 1))
    log_in(client, world.own.manager)
    response = client.post("/certificates/new", data=form(world.own.technician))
    assert response.status_code == 422
    assert 'data-field="number"' in response.get_data(as_text=True)
    assert count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"expires_on": "2022-12-31"}, "expires_on"),
        ({"expires_on": "2023-01-01"}, "expires_on"),
        ({"expires_on": ""}, "expires_on"),
        ({"number": ""}, "number"),
        ({"kind": "pilot"}, "kind"),
        ({"user_id": ""}, "user_id"),
    ],
)
def test_certificate_refusals(client, world, overrides, field):
    log_in(client, world.own.manager)
    response = client.post("/certificates/new", data=form(world.own.technician, **overrides))
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.get_data(as_text=True)
    assert count() == 0


def test_a_person_of_another_organisation_is_refused(client, world):
    log_in(client, world.own.admin)
    response = client.post("/certificates/new", data=form(world.own.technician))
    assert response.status_code == 422
    assert count() == 0


@pytest.mark.parametrize("attr", ["officer", "technician", "regulator"])
def test_other_roles_may_not_edit(client, world, attr):
    log_in(client, getattr(world.own, attr))
    assert client.post("/certificates/new", data=form(world.own.officer)).status_code == 403
    assert count() == 0


def test_a_certificate_of_another_organisation_is_not_found(client, world):
    made = make_certificate(world.own.technician, "T-9", date(2030, 1, 1))
    log_in(client, world.own.admin)
    assert client.get(f"/certificates/{made.id}/edit").status_code == 404


def test_list_scope_and_expiry_flags(client, world):
    today = local_today()
    expired = make_certificate(world.own.technician, "T-OLD", today - timedelta(days=1))
    expiring = make_certificate(world.own.technician, "T-SOON", today + timedelta(days=30))
    valid = make_certificate(world.own.technician, "T-OK", today + timedelta(days=31))
    officer_cert = make_certificate(world.own.officer, "A-OWN", today + timedelta(days=400))
    foreign = make_certificate(world.foreign.technician, "T-FOREIGN", today)
    log_in(client, world.own.manager)
    page = client.get("/certificates").get_data(as_text=True)
    assert f'data-certificate="{expired.id}" data-state="expired"' in page
    assert f'data-certificate="{expiring.id}" data-state="expiring"' in page
    assert f'data-certificate="{valid.id}" data-state="valid"' in page
    assert "A-OWN" not in page
    assert "T-FOREIGN" not in page
    flagged = client.get("/certificates?flag=expiring").get_data(as_text=True)
    assert "T-OLD" in flagged
    assert "T-SOON" in flagged
    assert "T-OK" not in flagged
    assert "T-SOON" not in client.get("/certificates?flag=expired").get_data(as_text=True)
    names = [c.number for c in services.certificates_expiring(world.own.manager)]
    assert names == ["T-OLD", "T-SOON"]
    # The regulator of the district sees the company's and its contractor's staff.
    log_in(client, world.own.regulator)
    page = client.get("/certificates").get_data(as_text=True)
    assert "A-OWN" in page
    assert "T-OK" in page
    assert "T-FOREIGN" not in page
    assert "/edit" not in page
    assert officer_cert.id
    assert foreign.id
