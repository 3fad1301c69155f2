"""The demo's history: three weeks of patrols and maintenance, a correction, a handover.

Each test loads the demo once (a few seconds): through ``flask demo load`` at the real
time of day, or directly at a chosen hour where what exists today depends on it.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from elevator_safety.auth.models import Role, User
from elevator_safety.demo import data, history
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import Lockout
from elevator_safety.maintenance import services as maintenance
from elevator_safety.records.models import (
    Finding,
    Handover,
    HandoverStatus,
    Meaning,
    Record,
    RecordKind,
    Signature,
)
from elevator_safety.records.services import effective, verify
from elevator_safety.registry.models import Elevator, ElevatorStatus, MaintenanceLevel
from elevator_safety.scoping import local_today, scoped_elevators
from tests.test_demo import row_counts

ZONE = history.ZONE


def load(runner) -> str:  # type: ignore[no-untyped-def]
    """Run ``flask demo load`` and return its output."""
    result = runner.invoke(args=["demo", "load"])
    assert result.exception is None, result.output
    assert result.exit_code == 0
    return result.output


def load_at(app, hour: int) -> tuple[date, datetime]:  # type: ignore[no-untyped-def]
    """Load the city and its history as if it were ``hour`` o'clock today in Chengdu."""
    today = local_today()
    now = datetime.combine(today, time(hour), ZONE).astimezone(UTC)
    password = app.config["DEMO_PASSWORD"]
    data.load(today, password)
    history.load(today, now, password)
    db.session.commit()
    return today, now


def local(moment: datetime) -> datetime:
    return moment.astimezone(ZONE)


def of_kind(kind: RecordKind) -> list[Record]:
    return list(db.session.scalars(select(Record).where(Record.kind == kind).order_by(Record.id)))


def elevator(key: history.Key) -> Elevator:
    code = next(code for spec, code in data.elevator_codes() if history.key_of(spec) == key)
    found = db.session.scalar(select(Elevator).where(Elevator.equipment_code == code))
    assert found is not None
    return found


def test_three_weeks_of_patrols_with_findings_and_one_correction(runner):
    output = load(runner)
    assert "History of the last 21 days" in output
    now = datetime.now(UTC)
    today = local_today(now)

    patrols = of_kind(RecordKind.patrol)
    past = [r for r in patrols if today - timedelta(days=21) <= r.occurred_on < today]
    assert len({r.occurred_on for r in past}) >= 15
    per_day = Counter(r.occurred_on for r in past)
    assert min(per_day.values()) >= 30  # most elevators, every day
    assert all(time(8) <= local(r.occurred_at).time() <= time(11) for r in patrols)
    assert all(r.occurred_at <= now for r in patrols)
    assert all(r.data["author_id"] == r.elevator.safety_officer_id for r in patrols)

    locked_since = {
        lockout.elevator_id: lockout.opened_at
        for lockout in db.session.scalars(select(Lockout).where(Lockout.status == "open"))
    }
    for car in db.session.scalars(select(Elevator)):
        mine = [r for r in patrols if r.elevator_id == car.id]
        assert mine, car.equipment_code
        for r in mine:
            # Locked out yesterday evening: out-of-service patrols from then on only.
            out = car.status != ElevatorStatus.in_service and (
                car.id not in locked_since or r.occurred_at >= locked_since[car.id]
            )
            assert r.data["body"]["out_of_service"] == out, car.equipment_code

    findings = db.session.scalars(select(Finding)).all()
    assert len(findings) >= 8
    assert {f.duty for f in findings} >= {"D2", "D3", "D5", "D6", "D7", "D8", "D9"}
    hot = [f for f in findings if f.item_code == "machine_room_temperature"]
    assert 1 <= len(hot) <= 2
    misuse = [r.data["body"]["misuse"] for r in patrols if r.data["body"].get("misuse")]
    assert [m["act"] for m in misuse] == ["e_bike"]

    (correction,) = of_kind(RecordKind.correction)
    original = correction.subject
    assert original is not None
    assert original.kind == RecordKind.patrol
    changes = correction.data["body"]["changes"]
    assert list(changes) == ["items.machine_room_humidity.value"]
    assert correction.data["body"]["reason"]
    assert original.data["body"]["items"]["machine_room_humidity"]["value"] == "75"
    assert effective(original).body["items"]["machine_room_humidity"]["value"] == "57"
    assert original.occurred_at < correction.occurred_at <= now

    # Signed when recorded, as the forms sign: at the simulated moment, not at the load.
    for record in db.session.scalars(select(Record)):
        content = record.data
        assert [s["signed_at"] for s in content["signatures"]] == [content["recorded_at"]]
        if record.kind in (RecordKind.patrol, RecordKind.correction):
            assert content["recorded_at"] == content["occurred_at"], record.id
        if record.kind == RecordKind.maintenance:
            assert content["recorded_at"] > content["body"]["departure_at"], record.id
    signatures = db.session.scalars(select(Signature)).all()
    assert all(s.signed_at <= now for s in signatures)
    assert min(s.signed_at for s in signatures) < now - timedelta(days=20)

    report = verify()
    assert report.ok, report.problems
    assert report.records == db.session.scalar(select(func.count(Record.id)))
    users = db.session.scalars(select(User)).all()
    assert {u.password_hash for u in users} == {users[0].password_hash}
    assert users[0].password_hash.startswith("scrypt:")

    before = row_counts()
    assert "already there" in load(runner)
    assert row_counts() == before


