"""The list of maintenance records: scoped by the user, filtered, paged."""

from __future__ import annotations

import re

import pytest

from elevator_safety.extensions import db
from tests.factories import make_elevator, make_site
from tests.maintenance.conftest import confirm, make_visit, reject


def listed(client, query: str = "") -> list[int]:  # type: ignore[no-untyped-def]
    response = client.get("/maintenance" + query)
    assert response.status_code == 200
    return [int(i) for i in re.findall(r'<tr data-record="(\d+)"', response.get_data(as_text=True))]


@pytest.fixture
def visits(world, now):  # type: ignore[no-untyped-def]
    own, foreign = world.own, world.foreign
    awaiting = make_visit(own.elevators[0], own.technician, days_ago=1)
    confirmed = make_visit(own.elevators[0], own.technician, level="quarterly", days_ago=3)
    confirm(confirmed, own.officer)
    rejected = make_visit(own.elevators[1], own.technician, days_ago=2)
    reject(rejected, own.director)
    theirs = make_visit(foreign.elevators[0], foreign.technician, days_ago=1)
    return {"awaiting": awaiting, "confirmed": confirmed, "rejected": rejected, "theirs": theirs}


@pytest.mark.parametrize(
    "role",
    ["admin", "safety_director", "safety_officer", "contractor_manager", "technician", "regulator"],
)
def test_each_side_sees_its_own_records_newest_first(client, login_as, visits, role):
    login_as(role)
    mine = [visits["awaiting"].id, visits["rejected"].id, visits["confirmed"].id]
    assert listed(client) == mine
    login_as(role, "foreign")
    assert listed(client) == [visits["theirs"].id]


def test_filters_by_state(client, login_as, visits):
    login_as("safety_officer")
    for state in ("awaiting", "confirmed", "rejected"):
        assert listed(client, f"?state={state}") == [visits[state].id]


def test_filters_by_level_site_and_elevator(client, world, login_as, visits):
    login_as("technician")
    assert listed(client, "?level=quarterly") == [visits["confirmed"].id]
    assert listed(client, f"?site={world.own.site.id}") == listed(client)
    assert listed(client, f"?site={world.foreign.site.id}") == []
    elevator = world.own.elevators[1]
    assert listed(client, f"?elevator={elevator.id}") == [visits["rejected"].id]
    assert listed(client, f"?elevator={world.foreign.elevators[0].id}") == []
    assert listed(client, "?state=bogus&level=bogus") == listed(client)


def test_another_site_of_the_company_is_listed_and_filtered(client, world, login_as, now):
    own = world.own
    second_site = make_site(own.org)
    elevator = make_elevator(second_site, own.officer)
    from tests.factories import make_contract

    make_contract(elevator, own.contractor)
    db.session.commit()
    there = make_visit(elevator, own.technician)
    here = make_visit(own.elevators[0], own.technician, days_ago=1)
    login_as("safety_director")
    assert listed(client, f"?site={second_site.id}") == [there.id]
    assert listed(client, f"?site={own.site.id}") == [here.id]


def test_pages(app, client, world, login_as, now):
    app.config["PAGE_SIZE"] = 2
    made = [make_visit(world.own.elevators[0], world.own.technician, days_ago=d) for d in range(5)]
    login_as("safety_officer")
    newest_first = [r.id for r in made]
    assert listed(client) == newest_first[:2]
    assert listed(client, "?page=3") == newest_first[4:]
    assert listed(client, "?page=99") == []


def test_reviewers_get_a_button_for_records_awaiting(client, world, login_as, visits):
    login_as("safety_officer")
    body = client.get("/maintenance").get_data(as_text=True)
    assert f'href="/maintenance/{visits["awaiting"].id}/review"' in body
    assert f'href="/maintenance/{visits["confirmed"].id}/review"' not in body
    login_as("regulator")
    assert "/review" not in client.get("/maintenance").get_data(as_text=True)
