"""The desk's search: each criterion, the compliance state, scope by organisation kind, links."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from elevator_safety.auth.models import OrgKind, Role
from elevator_safety.compliance.models import State
from elevator_safety.extensions import db
from tests.dashboards.conftest import add_alert
from tests.factories import make_contract, make_elevator, make_org, make_site, make_user

SEARCH = "/desk/"


def found(client, **args) -> set[str]:  # type: ignore[no-untyped-def]
    """Return the equipment codes listed by a search."""
    response = client.get(SEARCH, query_string=args)
    assert response.status_code == 200
    return set(re.findall(r'<tr data-elevator="([^"]+)"', response.get_data(as_text=True)))


@pytest.fixture
def district(world):  # type: ignore[no-untyped-def]
    """A second site of another company in the own district, with its own contractor."""
    company = make_org(OrgKind.property_company, name="Golden Harbour Property")
    officer = make_user(company, Role.safety_officer)
    site = make_site(company, name="Riverside Gardens", district_code="510104")
    elevator = make_elevator(
        site,
        officer,
        equipment_code="31105101042099000077",
        registration_no="梯11川A77777",
        rescue_code="51019 8765",
    )
    contractor = make_org(OrgKind.contractor, name="Swift Lift Service")
    make_contract(elevator, contractor)
    db.session.commit()
    return elevator


def codes(*elevators) -> set[str]:  # type: ignore[no-untyped-def]
    return {e.equipment_code for e in elevators}


def test_regulator_sees_the_whole_district_and_nothing_else(client, login_as, world, district):
    login_as("regulator")
    assert found(client) == codes(*world.own.elevators, district)


@pytest.mark.parametrize(
    ("args", "which"),
    [
        ({"code": "2099000077"}, "new"),
        ({"code": "a77777"}, "new"),  # registration number, case-insensitive
        ({"rescue": "510198765"}, "new"),  # spaces in the stored code ignored in the input
        ({"rescue": "51019 8765"}, "new"),
        ({"site": "riverside"}, "new"),
        ({"company": "golden harbour"}, "new"),
        ({"contractor": "swift"}, "new"),
        ({"code": "%"}, "none"),  # a LIKE wildcard is a plain character
        ({"site": "nothing like this"}, "none"),
    ],
)
def test_each_criterion(client, login_as, world, district, args, which):
    district.rescue_code = "510198765"
    db.session.commit()
    login_as("regulator")
    expected = {"new": codes(district), "none": set()}[which]
    assert found(client, **args) == expected


def test_search_by_own_rescue_code_and_company_of_the_world(client, login_as, world, district):
    own = world.own
    login_as("regulator")
    first = own.elevators[0]
    assert found(client, rescue=first.rescue_code) == codes(first)
    assert found(client, company=own.org.name) == codes(*own.elevators)
    assert found(client, contractor=own.contractor.name) == codes(*own.elevators)
    assert found(client, site=own.site.name, contractor="swift") == set()


def test_other_districts_elevators_never_appear(client, login_as, world, district):
    foreign = world.foreign.elevators[0]
    login_as("regulator")
    for args in (
        {"code": foreign.equipment_code},
        {"rescue": foreign.rescue_code},
        {"site": world.foreign.site.name},
        {"company": world.foreign.org.name},
        {"contractor": world.foreign.contractor.name},
        {"state": "ok"},
    ):
        assert foreign.equipment_code not in found(client, **args), args
    html = client.get(SEARCH).get_data(as_text=True)
    assert world.foreign.site.name not in html


def test_compliance_state_is_the_worst_open_alert(client, login_as, world, district):
    a, b = world.own.elevators
    add_alert(a, State.overdue, duty="D1")
    add_alert(a, State.due_soon, duty="D6")
    add_alert(b, State.hard_stop, duty="D11", resolved_at=datetime.now(UTC))  # resolved
    add_alert(b, State.open_finding, duty="D9")
    add_alert(district, State.due_soon, duty="D1")
    add_alert(world.foreign.elevators[0], State.hard_stop, duty="D11")
    db.session.commit()
    login_as("regulator")
    assert found(client, state="overdue") == codes(a)
    assert found(client, state="open_finding") == codes(b)
    assert found(client, state="due_soon") == codes(district)
    assert found(client, state="hard_stop") == set()
    assert found(client, state="ok") == set()
    assert found(client, state="bogus") == codes(a, b, district)  # an unknown state is ignored
    row = _row(client.get(SEARCH).get_data(as_text=True), a.equipment_code)
    assert 'data-state="overdue"' in row


def test_ok_state_means_no_failing_alert(client, login_as, world, district):
    a, b = world.own.elevators
    add_alert(a, State.hard_stop, duty="D11")
    db.session.commit()
    login_as("regulator")
    assert found(client, state="hard_stop") == codes(a)
    assert found(client, state="ok") == codes(b, district)


def test_rows_link_to_the_elevator_page_and_its_archive(client, login_as, world):
    elevator = world.own.elevators[0]
    login_as("regulator")
    row = _row(client.get(SEARCH).get_data(as_text=True), elevator.equipment_code)
    assert f'href="/elevators/{elevator.id}"' in row
    link = re.search(r'href="([^"]+)" data-testid="archive-link"', row).group(1)
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert client.get(f"/elevators/{elevator.id}").status_code == 200


@pytest.mark.parametrize("role", ["admin", "safety_officer", "technician"])
def test_companies_and_contractors_search_their_own_scope(client, login_as, world, district, role):
    login_as(role)
    assert found(client) == codes(*world.own.elevators)
    html = client.get(SEARCH).get_data(as_text=True)
    assert ('data-testid="export-site-link"' in html) == (role != "technician")
    assert found(client, rescue=district.rescue_code) == set()


def test_contractor_loses_an_elevator_whose_contract_ended(client, login_as, world):
    a, b = world.own.elevators
    contract = a.contracts[0]
    contract.end_date = contract.start_date
    db.session.commit()
    login_as("contractor_manager")
    assert found(client) == codes(b)


def test_pages_of_results(client, login_as, world, app):
    app.config["PAGE_SIZE"] = 1
    login_as("regulator")
    first = found(client)
    second = found(client, page=2)
    assert len(first) == len(second) == 1
    assert first | second == codes(*world.own.elevators)


def _row(html: str, code: str) -> str:
    return re.search(rf'<tr data-elevator="{code}">.*?</tr>', html, re.S).group(0)
