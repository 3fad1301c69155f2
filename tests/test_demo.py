"""The demo city: what `flask demo load` creates, idempotence, and `flask demo logins`.

These tests are about the city; its three weeks of history (demo/history.py, a few
seconds per load) are left out here and tested in tests/test_demo_history.py.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from elevator_safety.auth.models import ROLES_BY_KIND, Organisation, OrgKind, Role, User
from elevator_safety.demo import data, history
from elevator_safety.extensions import db
from elevator_safety.registry.models import Contract, Elevator, ElevatorStatus, Site
from elevator_safety.registry.services import check_elevator
from elevator_safety.scoping import local_today, scoped_elevators
from tests.factories import make_org


@pytest.fixture(autouse=True)
def city_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Load the city without its history."""

    def no_history(*_args: object) -> history.HistorySummary:
        return history.HistorySummary(0, 0, 0, 0, 0, 0, 0, 0, 0)

    monkeypatch.setattr(history, "load", no_history)


def load(runner, *args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["demo", "load", *args])
    assert result.exception is None, result.output
    assert result.exit_code == 0
    return result


def row_counts() -> dict[str, int]:
    """Return the number of rows of every table."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def orgs_of(kind: OrgKind) -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).where(Organisation.kind == kind)))


def test_load_creates_a_small_city(runner):
    result = load(runner)
    assert "35 elevators" in result.output

    elevators = list(db.session.scalars(select(Elevator)))
    assert len(elevators) >= 30
    assert len({e.kind for e in elevators}) >= 4
    assert len({e.equipment_code for e in elevators}) == len(elevators)
    assert all(len(e.equipment_code) == 20 and e.equipment_code.isdigit() for e in elevators)
    assert len({e.rescue_code for e in elevators}) == len(elevators)
    assert sum(e.status == ElevatorStatus.out_of_service for e in elevators) >= 2
    assert min(e.acceptance_date for e in elevators).year == 2004
    assert max(e.acceptance_date for e in elevators).year == 2025

    companies = orgs_of(OrgKind.property_company)
    contractors = orgs_of(OrgKind.contractor)
    regulators = orgs_of(OrgKind.regulator)
    assert len(companies) == 2
    assert len(contractors) == 2
    assert all(c.qualification_no and c.qualification_expires for c in contractors)

    sites = list(db.session.scalars(select(Site)))
    assert len(sites) == 4
    districts = {s.district_code for s in sites}
    assert len(districts) == 2
    assert Counter(r.district_code for r in regulators) == Counter(districts)
    assert [s.is_city for s in sites].count(False) == 1
    assert {s.organisation_id for s in sites} == {c.id for c in companies}


def test_every_organisation_has_one_user_per_role(runner):
    load(runner)
    for org in db.session.scalars(select(Organisation)):
        roles = {user.role for user in org.users}
        assert roles == set(ROLES_BY_KIND[org.kind]), org.name
        assert all(user.active and user.password_hash for user in org.users)
    officers = db.session.scalars(select(User).where(User.role == Role.safety_officer)).all()
    technicians = db.session.scalars(select(User).where(User.role == Role.technician)).all()
    assert all(user.certificate_no for user in [*officers, *technicians])
    assert len(officers) == 4
    assert len(technicians) == 4


def test_every_elevator_has_one_contract_today_and_an_officer_of_its_company(runner, app):
    load(runner)
    today = local_today()
    for elevator in db.session.scalars(select(Elevator)):
        active = [c for c in elevator.contracts if c.is_active(today)]
        assert len(active) == 1, elevator.equipment_code
        officer = elevator.safety_officer
        assert officer.role == Role.safety_officer
        assert officer.organisation_id == elevator.site.organisation_id
        values = {column.key: getattr(elevator, column.key) for column in Elevator.__table__.c}
        problems = check_elevator(values, elevator.site.organisation, existing_id=elevator.id)
        assert not problems, problems.errors


def test_the_demo_has_something_to_warn_about(runner):
    load(runner)
    today = local_today()
    soon = today + timedelta(days=30)
    ending = db.session.scalars(
        select(Contract).where(Contract.start_date <= today, Contract.end_date.between(today, soon))
    ).all()
    assert ending
    elevators = db.session.scalars(select(Elevator)).all()
    assert any(e.use_sign_valid_until < today for e in elevators if e.use_sign_valid_until)
    assert sum(today <= e.next_inspection_due <= soon for e in elevators) >= 3
    contractors = orgs_of(OrgKind.contractor)
    assert any(c.qualification_expires <= today + timedelta(days=60) for c in contractors)


def test_scopes_split_the_city(runner):
    load(runner)
    total = db.session.scalar(select(func.count(Elevator.id)))

    def visible(user: User) -> int:
        return len(db.session.scalars(scoped_elevators(user)).all())

    for kind in (OrgKind.property_company, OrgKind.contractor, OrgKind.regulator):
        counts = [visible(org.users[0]) for org in orgs_of(kind)]
        assert all(counts), kind
        assert sum(counts) == total, kind


def test_load_twice_changes_nothing(runner):
    load(runner)
    before = row_counts()
    assert before["elevators"] >= 30
    result = load(runner)
    assert "already there" in result.output
    assert row_counts() == before


def test_if_empty_loads_into_an_empty_database(runner):
    load(runner, "--if-empty")
    assert db.session.scalar(select(func.count(Elevator.id))) >= 30


def test_if_empty_does_nothing_when_an_organisation_exists(runner):
    make_org(OrgKind.regulator, name="已有的监管部门")
    db.session.commit()
    before = row_counts()
    result = load(runner, "--if-empty")
    assert "not loaded" in result.output
    assert row_counts() == before


def test_a_clash_with_existing_data_writes_nothing(runner):
    make_org(OrgKind.property_company, name="蓉城物业服务有限公司")
    db.session.commit()
    before = row_counts()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "nothing was written" in result.output
    assert row_counts() == before


def test_logins_lists_every_demo_user_and_the_password_works(runner, app, client):
    load(runner)
    result = runner.invoke(args=["demo", "logins"])
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["role", "organisation", "email", "password"]
    users = {u.email: u for u in db.session.scalars(select(User))}
    assert len(rows) - 1 == len(users) == 16
    for role, organisation, email, password in rows[1:]:
        user = users[email]
        assert (role, organisation) == (user.role.value, user.organisation.name)
        assert password == app.config["DEMO_PASSWORD"] == "demo12345"
    assert {row[0] for row in rows[1:]} == {role.value for role in Role}

    _, _, email, password = rows[1]
    wrong = client.post("/login", data={"login": email, "password": "not-the-password"})
    assert wrong.status_code == 200  # the form again, with an error
    response = client.post("/login", data={"login": email, "password": password})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert session["_user_id"] == users[email].get_id()


def test_the_demo_password_is_configurable(runner, app):
    app.config["DEMO_PASSWORD"] = "trainer-2026"
    load(runner)
    rows = list(csv.DictReader(io.StringIO(runner.invoke(args=["demo", "logins"]).stdout)))
    assert {row["password"] for row in rows} == {"trainer-2026"}
    hashes = set(db.session.scalars(select(User.password_hash)))
    assert len(hashes) == 1  # hashed once, shared by every demo user
    assert db.session.scalars(select(User)).first().check_password("trainer-2026")


def test_logins_without_demo_data_prints_only_the_header(runner):
    result = runner.invoke(args=["demo", "logins"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "role,organisation,email,password"
    assert "demo load" in result.stderr


def test_the_readme_lists_exactly_the_demo_logins(app):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    listed = []
    for line in readme.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 3 and cells[2].endswith(".demo"):
            listed.append((cells[0].split()[0], cells[1], cells[2]))
    org_names = {org.key: org.name for org in data.ORGS}
    expected = [(u.role.value, org_names[u.org], u.email) for u in data.USERS]
    assert listed == expected
    assert f"**`{app.config['DEMO_PASSWORD']}`**" in readme
