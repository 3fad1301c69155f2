"""Compliance rules D6–D11 (compliance/rules_b.py) at their boundaries, with frozen time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask

from elevator_safety.compliance import rules_b
from elevator_safety.compliance.base import Context, Rule
from elevator_safety.compliance.rules_b import RULES, earliest_in_time, is_serious
from elevator_safety.extensions import db
from elevator_safety.legal import cycle
from elevator_safety.lockouts.models import Lockout, LockoutCause, LockoutStatus
from elevator_safety.records import services as records
from elevator_safety.records.models import (
    Finding,
    FindingSource,
    FindingStatus,
    Meaning,
    RecordKind,
    Severity,
)
from elevator_safety.registers import chain
from elevator_safety.registers.models import Certificate, CertificateKind, RegisterKind
from elevator_safety.registry.models import ElevatorStatus, InspectionResult
from tests.factories import World, make_elevator

#: 2026-03-10 12:00 in Asia/Shanghai.
NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
TODAY = date(2026, 3, 10)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def rule(code: str) -> Rule:
    return next(r for r in RULES if r.code == code)


def rows(app: Flask, code: str, now: datetime = NOW, **config: Any) -> set[tuple[Any, ...]]:
    """Return the violations of a rule as (elevator_id, period, state, detail)."""
    ctx = Context(now=now, config=dict(app.config) | config)
    return {tuple(row) for row in db.session.execute(rule(code).query(ctx)).all()}


def of(result: set[tuple[Any, ...]], elevator_id: int) -> set[tuple[Any, ...]]:
    return {row[1:] for row in result if row[0] == elevator_id}


def test_codes_are_unique_and_well_formed(app: Flask) -> None:
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes))
    assert {r.duty for r in RULES} == {"D6", "D7", "D8", "D9", "D10", "D11"}
    for r in RULES:
        assert r.code.startswith(r.duty + ".")
        assert str(r.title)


# --- D6 roster ---------------------------------------------------------------------------


def shift(world: World, start: datetime, end: datetime) -> Any:
    site = world.own.site
    return chain.signed(
        site,
        RegisterKind.roster_shift,
        {"who": "x"},
        world.own.officer,
        starts_at=start,
        ends_at=end,
        occurred_at=NOW - timedelta(days=1),
    )


def test_roster_without_shifts_is_a_gap_every_day(app: Flask, world: World) -> None:
    result = rows(app, "D6.roster")
    elevator = world.own.elevators[0]
    mine = of(result, elevator.id)
    assert len(mine) == app.config["ROSTER_HORIZON_DAYS"]
    site = world.own.site.id
    assert ("2026-03-10", "overdue", f"{site}|2026-03-10") in mine
    assert ("2026-03-11", "due_soon", f"{site}|2026-03-11") in mine
    assert of(result, world.own.elevators[1].id) == mine


def test_roster_fully_covered_has_no_gap(app: Flask, world: World) -> None:
    # Local midnight of 2026-03-10 in Shanghai is 2026-03-09 16:00 UTC.
    start = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    for n in range(7):
        shift(world, start + timedelta(days=n), start + timedelta(days=n + 1))
    db.session.commit()
    assert of(rows(app, "D6.roster"), world.own.elevators[0].id) == set()


def test_roster_one_minute_missing_today_is_overdue(app: Flask, world: World) -> None:
    start = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)
    shift(world, start + MINUTE, start + timedelta(days=1))
    for n in range(1, 7):
        shift(world, start + timedelta(days=n), start + timedelta(days=n + 1))
    db.session.commit()
    assert of(rows(app, "D6.roster"), world.own.elevators[0].id) == {
        ("2026-03-10", "overdue", f"{world.own.site.id}|2026-03-10")
    }
    # Withdrawing the last day's shift opens a future gap (due soon).
    last = shift(world, start + timedelta(days=6), start + timedelta(days=7))
    chain.signed(
        world.own.site,
        RegisterKind.roster_withdrawal,
        {},
        world.own.officer,
        subject=last,
        occurred_at=NOW - timedelta(hours=1),
    )
    db.session.commit()
    periods = {row[0:2] for row in of(rows(app, "D6.roster"), world.own.elevators[0].id)}
    assert periods == {("2026-03-10", "overdue")}  # day 7 is still covered by the first shift
    message = rule("D6.roster").message(f"{world.own.site.id}|2026-03-10")
    assert "2026-03-10" in message
    assert rule("D6.roster").link(1, f"{world.own.site.id}|2026-03-10") == (
        f"/sites/{world.own.site.id}/registers"
    )


@pytest.mark.parametrize("seed", range(4))
def test_roster_gaps_match_the_registers_arithmetic(app: Flask, world: World, seed: int) -> None:
    """Random rosters in two zones: the rule's gap days are those of registers.rules.

    Shifts of whole hours and odd minutes overlap, touch, leave holes and
    cross midnight; some are withdrawn, some lie wholly before the horizon.
    """
    import random

    from elevator_safety.registers import rules as register_rules
    from tests.factories import make_site

    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    sites = [world.own.site, world.foreign.site]
    extra = make_site(world.own.org, district_code="510104", district_name="x")
    extra.timezone = "Asia/Urumqi"
    sites.append(extra)
    make_elevator(extra, world.own.officer)
    world.foreign.site.timezone = "Asia/Kathmandu"  # UTC+05:45
    db.session.flush()
    horizon = app.config["ROSTER_HORIZON_DAYS"]
    for site in sites:
        cursor = NOW - timedelta(days=2, hours=rng.randrange(24))
        while cursor < NOW + timedelta(days=horizon + 1):
            length = timedelta(hours=rng.choice([4, 8, 12, 24]), minutes=rng.choice([0, 0, 1, 30]))
            start = cursor + timedelta(minutes=rng.choice([-90, -1, 0, 0, 0, 1, 60]))
            officer = world.own.officer if site is not world.foreign.site else world.foreign.officer
            made = chain.signed(
                site,
                RegisterKind.roster_shift,
                {"who": "x"},
                officer,
                starts_at=start,
                ends_at=start + length,
                occurred_at=NOW - timedelta(days=3),
            )
            if rng.random() < 0.15:
                chain.signed(
                    site,
                    RegisterKind.roster_withdrawal,
                    {},
                    officer,
                    subject=made,
                    occurred_at=NOW - timedelta(hours=1),
                )
            cursor = start + length
    db.session.commit()
    result = rows(app, "D6.roster")
    gap_days = 0
    for site in sites:
        expected = {
            (day.isoformat(), f"{site.id}|{day.isoformat()}")
            for day, gaps in register_rules.site_roster_gaps(site, horizon, NOW)
            if gaps
        }
        found = {(row[1], row[3]) for row in result if row[3].startswith(f"{site.id}|")}
        assert found == expected, site.timezone
        gap_days += len(expected)
    assert 0 < gap_days < len(sites) * horizon  # some days have gaps, some are covered


def test_roster_skips_out_of_service(app: Flask, world: World) -> None:
    elevator = world.own.elevators[0]
    elevator.status = ElevatorStatus.out_of_service
    db.session.commit()
    result = rows(app, "D6.roster")
    assert of(result, elevator.id) == set()
    assert of(result, world.own.elevators[1].id)


# --- D6 alarm tests ----------------------------------------------------------------------


def alarm_test(world: World, elevator: Any, on: datetime) -> None:
    records.append(
        elevator,
        RecordKind.alarm_test,
        {"answered": True, "failed": False},
        world.own.officer,
        occurred_at=on,
        signatures=[records.SignatureSpec(world.own.officer, Meaning.recorded)],
    )
    db.session.commit()


def test_alarm_test_never_is_overdue(app: Flask, world: World) -> None:
    elevator = world.own.elevators[0]
    assert of(rows(app, "D6.alarm_test"), elevator.id) == {("never", "overdue", "")}
    assert "No emergency alarm test" in rule("D6.alarm_test").message("")


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [
        (30, None),  # due today: not yet overdue, but due soon
        (31, "overdue"),
        (27, "due_soon"),  # due in 3 days
        (26, "ok"),  # due in 4 days
    ],
)
def test_alarm_test_interval_boundary(
    app: Flask, world: World, days_ago: int, expected: str | None
) -> None:
    elevator = world.own.elevators[0]
    day = TODAY - timedelta(days=days_ago)
    # 10:00 local that day.
    alarm_test(world, elevator, datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))
    mine = of(rows(app, "D6.alarm_test"), elevator.id)
    if expected == "ok":
        assert mine == set()
    else:
        state = expected or "due_soon"
        assert mine == {(day.isoformat(), state, day.isoformat())}


def test_alarm_test_uses_local_day(app: Flask, world: World) -> None:
    """A test at 00:30 Shanghai (16:30 UTC the day before) counts for the local day.

    Due again on 03-10 (local): due soon all that local day, overdue from local
    midnight, which is 16:00 UTC while UTC is still on 03-10.
    """
    elevator = world.own.elevators[0]
    alarm_test(world, elevator, datetime(2026, 2, 7, 16, 30, tzinfo=UTC))  # 2026-02-08 local
    due_soon = {("2026-02-08", "due_soon", "2026-02-08")}
    assert of(rows(app, "D6.alarm_test"), elevator.id) == due_soon
    before = datetime(2026, 3, 10, 15, 59, tzinfo=UTC)  # 23:59 local on 03-10
    assert of(rows(app, "D6.alarm_test", now=before), elevator.id) == due_soon
    after_midnight = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 00:00 local on 03-11
    assert of(rows(app, "D6.alarm_test", now=after_midnight), elevator.id) == {
        ("2026-02-08", "overdue", "2026-02-08")
    }


def test_alarm_test_not_for_out_of_service(app: Flask, world: World) -> None:
    elevator = world.own.elevators[0]
    elevator.status = ElevatorStatus.decommissioned
    db.session.commit()
    assert of(rows(app, "D6.alarm_test"), elevator.id) == set()
    assert rule("D6.alarm_test").link(elevator.id, "") == (
        f"/elevators/{elevator.id}/alarm-tests/new"
    )


# --- D7 video checks ---------------------------------------------------------------------


def video_check(world: World, on: date) -> None:
    chain.signed(
        world.own.site,
        RegisterKind.video_check,
        {"cameras_ok": True},
        world.own.officer,
        occurred_at=datetime(on.year, on.month, on.day, 2, 0, tzinfo=UTC),
        on_date=on - timedelta(days=40),
        ok=True,
    )
    db.session.commit()


@pytest.mark.parametrize(
    ("days_ago", "state"), [(31, "overdue"), (30, "due_soon"), (27, "due_soon"), (26, None)]
)
def test_video_check_interval(app: Flask, world: World, days_ago: int, state: str | None) -> None:
    day = TODAY - timedelta(days=days_ago)
    video_check(world, day)
    site = world.own.site.id
    result = rows(app, "D7.video_check")
    for elevator in world.own.elevators:
        expected = {(day.isoformat(), state, f"{site}|{day.isoformat()}")} if state else set()
        assert of(result, elevator.id) == expected


def test_video_check_never(app: Flask, world: World) -> None:
    site = world.own.site.id
    assert of(rows(app, "D7.video_check"), world.own.elevators[0].id) == {
        ("never", "overdue", f"{site}|")
    }
    assert rule("D7.video_check").link(0, f"{site}|") == f"/sites/{site}/registers"
    assert "No video" in rule("D7.video_check").message(f"{site}|")


def make_finding(world: World, duty: str, elevator: Any = None, **kw: Any) -> Finding:
    values: dict[str, Any] = {
        "site_id": world.own.site.id,
        "elevator_id": elevator.id if elevator else None,
        "source": FindingSource.manual,
        "item_label": "Item",
        "duty": duty,
        "description": "Found",
        "severity": Severity.ordinary,
        "status": FindingStatus.open,
        "owner_organisation_id": world.own.org.id,
        "deadline": NOW + timedelta(days=1),
    }
    finding = Finding(**(values | kw))
    db.session.add(finding)
    db.session.commit()
    return finding


@pytest.mark.parametrize("duty", ["D7", "D10"])
def test_findings_rules(app: Flask, world: World, duty: str) -> None:
    elevator = world.own.elevators[0]
    site_wide = make_finding(world, duty)
    own = make_finding(world, duty, elevator)
    make_finding(world, "D5", elevator)
    make_finding(world, duty, elevator, status=FindingStatus.verified)
    result = rows(app, f"{duty}.findings")
    assert of(result, elevator.id) == {
        (str(site_wide.id), "open_finding", str(site_wide.id)),
        (str(own.id), "open_finding", str(own.id)),
    }
    assert of(result, world.own.elevators[1].id) == {
        (str(site_wide.id), "open_finding", str(site_wide.id))
    }


# --- D8 lockouts -------------------------------------------------------------------------


def lockout(world: World, opened_at: datetime, elevator: Any = None, **kw: Any) -> Lockout:
    elevator = elevator or world.own.elevators[0]
    values: dict[str, Any] = {
        "elevator_id": elevator.id,
        "status": LockoutStatus.open,
        "cause": LockoutCause.fault,
        "description": "Stuck",
        "status_before": ElevatorStatus.in_service,
        "opened_at": opened_at,
        "opened_by_id": world.own.officer.id,
    }
    row = Lockout(**(values | kw))
    db.session.add(row)
    db.session.commit()
    return row


def test_first_steps_at_fifteen_minutes(app: Flask, world: World) -> None:
    elevator = world.own.elevators[0]
    row = lockout(world, NOW - timedelta(minutes=15))
    assert of(rows(app, "D8.first_steps"), elevator.id) == set()
    later = NOW + SECOND
    assert of(rows(app, "D8.first_steps", now=later), elevator.id) == {
        (str(row.id), "overdue", f"{row.id}:both")
    }
    row.notice_posted_at = NOW
    db.session.commit()
    assert of(rows(app, "D8.first_steps", now=later), elevator.id) == {
        (str(row.id), "overdue", f"{row.id}:notify")
    }
    row.notice_posted_at = None
    row.notified_at = NOW
    db.session.commit()
    assert of(rows(app, "D8.first_steps", now=later), elevator.id) == {
        (str(row.id), "overdue", f"{row.id}:notice")
    }
    row.notice_posted_at = NOW
    db.session.commit()
    assert of(rows(app, "D8.first_steps", now=later), elevator.id) == set()
    assert rule("D8.first_steps").link(elevator.id, f"{row.id}:notice") == f"/lockouts/{row.id}"
    for which in ("notice", "notify", "both"):
        assert f"#{row.id}" in rule("D8.first_steps").message(f"{row.id}:{which}")


def test_first_steps_applies_out_of_service_and_not_closed(app: Flask, world: World) -> None:
    elevator = world.own.elevators[0]
    elevator.status = ElevatorStatus.out_of_service
    row = lockout(world, NOW - timedelta(hours=1))
    assert rule("D8.first_steps").applies_out_of_service
    assert of(rows(app, "D8.first_steps"), elevator.id) == {
        (str(row.id), "overdue", f"{row.id}:both")
    }
    row.status = LockoutStatus.returned
    db.session.commit()
    assert of(rows(app, "D8.first_steps"), elevator.id) == set()


def test_long_lockout_three_days(app: Flask, world: World) -> None:
    elevator = world.own.elevators[0]
    row = lockout(world, NOW - timedelta(days=3))
    assert of(rows(app, "D8.long_lockout", now=NOW - MINUTE), elevator.id) == set()
    assert of(rows(app, "D8.long_lockout"), elevator.id) == set()
    assert of(rows(app, "D8.long_lockout", now=NOW + MINUTE), elevator.id) == {
        (str(row.id), "overdue", str(row.id))
    }
    row.status = LockoutStatus.cancelled
    db.session.commit()
    assert of(rows(app, "D8.long_lockout", now=NOW + MINUTE), elevator.id) == set()


def entrapment(world: World, limit: int, arrived_after: timedelta | None, **kw: Any) -> Lockout:
    alarm = NOW - timedelta(hours=2)
    return lockout(
        world,
        alarm,
        entrapment=True,
        trapped_count=1,
        alarm_at=alarm,
        rescue_limit_minutes=limit,
        rescue_arrived_at=alarm + arrived_after if arrived_after is not None else None,
        **kw,
    )


@pytest.mark.parametrize(
    ("limit", "after", "late"),
    [
        (30, timedelta(minutes=30), False),
        (30, timedelta(minutes=30, seconds=1), True),
        (60, timedelta(minutes=30, seconds=1), False),
        (60, timedelta(minutes=60), False),
        (60, timedelta(minutes=60, seconds=1), True),
    ],
)
def test_rescue_late_boundaries(
    app: Flask, world: World, limit: int, after: timedelta, late: bool
) -> None:
    row = entrapment(world, limit, after, status=LockoutStatus.returned)
    expected = {(str(row.id), "overdue", str(row.id))} if late else set()
    assert of(rows(app, "D8.rescue_late"), world.own.elevators[0].id) == expected


def test_rescue_awaited_counts_until_now(app: Flask, world: World) -> None:
    row = entrapment(world, 30, None)
    alarm = NOW - timedelta(hours=2)
    elevator = world.own.elevators[0].id
    assert of(rows(app, "D8.rescue_late", now=alarm + timedelta(minutes=30)), elevator) == set()
    assert of(rows(app, "D8.rescue_late", now=alarm + timedelta(minutes=30, seconds=1)), elevator)
    assert of(rows(app, "D8.rescue_late"), elevator) == {(str(row.id), "overdue", str(row.id))}


def test_rescue_late_looks_back_thirty_days(app: Flask, world: World) -> None:
    row = entrapment(world, 30, timedelta(minutes=45), status=LockoutStatus.returned)
    elevator = world.own.elevators[0].id
    opened = row.opened_at
    assert of(rows(app, "D8.rescue_late", now=opened + timedelta(days=30)), elevator)
    assert of(rows(app, "D8.rescue_late", now=opened + timedelta(days=30) + SECOND), elevator) == (
        set()
    )
    assert "late" in rule("D8.rescue_late").message(str(row.id))


# --- D9 deadlines ------------------------------------------------------------------------


def test_deadline_boundary_and_serious(app: Flask, world: World) -> None:
    elevator = world.own.elevators[0]
    ordinary = make_finding(world, "D2", elevator, deadline=NOW)
    serious = make_finding(world, "D5", None, deadline=NOW, severity=Severity.serious)
    assert of(rows(app, "D9.deadline", now=NOW - MINUTE), elevator.id) == set()
    assert of(rows(app, "D9.deadline"), elevator.id) == set()
    result = rows(app, "D9.deadline", now=NOW + MINUTE)
    assert of(result, elevator.id) == {
        (str(ordinary.id), "overdue", str(ordinary.id)),
        (str(serious.id), "overdue", f"{serious.id}:serious"),
    }
    assert of(result, world.own.elevators[1].id) == {
        (str(serious.id), "overdue", f"{serious.id}:serious")
    }
    assert is_serious(f"{serious.id}:serious")
    assert not is_serious(str(ordinary.id))
    assert "Serious" in rule("D9.deadline").message(f"{serious.id}:serious")
    assert rule("D9.deadline").link(elevator.id, f"{serious.id}:serious") == (
        f"/rectifications/{serious.id}"
    )


def test_deadline_done_findings_and_out_of_service(app: Flask, world: World) -> None:
    elevator = world.own.elevators[0]
    elevator.status = ElevatorStatus.out_of_service
    overdue = make_finding(world, "D2", elevator, deadline=NOW - MINUTE)
    make_finding(world, "D2", elevator, deadline=NOW - MINUTE, status=FindingStatus.completed)
    make_finding(world, "D2", elevator, deadline=NOW - MINUTE, status=FindingStatus.verified)
    reopened = make_finding(
        world, "D2", elevator, deadline=NOW - MINUTE, status=FindingStatus.reopened
    )
    assert {row[0] for row in of(rows(app, "D9.deadline"), elevator.id)} == {
        str(overdue.id),
        str(reopened.id),
    }


# --- D11 inspections ---------------------------------------------------------------------


def test_inspection_due_today_yesterday_and_soon(app: Flask, world: World) -> None:
    elevator = world.own.elevators[0]
    elevator.next_inspection_due = TODAY
    db.session.commit()
    assert of(rows(app, "D11.inspection"), elevator.id) == {
        ("2026-03-10", "due_soon", "due|2026-03-10")
    }
    elevator.next_inspection_due = TODAY - timedelta(days=1)
    db.session.commit()
    assert of(rows(app, "D11.inspection"), elevator.id) == {
        ("2026-03-09", "hard_stop", "overdue|2026-03-09")
    }
    elevator.next_inspection_due = TODAY + timedelta(days=30)
    db.session.commit()
    assert of(rows(app, "D11.inspection"), elevator.id) == {
        ("2026-04-09", "due_soon", "due|2026-04-09")
    }
    elevator.next_inspection_due = TODAY + timedelta(days=31)
    db.session.commit()
    assert of(rows(app, "D11.inspection"), elevator.id) == set()
    elevator.last_inspection_result = InspectionResult.failed
    db.session.commit()
    assert of(rows(app, "D11.inspection"), elevator.id) == {("failed", "hard_stop", "failed")}
    for detail in ("failed", "overdue|2026-03-09", "due|2026-04-09"):
        assert rule("D11.inspection").message(detail)


def test_inspection_day_change_in_shanghai(app: Flask, world: World) -> None:
    """At 16:00 UTC on 03-10 it is already 03-11 in Shanghai: due on 03-10 is overdue."""
    elevator = world.own.elevators[0]
    elevator.next_inspection_due = TODAY
    db.session.commit()
    before = datetime(2026, 3, 10, 15, 59, tzinfo=UTC)
    after = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
    assert {r[1] for r in of(rows(app, "D11.inspection", now=before), elevator.id)} == {"due_soon"}
    assert {r[1] for r in of(rows(app, "D11.inspection", now=after), elevator.id)} == {"hard_stop"}


def test_inspection_not_for_out_of_service(app: Flask, world: World) -> None:
    elevator = world.own.elevators[0]
    elevator.next_inspection_due = TODAY - timedelta(days=100)
    elevator.status = ElevatorStatus.out_of_service
    db.session.commit()
    assert not rule("D11.inspection").applies_out_of_service
    assert of(rows(app, "D11.inspection"), elevator.id) == set()


# --- D11 drills --------------------------------------------------------------------------


def drill(world: World, author: Any, on: date, ok: bool = True, site: Any = None) -> None:
    chain.signed(
        site or world.own.site,
        RegisterKind.drill,
        {"scenario": "entrapment"},
        author,
        occurred_at=datetime(on.year, on.month, on.day, 2, 0, tzinfo=UTC),
        on_date=on,
        ok=ok,
    )
    db.session.commit()


def test_earliest_in_time_matches_add_months() -> None:
    start = date(2024, 1, 1)
    for n in range(0, 800, 3):
        today = start + timedelta(days=n)
        for months in (6, 12):
            cutoff = earliest_in_time(today, months)
            assert cycle.add_months(cutoff, months) >= today
            assert cycle.add_months(cutoff - timedelta(days=1), months) < today


@pytest.mark.parametrize(("offset", "overdue"), [(0, False), (-1, True), (1, False)])
def test_site_drill_twelve_months(app: Flask, world: World, offset: int, overdue: bool) -> None:
    # Due again 12 months later: a drill on 2025-03-10 is due on 2026-03-10 (today).
    day = date(2025, 3, 10) + timedelta(days=offset)
    drill(world, world.own.officer, day)
    site = world.own.site.id
    expected = {(day.isoformat(), "overdue", f"{site}|{day.isoformat()}")} if overdue else set()
    for elevator in world.own.elevators:
        assert of(rows(app, "D11.site_drill"), elevator.id) == expected


def test_site_drill_counts_own_company_done_as_planned(app: Flask, world: World) -> None:
    site = world.own.site.id
    elevator = world.own.elevators[0].id
    drill(world, world.own.officer, TODAY - timedelta(days=10), ok=False)
    drill(world, world.own.manager, TODAY - timedelta(days=10))  # the contractor's, not the site's
    drill(world, world.foreign.officer, TODAY - timedelta(days=10), site=world.foreign.site)
    assert of(rows(app, "D11.site_drill"), elevator) == {("never", "overdue", f"{site}|")}
    assert "No emergency drill" in rule("D11.site_drill").message(f"{site}|")
    assert rule("D11.site_drill").link(elevator, f"{site}|") == f"/sites/{site}/legal"


@pytest.mark.parametrize(("offset", "overdue"), [(0, False), (-1, True), (1, False)])
def test_contractor_drill_six_months(app: Flask, world: World, offset: int, overdue: bool) -> None:
    day = date(2025, 9, 10) + timedelta(days=offset)
    # A contractor's drill counts at any site.
    drill(world, world.own.manager, day, site=world.foreign.site)
    contractor = world.own.contractor.id
    site = world.own.site.id
    result = rows(app, "D11.contractor_drill")
    expected = (
        {(f"{contractor}:{day.isoformat()}", "overdue", f"{site}|{contractor}|{day.isoformat()}")}
        if overdue
        else set()
    )
    for elevator in world.own.elevators:
        assert of(result, elevator.id) == expected


def test_contractor_drill_only_contracts_in_force(app: Flask, world: World) -> None:
    contractor = world.own.contractor.id
    site = world.own.site.id
    elevator = world.own.elevators[0]
    assert of(rows(app, "D11.contractor_drill"), elevator.id) == {
        (f"{contractor}:never", "overdue", f"{site}|{contractor}|")
    }
    message = rule("D11.contractor_drill").message(f"{site}|{contractor}|")
    assert world.own.contractor.name in message
    for contract in elevator.contracts:
        contract.end_date = TODAY - timedelta(days=1)
    db.session.commit()
    assert of(rows(app, "D11.contractor_drill"), elevator.id) == set()


# --- D11 certificates --------------------------------------------------------------------


def certificate(world: World, expires_on: date, kind: CertificateKind, user: Any = None) -> None:
    db.session.add(
        Certificate(
            user_id=(user or world.own.officer).id,
            kind=kind,
            number=f"N-{expires_on.isoformat()}-{kind}",
            expires_on=expires_on,
        )
    )
    db.session.commit()


@pytest.mark.parametrize(
    ("offset", "state"),
    [(-1, "overdue"), (0, "due_soon"), (30, "due_soon"), (31, None)],
)
def test_certificate_expiry(app: Flask, world: World, offset: int, state: str | None) -> None:
    day = TODAY + timedelta(days=offset)
    certificate(world, day, CertificateKind.safety_officer)
    officer = world.own.officer.id
    status = "expired" if state == "overdue" else "expires"
    expected = (
        {(day.isoformat(), state, f"{officer}|{status}|{day.isoformat()}")} if state else set()
    )
    assert of(rows(app, "D11.certificate"), world.own.elevators[0].id) == expected
    if state:
        message = rule("D11.certificate").message(f"{officer}|{status}|{day.isoformat()}")
        assert ("expired" in message) == (state == "overdue")


def test_certificate_latest_of_the_right_kind(app: Flask, world: World) -> None:
    officer = world.own.officer.id
    elevator = world.own.elevators[0].id
    certificate(world, TODAY + timedelta(days=400), CertificateKind.technician)
    assert of(rows(app, "D11.certificate"), elevator) == {
        ("none", "due_soon", f"{officer}|expires|")
    }
    assert "no certificate" in rule("D11.certificate").message(f"{officer}|expires|")
    certificate(world, TODAY - timedelta(days=400), CertificateKind.safety_officer)
    certificate(world, TODAY + timedelta(days=400), CertificateKind.safety_officer)
    assert of(rows(app, "D11.certificate"), elevator) == set()
    assert rule("D11.certificate").link(elevator, None) == "/certificates"


# --- not applicable ----------------------------------------------------------------------


def test_out_of_service_gets_no_rows_for_rules_that_do_not_apply(app: Flask, world: World) -> None:
    stopped = make_elevator(world.own.site, world.own.officer, status=ElevatorStatus.out_of_service)
    stopped.next_inspection_due = TODAY - timedelta(days=5)
    db.session.commit()
    ctx = Context(now=NOW, config=dict(app.config))
    applying = {r.code for r in RULES if r.applies_out_of_service}
    assert {"D8.first_steps", "D8.long_lockout", "D8.rescue_late", "D9.deadline"} <= applying
    for r in RULES:
        if r.applies_out_of_service:
            continue
        found = {row[0] for row in db.session.execute(r.query(ctx)).all()}
        assert stopped.id not in found, r.code
    # ...while the in-service elevators of the same site do get them.
    found = {row[0] for row in db.session.execute(rule("D11.site_drill").query(ctx)).all()}
    assert world.own.elevators[0].id in found


def test_every_rule_runs_and_links(app: Flask, world: World) -> None:
    ctx = Context(now=NOW, config=dict(app.config))
    for r in RULES:
        for elevator_id, period, state, detail in db.session.execute(r.query(ctx)).all():
            assert isinstance(period, str)
            assert period
            assert state in {"due_soon", "open_finding", "overdue", "hard_stop"}
            assert r.message(detail)
            assert r.link(elevator_id, detail).startswith("/")
    assert rules_b.RESCUE_LOOKBACK_DAYS == 30