def test_maintenance_confirmed_awaiting_and_one_rejected(app):
    # At 07:00 nobody has patrolled today yet, and yesterday's visits that are not
    # left awaiting were confirmed on the evening of the visit.
    today, now = load_at(app, 7)
    assert not [r for r in of_kind(RecordKind.patrol) if r.occurred_on == today]

    visits = of_kind(RecordKind.maintenance)
    reviews = maintenance.reviews_of(r.id for r in visits)
    states = Counter(maintenance.state_from(reviews.get(r.id)) for r in visits)
    assert len(visits) >= 60
    assert states[maintenance.AWAITING] == 2
    assert states[maintenance.REJECTED] == 1
    assert states[maintenance.CONFIRMED] == len(visits) - 3

    latest = sorted(visits, key=lambda r: r.data["body"]["departure_at"])[-2:]
    assert {r.id for r in visits if r.id not in reviews} == {r.id for r in latest}

    (rejection,) = of_kind(RecordKind.rejection)
    assert rejection.data["body"]["reason"] == "未按规定检查制动器间隙，请重新维保"
    assert rejection.data["signatures"][0]["meaning"] == Meaning.rejected.value
    rejected = rejection.subject
    assert rejected is not None
    again = [
        r
        for r in visits
        if r.elevator_id == rejected.elevator_id and r.occurred_at > rejection.occurred_at
    ]
    assert [maintenance.state_of(r) for r in again] == [maintenance.CONFIRMED]

    levels = Counter(r.level for r in visits)
    assert levels[MaintenanceLevel.quarterly.value] == 1
    assert levels[MaintenanceLevel.half_monthly.value] == len(visits) - 1

    for visit in visits:
        body = visit.data["body"]
        technicians = body["technicians"]
        assert len(technicians) >= 2
        assert all(t["certificate_no"] for t in technicians)
        assert body["arrival_at"] < body["departure_at"]
        assert body["contract"]["contractor_id"] == visit.organisation_id
        review = reviews.get(visit.id)
        if review is not None:
            assert review.author_id == visit.elevator.safety_officer_id
            assert body["departure_at"] < review.data["occurred_at"]
            assert review.occurred_at <= now

    for car in db.session.scalars(select(Elevator)):
        last = maintenance.last_confirmed_by_level(car)[MaintenanceLevel.half_monthly]
        assert last is not None, car.equipment_code
        assert (today - last).days <= 15, car.equipment_code

    assert verify().ok


