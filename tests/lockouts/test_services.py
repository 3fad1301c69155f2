"""Lockout steps through the services: order, times, parties, records, status."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import OrgKind, Role
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.lockouts import services
from elevator_safety.lockouts.models import LockoutCause, LockoutStatus, NotifyChannel
from elevator_safety.lockouts.services import Step
from elevator_safety.records.models import (
    Finding,
    FindingSource,
    FindingStatus,
    Meaning,
    Photo,
    Record,
    RecordKind,
    Severity,
    Signature,
)
from elevator_safety.records.services import DuplicateSubmission, verify
from elevator_safety.registry.models import ElevatorStatus
from elevator_safety.scoping import local_today
from tests.factories import PASSWORD, make_contract, make_org, make_user, png_bytes
from tests.lockouts.helpers import open_one, repair, rescue, secure


def lockout_records(elevator_id: int) -> list[Record]:
    return list(
        db.session.scalars(
            select(Record)
            .where(Record.elevator_id == elevator_id, Record.kind == RecordKind.lockout)
            .order_by(Record.seq)
        )
    )


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_opening_takes_the_elevator_out_of_service_with_a_signed_record(world):
    elevator = world.own.elevators[0]
    lockout = open_one(world.own)
    assert lockout.status is LockoutStatus.open
    assert lockout.status_before is ElevatorStatus.in_service
    assert elevator.status is ElevatorStatus.out_of_service
    (record,) = lockout_records(elevator.id)
    assert record.data["body"]["step"] == "opened"
    assert record.data["body"]["lockout_id"] == lockout.id
    assert services.open_lockout_of(elevator) is lockout
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == elevator.id))
    assert any(a.changes_dict.get("status") == ["in_service", "out_of_service"] for a in audit), [
        (a.object_type, a.changes) for a in db.session.scalars(select(AuditEntry))
    ]


def test_only_one_open_lockout_per_elevator(world):
    open_one(world.own)
    with pytest.raises(DomainError, match="already has an open lockout"):
        open_one(world.own)
    other = open_one(world.own, elevator=world.own.elevators[1])
    assert other.elevator_id == world.own.elevators[1].id


def test_the_full_flow_returns_the_elevator_to_service(world):
    side = world.own
    elevator = side.elevators[0]
    lockout = open_one(side)
    secure(side, lockout)
    repair(side, lockout)
    services.return_to_service(lockout, side.officer, PASSWORD, note="试运行正常")
    db.session.commit()
    assert lockout.status is LockoutStatus.returned
    assert lockout.returned_by_id == side.officer.id
    assert elevator.status is ElevatorStatus.in_service
    assert services.open_lockout_of(elevator) is None
    steps = [r.data["body"]["step"] for r in lockout_records(elevator.id)]
    assert steps == [
        "opened",
        "notice_posted",
        "contractor_notified",
        "contractor_arrived",
        "repaired",
        "returned",
    ]
    repair_record = lockout_records(elevator.id)[4]
    assert lockout.repair_record_id == repair_record.id
    assert repair_record.author_id == side.technician.id
    assert repair_record.data["body"]["parts_replaced"] == ["门锁触点"]
    returned = lockout_records(elevator.id)[-1]
    meanings = [
        s.meaning
        for s in db.session.scalars(select(Signature).where(Signature.record_id == returned.id))
    ]
    assert meanings == [Meaning.returned_to_service]
    assert verify([elevator.id]).ok


def test_notice_and_notification_times_are_recorded(world):
    side = world.own
    opened = now_utc() - timedelta(minutes=40)
    lockout = open_one(side, occurred_at=opened)
    posted = opened + timedelta(minutes=5)
    notified = opened + timedelta(minutes=20)
    services.post_notice(lockout, side.officer, PASSWORD, occurred_at=posted)
    services.notify_contractor(
        lockout,
        side.officer,
        PASSWORD,
        channel=NotifyChannel.platform_96333,
        party="96333 值班员",
        occurred_at=notified,
    )
    db.session.commit()
    assert lockout.notice_posted_at == posted
    assert lockout.notified_at == notified
    assert lockout.notify_channel is NotifyChannel.platform_96333
    assert lockout.notified_party == "96333 值班员"
    records = lockout_records(side.elevators[0].id)
    assert records[1].occurred_at == posted
    assert records[1].data["body"]["posted_at"] == posted.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert records[2].occurred_at == notified
    assert records[2].data["body"]["channel"] == "platform_96333"
    assert records[2].data["body"]["contractor"] == side.contractor.name
    # LOCKOUT_NOTIFY_MINUTES = 15: the notice was in time, the notification late.
    assert services.late_steps(lockout) == [Step.contractor_notified]


def test_missing_notice_is_late_after_the_limit(world):
    lockout = open_one(world.own, occurred_at=now_utc() - timedelta(minutes=16))
    assert services.late_steps(lockout) == [Step.notice_posted, Step.contractor_notified]
    fresh = open_one(world.own, elevator=world.own.elevators[1])
    assert services.late_steps(fresh) == []


def test_no_return_to_service_before_the_repair_record(world):
    side = world.own
    lockout = open_one(side)
    with pytest.raises(DomainError, match=r"notice.*notification.*repair record"):
        services.return_to_service(lockout, side.officer, PASSWORD)
    secure(side, lockout)
    with pytest.raises(DomainError, match="repair record") as refused:
        services.return_to_service(lockout, side.officer, PASSWORD)
    assert "notice" not in refused.value.message
    services.record_arrival(lockout, side.technician, PASSWORD)
    db.session.commit()
    with pytest.raises(DomainError, match="repair record"):
        services.return_to_service(lockout, side.officer, PASSWORD)
    assert lockout.status is LockoutStatus.open
    assert side.elevators[0].status is ElevatorStatus.out_of_service


def test_no_return_without_the_notice_or_the_notification(world):
    side = world.own
    lockout = open_one(side)
    services.notify_contractor(
        lockout, side.officer, PASSWORD, channel=NotifyChannel.app, party="调度"
    )
    repair(side, lockout)
    with pytest.raises(DomainError, match="prohibition notice"):
        services.return_to_service(lockout, side.officer, PASSWORD)
    other = open_one(side, elevator=side.elevators[1])
    services.post_notice(other, side.officer, PASSWORD)
    repair(side, other)
    with pytest.raises(DomainError, match="notification"):
        services.return_to_service(other, side.officer, PASSWORD)


def test_no_repair_before_the_arrival(world):
    side = world.own
    lockout = open_one(side)
    with pytest.raises(DomainError, match="arrival before the repair"):
        services.record_repair(lockout, side.technician, PASSWORD, found="x")
    assert len(lockout_records(side.elevators[0].id)) == 1


def test_each_step_is_recorded_once(world):
    side = world.own
    lockout = open_one(side)
    secure(side, lockout)
    with pytest.raises(DomainError, match="already recorded"):
        services.post_notice(lockout, side.officer, PASSWORD)
    with pytest.raises(DomainError, match="already recorded"):
        services.notify_contractor(
            lockout, side.officer, PASSWORD, channel=NotifyChannel.phone, party="x"
        )
    services.record_arrival(lockout, side.technician, PASSWORD)
    with pytest.raises(DomainError, match="already recorded"):
        services.record_arrival(lockout, side.technician, PASSWORD)


def test_a_second_repair_record_replaces_the_first(world):
    side = world.own
    lockout = open_one(side)
    repair(side, lockout)
    first = lockout.repair_record_id
    services.record_repair(lockout, side.manager, PASSWORD, found="更换门机皮带")
    db.session.commit()
    assert lockout.repair_record_id != first
    assert db.session.get(Record, lockout.repair_record_id).author_id == side.manager.id


def test_step_times_never_in_the_future_or_before_the_opening(world):
    side = world.own
    opened = now_utc() - timedelta(hours=1)
    lockout = open_one(side, occurred_at=opened)
    with pytest.raises(DomainError, match="future") as future:
        services.post_notice(
            lockout, side.officer, PASSWORD, occurred_at=now_utc() + timedelta(minutes=5)
        )
    assert future.value.field == "occurred_at"
    with pytest.raises(DomainError, match="before the lockout was opened"):
        services.post_notice(
            lockout, side.officer, PASSWORD, occurred_at=opened - timedelta(minutes=1)
        )
    arrived = opened + timedelta(minutes=30)
    services.record_arrival(lockout, side.technician, PASSWORD, occurred_at=arrived)
    with pytest.raises(DomainError, match="before the contractor's arrival"):
        services.record_repair(
            lockout,
            side.technician,
            PASSWORD,
            found="x",
            occurred_at=arrived - timedelta(minutes=1),
        )
    services.record_repair(
        lockout, side.technician, PASSWORD, found="x", occurred_at=arrived + timedelta(minutes=10)
    )
    secure(side, lockout)
    with pytest.raises(DomainError, match="before the repair"):
        services.return_to_service(
            lockout, side.officer, PASSWORD, occurred_at=arrived + timedelta(minutes=5)
        )


def test_required_details(world):
    side = world.own
    lockout = open_one(side)
    with pytest.raises(DomainError) as channel:
        services.notify_contractor(lockout, side.officer, PASSWORD, channel="fax", party="x")
    assert channel.value.field == "channel"
    with pytest.raises(DomainError) as party:
        services.notify_contractor(
            lockout, side.officer, PASSWORD, channel=NotifyChannel.phone, party="  "
        )
    assert party.value.field == "party"
    services.record_arrival(lockout, side.technician, PASSWORD)
    with pytest.raises(DomainError) as found:
        services.record_repair(lockout, side.technician, PASSWORD, found=" ")
    assert found.value.field == "found"
    with pytest.raises(DomainError) as reason:
        services.cancel_lockout(lockout, side.officer, PASSWORD, reason="")
    assert reason.value.field == "reason"


def test_wrong_password_writes_nothing(world):
    side = world.own
    lockout = open_one(side)
    before = count(Record)
    with pytest.raises(DomainError, match="Wrong password") as wrong:
        services.post_notice(lockout, side.officer, "nope")
    assert wrong.value.field == "password"
    assert count(Record) == before
    assert lockout.notice_posted_at is None


def test_a_resubmitted_form_is_a_duplicate(world):
    side = world.own
    lockout = open_one(side)
    services.post_notice(lockout, side.officer, PASSWORD, idempotency_key="k" * 32)
    db.session.commit()
    with pytest.raises(DuplicateSubmission):
        services.notify_contractor(
            lockout,
            side.officer,
            PASSWORD,
            channel=NotifyChannel.phone,
            party="x",
            idempotency_key="k" * 32,
        )


@pytest.mark.parametrize(
    ("step", "party", "allowed"),
    [
        (Step.notice_posted, "officer", True),
        (Step.notice_posted, "technician", True),
        (Step.notice_posted, "admin", False),
        (Step.contractor_notified, "director", True),
        (Step.contractor_notified, "technician", False),
        (Step.contractor_arrived, "manager", True),
        (Step.contractor_arrived, "officer", True),
        (Step.repaired, "technician", True),
        (Step.repaired, "manager", True),
        (Step.repaired, "officer", False),
        (Step.repaired, "director", False),
        (Step.returned, "officer", True),
        (Step.returned, "director", True),
        (Step.returned, "technician", False),
        (Step.returned, "manager", False),
        (Step.cancelled, "technician", False),
        (Step.cancelled, "officer", True),
        (Step.rescue_arrived, "regulator", False),
        (Step.released, "regulator", False),
    ],
)
def test_who_may_take_each_step(world, step, party, allowed):
    lockout = open_one(world.own)
    user = getattr(world.own, party)
    assert services.may_take(user, lockout, step, local_today()) is allowed
    foreign = getattr(world.foreign, party)
    assert services.may_take(foreign, lockout, step, local_today()) is False


def test_a_party_not_allowed_is_refused_by_the_service(world):
    side = world.own
    lockout = open_one(side)
    services.record_arrival(lockout, side.technician, PASSWORD)
    with pytest.raises(DomainError, match="may not record"):
        services.record_repair(lockout, side.officer, PASSWORD, found="x")
    with pytest.raises(DomainError, match="may not record"):
        services.post_notice(lockout, world.foreign.technician, PASSWORD)
    with pytest.raises(DomainError, match="may not record"):
        services.cancel_lockout(lockout, side.technician, PASSWORD, reason="误报")


def test_a_technician_whose_contract_ended_may_not_repair(world):
    side = world.own
    lockout = open_one(side)
    services.record_arrival(lockout, side.technician, PASSWORD)
    other = make_org(OrgKind.contractor)
    stranger = make_user(other, Role.technician)
    make_contract(side.elevators[1], other)
    db.session.commit()
    assert not services.may_take(stranger, lockout, Step.repaired, local_today())
    with pytest.raises(DomainError, match="may not record"):
        services.record_repair(lockout, stranger, PASSWORD, found="x")


def test_cancelling_records_the_reason_and_restores_the_status(world):
    side = world.own
    elevator = side.elevators[0]
    lockout = open_one(side)
    services.cancel_lockout(lockout, side.officer, PASSWORD, reason="误报：乘客误按警铃")
    db.session.commit()
    assert lockout.status is LockoutStatus.cancelled
    assert lockout.cancel_reason == "误报：乘客误按警铃"
    assert elevator.status is ElevatorStatus.in_service
    record = lockout_records(elevator.id)[-1]
    assert record.data["body"]["reason"] == "误报：乘客误按警铃"
    signature = db.session.scalar(select(Signature).where(Signature.record_id == record.id))
    assert signature.meaning is Meaning.cancelled
    assert signature.reason == "误报：乘客误按警铃"
    assert len(lockout_records(elevator.id)) == 2  # the opening is kept, not erased
    with pytest.raises(DomainError, match="closed"):
        services.post_notice(lockout, side.officer, PASSWORD)


def test_the_status_before_is_restored(world):
    side = world.own
    elevator = side.elevators[0]
    elevator.status = ElevatorStatus.out_of_service
    db.session.commit()
    lockout = open_one(side)
    assert lockout.status_before is ElevatorStatus.out_of_service
    services.cancel_lockout(lockout, side.officer, PASSWORD, reason="重复")
    db.session.commit()
    assert elevator.status is ElevatorStatus.out_of_service


def test_a_serious_hazard_linked_to_the_lockout_blocks_the_return(world):
    side = world.own
    elevator = side.elevators[0]
    lockout = open_one(side, cause=LockoutCause.serious_hazard)
    finding = Finding(
        elevator_id=elevator.id,
        site_id=elevator.site_id,
        source=FindingSource.patrol,
        item_label="曳引钢丝绳断股",
        duty="D3",
        severity=Severity.serious,
        description="断股",
        owner_organisation_id=side.org.id,
        lockout_id=lockout.id,
    )
    ordinary = Finding(
        elevator_id=elevator.id,
        site_id=elevator.site_id,
        source=FindingSource.patrol,
        item_label="照明不足",
        duty="D5",
        severity=Severity.ordinary,
        description="x",
        owner_organisation_id=side.org.id,
        lockout_id=lockout.id,
    )
    db.session.add_all([finding, ordinary])
    db.session.commit()
    secure(side, lockout)
    repair(side, lockout)
    with pytest.raises(DomainError, match="曳引钢丝绳断股") as refused:
        services.return_to_service(lockout, side.officer, PASSWORD)
    assert f"#{finding.id}" in refused.value.message
    assert "照明不足" not in refused.value.message
    finding.status = FindingStatus.completed
    db.session.commit()
    services.return_to_service(lockout, side.officer, PASSWORD)
    db.session.commit()
    assert elevator.status is ElevatorStatus.in_service


def test_photos_are_stored_with_their_hash_in_the_record(world):
    side = world.own
    lockout = open_one(side)
    upload = FileStorage(io.BytesIO(png_bytes(color="green")), filename="notice.png")
    record = services.post_notice(lockout, side.officer, PASSWORD, photo=upload)
    db.session.commit()
    (sha,) = record.data["body"]["photos"]
    assert db.session.scalar(select(Photo).where(Photo.sha256 == sha)) is not None
    bad = FileStorage(io.BytesIO(b"not an image at all"), filename="x.png")
    services.record_arrival(lockout, side.technician, PASSWORD)
    with pytest.raises(DomainError) as refused:
        services.record_repair(lockout, side.technician, PASSWORD, found="x", photo=bad)
    assert refused.value.field == "photo"


def test_entrapment_steps(world):
    side = world.own
    lockout = open_one(side, trapped=2)
    assert lockout.rescue_limit_minutes == 30
    with pytest.raises(DomainError, match="rescue's arrival before the release"):
        services.record_release(lockout, side.technician, PASSWORD)
    services.record_rescue_arrival(lockout, side.technician, PASSWORD)
    with pytest.raises(DomainError, match="between 0 and the number trapped") as too_many:
        services.record_release(lockout, side.technician, PASSWORD, injured_count=3)
    assert too_many.value.field == "injured_count"
    with pytest.raises(DomainError, match="Describe the injuries"):
        services.record_release(lockout, side.technician, PASSWORD, injured_count=1)
    secure(side, lockout)
    repair(side, lockout)
    with pytest.raises(DomainError, match="release of the trapped people"):
        services.return_to_service(lockout, side.officer, PASSWORD)
    services.record_release(lockout, side.officer, PASSWORD, injured_count=1, injuries="手臂擦伤")
    db.session.commit()
    assert lockout.injured_count == 1
    services.return_to_service(lockout, side.officer, PASSWORD)
    db.session.commit()
    assert lockout.status is LockoutStatus.returned


def test_entrapment_steps_need_an_entrapment(world):
    side = world.own
    lockout = open_one(side)
    with pytest.raises(DomainError, match="no entrapment"):
        services.record_rescue_arrival(lockout, side.technician, PASSWORD)
    assert Step.rescue_arrived not in services.next_steps(lockout)


def test_rescue_cannot_arrive_before_the_alarm(world):
    side = world.own
    alarm = now_utc() - timedelta(minutes=10)
    lockout = open_one(side, trapped=1, alarm_at=alarm)
    with pytest.raises(DomainError, match="before the alarm"):
        services.record_rescue_arrival(
            lockout, side.technician, PASSWORD, occurred_at=alarm - timedelta(minutes=1)
        )
    rescue(side, lockout)
    assert lockout.released_at is not None


def test_dashboard_counts_are_scoped(world):
    open_one(world.own)
    open_one(world.own, elevator=world.own.elevators[1], trapped=1)
    open_one(world.foreign)
    assert services.count_open_lockouts(world.own.officer) == 2
    assert services.count_open_lockouts(world.own.technician) == 2
    assert services.count_open_lockouts(world.own.regulator) == 2
    assert services.count_open_lockouts(world.foreign.officer) == 1
    first = services.open_lockouts_for(world.own.director, limit=5)
    assert [lk.entrapment for lk in first] == [True, False]
    ids = services.open_lockout_ids(
        [e.id for e in world.own.elevators] + [world.foreign.elevators[1].id]
    )
    assert ids == {e.id for e in world.own.elevators}
    assert services.open_lockout_ids([]) == set()


def test_status_changes_are_audited(world):
    side = world.own
    lockout = open_one(side)
    secure(side, lockout)
    entries = list(
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "Lockout", AuditEntry.object_id == lockout.id
            )
        )
    )
    assert [e.action for e in entries] == ["create", "update", "update"]
    assert "notice_posted_at" in entries[1].changes_dict
    assert entries[2].changes_dict["notify_channel"] == [None, "phone"]
