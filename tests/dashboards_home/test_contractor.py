"""The contractor manager's home panels: maintenance due, rejected records, findings, lockouts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from elevator_safety.auth.models import OrgKind, Role
from elevator_safety.dashboards import home
from elevator_safety.extensions import db
from elevator_safety.registry.models import Contract
from tests.dashboards_home.helpers import (
    confirm,
    finding,
    lock_out,
    reject,
    render,
    today,
    visit,
)
from tests.factories import make_contract, make_elevator, make_org, make_user


def start_contracts(side, days_ago: int) -> None:  # type: ignore[no-untyped-def]
    """Move the start of the side's contracts to ``days_ago`` days before today."""
    for contract in db.session.scalars(
        db.select(Contract).where(Contract.contractor_id == side.contractor.id)
    ):
        contract.start_date = today() - timedelta(days=days_ago)
    db.session.commit()


def due_rows(side):  # type: ignore[no-untyped-def]
    return [(d.elevator.id, d.level.value, d.due) for d in home.maintenance_due(side.contractor.id)]


def test_maintenance_due_by_date_from_the_last_confirmed_visit_or_the_contract_start(world, now):
    own = world.own
    start_contracts(own, 20)
    confirm(visit(own.elevators[0], own.technician, days_ago=10), own.officer)
    visit(own.elevators[0], own.technician, days_ago=2)  # not confirmed: does not count
    rows = due_rows(own)
    # e1: never done, due 15 days after the contract start (overdue); e0: 15 days after the visit.
    assert rows == [
        (own.elevators[1].id, "half_monthly", today() - timedelta(days=5)),
        (own.elevators[0].id, "half_monthly", today() + timedelta(days=5)),
    ]
    data = home.contractor_data(own.manager)
    assert (data.maintenance_due_count, data.maintenance_overdue_count) == (2, 1)
    assert [d.overdue for d in data.maintenance_due] == [True, False]


def test_a_confirmed_higher_level_counts_for_the_lower_ones(world, now):
    own = world.own
    start_contracts(own, 100)
    confirm(visit(own.elevators[0], own.technician, level="quarterly", days_ago=3), own.officer)
    rows = [r for r in due_rows(own) if r[0] == own.elevators[0].id]
    # half-monthly due 12 days ahead; quarterly 89 days ahead (beyond the 30-day horizon).
    assert rows == [(own.elevators[0].id, "half_monthly", today() + timedelta(days=12))]


def test_the_horizon_and_the_due_date_boundary(world, now):
    own = world.own
    start_contracts(own, 92 - 30)  # quarterly due exactly 30 days ahead: listed
    levels = {(r[0], r[1]) for r in due_rows(own)}
    assert (own.elevators[0].id, "quarterly") in levels
    start_contracts(own, 92 - 31)
    levels = {(r[0], r[1]) for r in due_rows(own)}
    assert (own.elevators[0].id, "quarterly") not in levels
    assert (own.elevators[0].id, "half_monthly") in levels


def test_only_its_contracts_in_force_and_elevators_in_service(world, now):
    own, foreign = world.own, world.foreign
    start_contracts(own, 20)
    start_contracts(foreign, 20)
    other = make_org(OrgKind.contractor)
    theirs = make_elevator(own.site, own.officer)
    make_contract(theirs, other)  # another contractor's elevator
    ended = make_elevator(own.site, own.officer)
    make_contract(
        ended,
        own.contractor,
        start_date=today() - timedelta(days=400),
        end_date=today() - timedelta(days=1),
    )
    partial = make_elevator(own.site, own.officer)
    make_contract(
        partial,
        own.contractor,
        start_date=today() - timedelta(days=20),
        level_plan="quarterly,annual",
    )
    db.session.commit()
    lock_out(own, own.elevators[1])  # out of service: maintenance does not apply

    ids = {(r[0], r[1]) for r in due_rows(own)}

    assert ids == {(own.elevators[0].id, "half_monthly")}
    assert {r[0] for r in due_rows(foreign)} == {e.id for e in foreign.elevators}


