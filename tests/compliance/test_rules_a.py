"""Rules D1–D5 at their boundaries, with frozen time."""

from __future__ import annotations

from datetime import date, timedelta

from elevator_safety.compliance.models import State
from elevator_safety.extensions import db
from elevator_safety.records.models import FindingSource, Meaning, RecordKind
from elevator_safety.records.services import SignatureSpec, append
from elevator_safety.rectifications.services import open_finding
from elevator_safety.registry.models import ElevatorStatus
from tests.compliance.conftest import local, violations
from tests.factories import World, make_contract


def visit(world: World, elevator, level: str, at, *, confirm: bool = True):  # type: ignore[no-untyped-def]
    side = world.own
    record = append(
        elevator,
        RecordKind.maintenance,
        {"items": {}},
        side.technician,
        occurred_at=at,
        signatures=[SignatureSpec(side.technician, Meaning.submitted)],
        level=level,
    )
    if confirm:
        append(
            elevator,
            RecordKind.confirmation,
            {"statement": "现场监督确认"},
            side.officer,
            occurred_at=at,
            signatures=[SignatureSpec(side.officer, Meaning.confirmed)],
            subject=record,
        )
    return record


def patrol(world: World, elevator, at):  # type: ignore[no-untyped-def]
    return append(
        elevator,
        RecordKind.patrol,
        {"items": {}},
        world.own.officer,
        occurred_at=at,
        signatures=[SignatureSpec(world.own.officer, Meaning.submitted)],
    )


