"""Helpers of the lockout tests: open a lockout and take its steps through the services."""

from __future__ import annotations

from datetime import datetime

from elevator_safety.extensions import db
from elevator_safety.lockouts import services
from elevator_safety.lockouts.models import Lockout, LockoutCause, NotifyChannel
from elevator_safety.registry.models import Elevator
from tests.factories import PASSWORD, Side


def open_one(
    side: Side,
    *,
    elevator: Elevator | None = None,
    trapped: int | None = None,
    alarm_at: datetime | None = None,
    occurred_at: datetime | None = None,
    cause: LockoutCause = LockoutCause.fault,
) -> Lockout:
    """Open a lockout of the side's first elevator as its safety officer, and commit."""
    entrapment = (
        services.EntrapmentInput(trapped_count=trapped, alarm_at=alarm_at or services.now_utc())
        if trapped
        else None
    )
    lockout = services.open_lockout(
        elevator or side.elevators[0],
        side.officer,
        PASSWORD,
        cause=cause,
        description="轿厢停在两层之间",
        occurred_at=occurred_at,
        entrapment=entrapment,
    )
    db.session.commit()
    return lockout


def secure(side: Side, lockout: Lockout) -> None:
    """Post the notice and notify the contractor (the officer), and commit."""
    services.post_notice(lockout, side.officer, PASSWORD)
    services.notify_contractor(
        lockout,
        side.officer,
        PASSWORD,
        channel=NotifyChannel.phone,
        party="张师傅 13800000000",
    )
    db.session.commit()


def repair(side: Side, lockout: Lockout) -> None:
    """The technician records arrival and repair, and commits."""
    services.record_arrival(lockout, side.technician, PASSWORD)
    services.record_repair(
        lockout,
        side.technician,
        PASSWORD,
        found="门锁触点接触不良",
        parts_replaced=["门锁触点"],
    )
    db.session.commit()


def rescue(side: Side, lockout: Lockout) -> None:
    """The rescue arrives and releases the people, and commits."""
    services.record_rescue_arrival(lockout, side.technician, PASSWORD)
    services.record_release(lockout, side.technician, PASSWORD)
    db.session.commit()