def test_the_due_list_costs_the_same_queries_for_many_elevators(app, world, now):
    own = world.own
    start_contracts(own, 20)

    def count_queries() -> int:
        seen: list[str] = []

        def listener(*args: object) -> None:
            seen.append("q")

        engine = db.engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            db.session.expire_all()
            home.maintenance_due(own.contractor.id)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    few = count_queries()
    for _ in range(5):
        elevator = make_elevator(own.site, own.officer)
        make_contract(elevator, own.contractor, start_date=today() - timedelta(days=20))
    db.session.commit()
    many = count_queries()
    assert len(home.maintenance_due(own.contractor.id)) == 7
    assert many == few


def test_rejected_records_until_redone(world, now):
    own, foreign = world.own, world.foreign
    start_contracts(own, 30)
    rejected = visit(own.elevators[0], own.technician, days_ago=5)
    rejection = reject(rejected, own.officer, reason="Pit not cleaned")
    redone = visit(own.elevators[1], own.technician, days_ago=6)
    reject(redone, own.officer)
    visit(own.elevators[1], own.technician, days_ago=1)  # the new record of the elevator
    confirm(visit(own.elevators[0], own.technician, days_ago=8), own.officer)
    reject(visit(foreign.elevators[0], foreign.technician, days_ago=2), foreign.officer)

    rows, count = home.rejected_not_redone(own.contractor.id)

    assert [(r.record.id, r.rejection.id, r.reason) for r in rows] == [
        (rejected.id, rejection.id, "Pit not cleaned")
    ]
    assert count == 1
    visit(own.elevators[0], own.technician, days_ago=0)
    assert home.rejected_not_redone(own.contractor.id) == ([], 0)


def test_a_rejected_record_of_another_contractor_is_not_listed(world, now):
    own = world.own
    other = make_org(OrgKind.contractor)
    other_tech = make_user(other, Role.technician, certificate_no="T-9999")
    elevator = make_elevator(own.site, own.officer)
    make_contract(elevator, other, start_date=today() - timedelta(days=30))
    db.session.commit()
    reject(visit(elevator, other_tech, days_ago=1), own.officer)

    assert home.rejected_not_redone(own.contractor.id) == ([], 0)
    _rows, count = home.rejected_not_redone(other.id)
    assert count == 1


def test_rectifications_it_owns_by_deadline_and_lockouts_on_its_elevators(world, now):
    own, foreign = world.own, world.foreign
    later = finding(own, label="later", hours=30, contractor=True)
    overdue = finding(own, label="overdue", hours=-3, contractor=True)
    finding(own, label="company's", hours=-10)  # owned by the property company
    finding(foreign, label="foreign", hours=-10, contractor=True)
    lockout = lock_out(own, own.elevators[0])
    lock_out(foreign, foreign.elevators[0])

    data = home.contractor_data(own.manager)

    assert [f.id for f in data.rectifications] == [overdue.id, later.id]
    assert (data.open_rectifications, data.overdue_rectifications) == (2, 1)
    assert [lo.id for lo in data.lockouts] == [lockout.id]
    assert data.open_lockouts == 1


def test_the_panel_renders_the_four_lists(app, world, now):
    own = world.own
    start_contracts(own, 20)
    rejected = visit(own.elevators[0], own.technician, days_ago=1)
    reject(rejected, own.officer, reason="Rails not lubricated")
    owned = finding(own, label="Replace the buffer", hours=24, contractor=True)
    lockout = lock_out(own, own.elevators[1], trapped=1)

    page = render(app, own.manager, "dashboards/_contractor.html")

    positions = [
        page.index(f'data-testid="{name}"')
        for name in (
            "contractor-maintenance",
            "contractor-rejected",
            "contractor-rectifications",
            "contractor-lockouts",
        )
    ]
    assert positions == sorted(positions)
    overdue_day = (today() - timedelta(days=5)).isoformat()
    assert f'data-due="{overdue_day}"' in page
    assert f"/elevators/{own.elevators[0].id}/maintenance/new?level=half_monthly" in page
    assert f"/records/{rejected.id}" in page
    assert "Rails not lubricated" in page
    assert f"/rectifications/{owned.id}" in page
    assert f"/lockouts/{lockout.id}" in page


def test_the_panel_is_empty_for_other_organisations(app, world, now):
    for user in (world.own.officer, world.own.director, world.own.regulator):
        assert "contractor-maintenance" not in render(app, user, "dashboards/_contractor.html")