def test_half_monthly_boundaries(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    visit(cworld, lift, "half_monthly", local(2026, 5, 4, 10, 0))
    db.session.commit()
    code = "D1.maintenance.half_monthly"
    # Due date 2026-05-19 (visit day + 15); due soon from 2026-05-16 (3 days before).
    assert (lift.id, "2026-05-19") not in violations(code, local(2026, 5, 15, 23, 59))
    assert violations(code, local(2026, 5, 16, 0, 1))[(lift.id, "2026-05-19")] == State.due_soon
    assert violations(code, local(2026, 5, 19, 23, 59))[(lift.id, "2026-05-19")] == State.due_soon
    assert violations(code, local(2026, 5, 20, 0, 1))[(lift.id, "2026-05-19")] == State.overdue


def test_levels_are_cumulative_and_unconfirmed_visits_do_not_count(cworld: World) -> None:
    lift, other = cworld.own.elevators
    visit(cworld, lift, "annual", local(2026, 5, 4, 10, 0))
    visit(cworld, other, "annual", local(2026, 5, 4, 10, 0), confirm=False)
    db.session.commit()
    now = local(2026, 5, 10, 9, 0)
    for level in ("half_monthly", "quarterly", "semi_annual", "annual"):
        found = violations(f"D1.maintenance.{level}", now)
        assert not any(key[0] == lift.id for key in found), level
    # The unconfirmed visit leaves the other lift at its contract start (2026-01-24): overdue.
    assert violations("D1.maintenance.half_monthly", now)[(other.id, "2026-02-08")] == State.overdue


def test_unplanned_level_raises_nothing(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    lift.contracts[0].level_plan = "half_monthly,quarterly,semi_annual"
    db.session.commit()
    assert not any(
        k[0] == lift.id for k in violations("D1.maintenance.annual", local(2027, 1, 1, 9, 0))
    )
    assert any(
        k[0] == lift.id for k in violations("D1.maintenance.semi_annual", local(2026, 9, 1, 9, 0))
    )


def test_unconfirmed_after_two_days(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    record = visit(cworld, lift, "half_monthly", local(2026, 5, 4, 8, 0), confirm=False)
    db.session.commit()
    code = "D1.maintenance.unconfirmed"
    created = record.created_at
    assert (lift.id, str(record.id)) not in violations(code, created + timedelta(days=2))
    found = violations(code, created + timedelta(days=2, minutes=1))
    assert found[(lift.id, str(record.id))] == State.overdue


def test_contract_missing_expiring_and_qualification(cworld: World) -> None:
    side = cworld.own
    lift, other = side.elevators
    end = other.contracts[0].end_date  # 2026-05-04 + 265 days
    db.session.delete(lift.contracts[0])
    side.contractor.qualification_expires = date(2026, 5, 20)
    db.session.commit()
    now = local(2026, 5, 4, 9, 0)
    assert violations("D1.contract.missing", now) == {(lift.id, "-"): State.overdue}
    assert not any(k[0] == other.id for k in violations("D1.contract.expiring", now))
    soon = local(*(end - timedelta(days=29)).timetuple()[:3], 9, 0)
    found = violations("D1.contract.expiring", soon)
    assert found[(other.id, end.isoformat())] == State.due_soon
    before = local(*(end - timedelta(days=30)).timetuple()[:3], 9, 0)
    assert (other.id, end.isoformat()) not in violations("D1.contract.expiring", before)
    qual = violations("D1.qualification", now)
    assert qual[(other.id, "2026-05-20")] == State.due_soon
    assert (lift.id, "2026-05-20") not in qual  # no contract: its own rule
    assert violations("D1.qualification", local(2026, 5, 21, 0, 1))[(other.id, "2026-05-20")] == (
        State.overdue
    )


def test_contract_rules_count_only_the_contracts_in_force(cworld: World) -> None:
    """A contract that starts tomorrow is no contract today; a follow-on one covers the warning;
    a contractor's qualification counts only while its contract is in force."""
    side = cworld.own
    lift, other = side.elevators
    end = other.contracts[0].end_date
    db.session.delete(lift.contracts[0])
    make_contract(lift, side.contractor, start_date=date(2026, 5, 5), end_date=date(2027, 6, 30))
    lapsed = cworld.foreign.contractor
    lapsed.qualification_expires = date(2026, 1, 1)
    make_contract(
        other, lapsed, start_date=end + timedelta(days=1), end_date=end + timedelta(days=365)
    )
    db.session.commit()
    today = local(2026, 5, 4, 9, 0)
    assert violations("D1.contract.missing", today) == {(lift.id, "-"): State.overdue}
    assert violations("D1.contract.missing", local(2026, 5, 5, 9, 0)) == {}
    soon = local(*(end - timedelta(days=29)).timetuple()[:3], 9, 0)
    assert not any(key[0] == other.id for key in violations("D1.contract.expiring", soon))
    own = {lift.id, other.id}
    assert not any(key[0] in own for key in violations("D1.qualification", today))
    after = local(*(end + timedelta(days=1)).timetuple()[:3], 9, 0)
    found = violations("D1.qualification", after)
    assert {key: state for key, state in found.items() if key[0] in own} == {
        (other.id, "2026-01-01"): State.overdue
    }


def test_use_sign(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    lift.use_sign_valid_until = date(2026, 6, 3)
    db.session.commit()
    code = "D2.use_sign"
    assert (lift.id, "2026-06-03") not in violations(code, local(2026, 5, 3, 23, 59))
    assert violations(code, local(2026, 5, 4, 0, 1))[(lift.id, "2026-06-03")] == State.due_soon
    assert violations(code, local(2026, 6, 3, 23, 59))[(lift.id, "2026-06-03")] == State.due_soon
    assert violations(code, local(2026, 6, 4, 0, 1))[(lift.id, "2026-06-03")] == State.overdue


def test_findings_rule_open_then_overdue_and_site_level(cworld: World) -> None:
    side = cworld.own
    lift, other = side.elevators
    finding = open_finding(
        site=side.site,
        elevator=lift,
        source=FindingSource.patrol,
        duty="D2",
        item_label="Use sign",
        description="Torn",
        author=side.officer,
    )
    open_finding(
        site=side.site,
        elevator=None,
        source=FindingSource.patrol,
        duty="D5",
        item_label="Machine room",
        description="Too hot",
        author=side.officer,
    )
    db.session.commit()
    found = violations("D2.findings", finding.deadline)
    assert found == {(lift.id, str(finding.id)): State.open_finding}
    later = finding.deadline + timedelta(minutes=1)
    assert violations("D2.findings", later)[(lift.id, str(finding.id))] == State.overdue
    d5 = violations("D5.findings", later)
    assert {key[0] for key in d5} == {lift.id, other.id}
    assert violations("D3.findings", later) == {}


def test_patrol_day_change_in_shanghai(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    patrol(cworld, lift, local(2026, 5, 4, 9, 0))
    db.session.commit()
    code = "D3.patrol"
    # 2026-05-04 23:59 local = 15:59 UTC: the patrol of the day counts.
    before = violations(code, local(2026, 5, 4, 23, 59))
    assert not any(key[0] == lift.id for key in before)
    # 00:01 local on the 5th (16:01 UTC on the 4th): a new day, before the due hour.
    after = violations(code, local(2026, 5, 5, 0, 1))
    assert not any(key[0] == lift.id for key in after)
    assert violations(code, local(2026, 5, 5, 12, 0))[(lift.id, "2026-05-05")] == State.due_soon
    assert (lift.id, "2026-05-05") not in violations(code, local(2026, 5, 5, 11, 59))


def test_patrol_missed_days_count_once_per_day(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    patrol(cworld, lift, local(2026, 5, 4, 9, 0))
    db.session.commit()
    found = violations("D3.patrol", local(2026, 5, 8, 9, 0))
    mine = {period: state for (eid, period), state in found.items() if eid == lift.id}
    assert mine == {
        "2026-05-05": State.overdue,
        "2026-05-06": State.overdue,
        "2026-05-07": State.overdue,
    }
    # Bounded look-back: at most 7 past days (and today after the due hour).
    far = violations("D3.patrol", local(2026, 6, 30, 13, 0))
    assert len([k for k in far if k[0] == lift.id]) == 8


def test_patrol_not_applicable_out_of_service(cworld: World) -> None:
    lift = cworld.own.elevators[0]
    lift.status = ElevatorStatus.out_of_service
    db.session.commit()
    assert not any(k[0] == lift.id for k in violations("D3.patrol", local(2026, 5, 8, 13, 0)))
    assert not any(
        k[0] == lift.id for k in violations("D1.maintenance.half_monthly", local(2026, 5, 8, 13, 0))
    )