def test_a_finished_handover_switched_the_contracts(runner):
    load(runner)
    today = local_today()
    (handover,) = db.session.scalars(select(Handover)).all()
    assert handover.status is HandoverStatus.confirmed
    assert handover.handover_date < today
    assert handover.outgoing.name == "成都安顺电梯服务有限公司"
    assert handover.incoming.name == "四川信达电梯工程有限公司"
    assert all(answer["ok"] is True for answer in handover.checklist.values())
    assert len(handover.checklist) == 5
    assert handover.created_at < handover.updated_at < datetime.now(UTC)

    day_before = handover.handover_date - timedelta(days=1)
    assert len(handover.elevators) == 2
    for car in handover.elevators:
        steps = [
            r
            for r in db.session.scalars(
                select(Record)
                .where(Record.elevator_id == car.id, Record.kind == RecordKind.handover)
                .order_by(Record.seq)
            )
        ]
        meanings = [r.data["signatures"][0]["meaning"] for r in steps]
        assert meanings == ["handed_over", "received", "handover_confirmed"]
        organisations = [r.organisation_id for r in steps]
        assert organisations == [
            handover.outgoing_contractor_id,
            handover.incoming_contractor_id,
            handover.organisation_id,
        ]
        assert all(r.occurred_on < handover.handover_date for r in steps)
        assert steps[-1].data["body"]["contracts"]["started"]["start"] == (
            handover.handover_date.isoformat()
        )

        ended = [c for c in car.contracts if c.contractor_id == handover.outgoing_contractor_id]
        started = [c for c in car.contracts if c.contractor_id == handover.incoming_contractor_id]
        assert [c.end_date for c in ended] == [day_before]
        assert [c.start_date for c in started] == [handover.handover_date]
        assert [c.contractor_id for c in car.contracts if c.is_active(today)] == [
            handover.incoming_contractor_id
        ]

        visits = [
            r
            for r in db.session.scalars(
                select(Record).where(
                    Record.elevator_id == car.id, Record.kind == RecordKind.maintenance
                )
            )
        ]
        before = {r.organisation_id for r in visits if r.occurred_on < handover.handover_date}
        after = {r.organisation_id for r in visits if r.occurred_on >= handover.handover_date}
        assert before == {handover.outgoing_contractor_id}
        assert after == {handover.incoming_contractor_id}

    def manager(org_id: int) -> User:
        user = db.session.scalar(
            select(User).where(User.organisation_id == org_id, User.role == Role.contractor_manager)
        )
        assert user is not None
        return user

    ids = {car.id for car in handover.elevators}
    outgoing = {e.id for e in db.session.scalars(scoped_elevators(manager(handover.outgoing.id)))}
    incoming = {e.id for e in db.session.scalars(scoped_elevators(manager(handover.incoming.id)))}
    assert not ids & outgoing
    assert ids <= incoming
    assert len(outgoing) + len(incoming) == db.session.scalar(select(func.count(Elevator.id)))
    assert verify(ids).ok


def test_today_leaves_some_patrols_to_do(app):
    today, now = load_at(app, 15)
    patrolled = {
        r.elevator_id: r
        for r in of_kind(RecordKind.patrol)
        if r.occurred_on == today and r.occurred_at <= now
    }
    cars = db.session.scalars(select(Elevator)).all()
    assert all(car.id in patrolled for car in cars if car.status != ElevatorStatus.in_service)
    missing = [car for car in cars if car.id not in patrolled]
    assert len(missing) == 3
    days_patrolled = {
        car.id: {r.occurred_on for r in of_kind(RecordKind.patrol) if r.elevator_id == car.id}
        for car in missing
    }
    recent = {today - timedelta(days=n) for n in (1, 2, 3)}
    gaps = [car for car in missing if not days_patrolled[car.id] & recent]
    assert [car.id for car in gaps] == [elevator(history.GAP).id]
    assert all(recent <= days_patrolled[car.id] for car in missing if car not in gaps)
