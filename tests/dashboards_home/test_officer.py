"""The safety officer's home panels: patrols to do, confirmations, lockouts, rectifications."""

from __future__ import annotations

from datetime import timedelta

from elevator_safety.auth.models import Role
from elevator_safety.dashboards import home
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.registry.models import ElevatorStatus
from tests.dashboards_home.helpers import confirm, finding, lock_out, reject, render, visit
from tests.factories import make_contract, make_elevator, make_record, make_user


def test_patrols_to_do_are_the_officers_in_service_elevators_without_a_patrol_today(world, now):
    own = world.own
    colleague = make_user(own.org, Role.safety_officer)
    make_elevator(own.site, colleague)  # another officer's elevator
    stopped = make_elevator(own.site, own.officer, status=ElevatorStatus.out_of_service)
    make_record(own.elevators[0], own.officer)  # patrolled today
    make_record(own.elevators[1], own.officer, occurred_at=now_utc() - timedelta(days=1))
    make_record(world.foreign.elevators[0], world.foreign.officer)
    db.session.commit()

    todo, done, total = home.patrol_round(own.officer)

    assert [e.id for e in todo] == [own.elevators[1].id]
    assert (done, total) == (1, 2)
    assert stopped.id not in [e.id for e in todo]


def test_a_director_sees_the_round_of_every_elevator_of_the_company(world, now):
    own = world.own
    colleague = make_user(own.org, Role.safety_officer)
    third = make_elevator(own.site, colleague)
    make_record(own.elevators[0], own.officer)
    db.session.commit()

    todo, done, total = home.patrol_round(own.director)

    assert {e.id for e in todo} == {own.elevators[1].id, third.id}
    assert (done, total) == (1, 3)


def test_confirmations_waiting_are_the_officers_unreviewed_visits_oldest_first(world, now):
    own, foreign = world.own, world.foreign
    colleague = make_user(own.org, Role.safety_officer)
    elsewhere = make_elevator(own.site, colleague)
    make_contract(elsewhere, own.contractor)
    db.session.commit()
    newer = visit(own.elevators[0], own.technician, days_ago=1)
    older = visit(own.elevators[1], own.technician, days_ago=3)
    confirm(visit(own.elevators[0], own.technician, days_ago=5), own.officer)
    reject(visit(own.elevators[1], own.technician, days_ago=6), own.officer)
    visit(elsewhere, own.technician, days_ago=2)  # another officer's elevator
    visit(foreign.elevators[0], foreign.technician, days_ago=2)

    records, count = home.awaiting_confirmation(own.officer)

    assert [r.id for r in records] == [older.id, newer.id]
    assert count == 2
    records, count = home.awaiting_confirmation(own.director)
    assert count == 3


def test_lockouts_show_entrapments_first_and_never_a_foreign_one(world, now):
    own, foreign = world.own, world.foreign
    plain = lock_out(own, own.elevators[0])
    trapped = lock_out(own, own.elevators[1], trapped=2)
    lock_out(foreign, foreign.elevators[0], trapped=1)

    data = home.officer_data(own.officer)

    assert [lo.id for lo in data.lockouts] == [trapped.id, plain.id]
    assert data.open_lockouts == 2


def test_rectifications_by_deadline_with_the_overdue_count(world, now):
    own, foreign = world.own, world.foreign
    later = finding(own, label="later", hours=72)
    overdue = finding(own, label="overdue", hours=-2)
    sooner = finding(own, label="sooner", hours=5)
    finding(foreign, label="foreign", hours=-5)

    data = home.officer_data(own.officer)

    assert [f.id for f in data.rectifications] == [overdue.id, sooner.id, later.id]
    assert (data.open_rectifications, data.overdue_rectifications) == (3, 1)


def test_the_panel_renders_the_four_lists_in_order_with_big_links(app, world, now):
    own = world.own
    record = visit(own.elevators[0], own.technician, days_ago=1)
    lockout = lock_out(own, own.elevators[1], trapped=1)
    overdue = finding(own, label="Door sensor dirty", hours=-1)

    page = render(app, own.officer, "dashboards/_officer.html")

    positions = [
        page.index(f'data-testid="{name}"')
        for name in (
            "officer-patrols",
            "officer-confirmations",
            "officer-lockouts",
            "officer-rectifications",
        )
    ]
    assert positions == sorted(positions)
    assert f"/elevators/{own.elevators[0].id}/patrols/new" in page
    assert f"/elevators/{own.elevators[1].id}/patrols/new" not in page  # locked out: not in service
    assert "0 of 1 done" in page
    assert f"/maintenance/{record.id}/review" in page
    assert f"/lockouts/{lockout.id}" in page
    assert "Entrapment" in page
    assert f"/rectifications/{overdue.id}" in page
    assert "1 overdue" in page
    assert 'class="tap"' in page


def test_the_panel_is_empty_for_other_roles(app, world, now):
    for user in (world.own.manager, world.own.admin, world.own.regulator):
        assert "officer-patrols" not in render(app, user, "dashboards/_officer.html")
