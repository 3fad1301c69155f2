"""Fault lockouts (停用) with entrapments (困人): duty D8.

The ``Lockout`` row is the workflow's state; every step also appends a signed
``lockout`` record to the elevator's chain, which is the evidence.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elevator_safety.auth.models import User
from elevator_safety.db import UTCDateTime, now_utc
from elevator_safety.extensions import Model
from elevator_safety.registry.models import Elevator, ElevatorStatus


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class LockoutStatus(enum.StrEnum):
    """Whether a lockout is still in force."""

    open = "open"  # the elevator is out of service
    returned = "returned"  # returned to service by the safety officer
    cancelled = "cancelled"  # a false alarm, with its reason


class LockoutCause(enum.StrEnum):
    """Why the elevator was locked out."""

    fault = "fault"  # 故障
    alarm = "alarm"  # 报警
    passenger_report = "passenger_report"  # 乘客报告
    inspection = "inspection"  # 检验结果
    serious_hazard = "serious_hazard"  # 巡查发现重大隐患
    iot_alert = "iot_alert"  # 物联网告警


class NotifyChannel(enum.StrEnum):
    """How the contractor was notified."""

    phone = "phone"
    app = "app"
    platform_96333 = "platform_96333"


LOCKOUT_STATUS_LABELS = {
    LockoutStatus.open: _l("Locked out"),
    LockoutStatus.returned: _l("Returned to service"),
    LockoutStatus.cancelled: _l("Cancelled"),
}
CAUSE_LABELS = {
    LockoutCause.fault: _l("Fault observed"),
    LockoutCause.alarm: _l("Alarm"),
    LockoutCause.passenger_report: _l("Passenger report"),
    LockoutCause.inspection: _l("Inspection result"),
    LockoutCause.serious_hazard: _l("Serious hazard found"),
    LockoutCause.iot_alert: _l("IoT alert"),
}
CHANNEL_LABELS = {
    NotifyChannel.phone: _lp("channel", "Phone"),
    NotifyChannel.app: _l("App"),
    NotifyChannel.platform_96333: _l("96333 platform"),
}


class Lockout(Model):
    """An elevator taken out of service for a fault, from opening to return to service.

    At most one open lockout per elevator (a partial unique index). The times
    are when things happened (as recorded, not when typed). An entrapment's
    rescue limit is copied from the configuration when the lockout opens, so a
    later change of the rule does not rewrite history.
    """

    __tablename__ = "lockouts"
    __table_args__ = (
        Index(
            "uq_lockouts_one_open",
            "elevator_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    elevator_id: Mapped[int] = mapped_column(ForeignKey("elevators.id"), index=True)
    status: Mapped[LockoutStatus] = mapped_column(_enum(LockoutStatus), default=LockoutStatus.open)
    cause: Mapped[LockoutCause] = mapped_column(_enum(LockoutCause))
    description: Mapped[str] = mapped_column(Text)
    #: The elevator's status before the lockout (restored on return or cancellation).
    status_before: Mapped[ElevatorStatus] = mapped_column(_enum(ElevatorStatus))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: 停用/禁止使用 notice posted in a visible place (the lockout is secured from then).
    notice_posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notify_channel: Mapped[NotifyChannel | None] = mapped_column(_enum(NotifyChannel))
    #: Who was called at the contractor (name, phone).
    notified_party: Mapped[str | None] = mapped_column(String(200))
    contractor_arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    repaired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The contractor's repair record (a ``lockout`` record with step "repaired").
    repair_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    # --- entrapment (困人) ---
    entrapment: Mapped[bool] = mapped_column(Boolean, default=False)
    trapped_count: Mapped[int | None] = mapped_column(Integer)
    alarm_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rescue_arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    injured_count: Mapped[int | None] = mapped_column(Integer)
    injuries: Mapped[str | None] = mapped_column(Text)
    #: Minutes allowed from alarm to rescue arrival (30 in cities, 60 elsewhere by default).
    rescue_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    #: Reason given when the rescue arrived late (recorded; the record stays late).
    late_reason: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, onupdate=now_utc)

    elevator: Mapped[Elevator] = relationship()
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    returned_by: Mapped[User | None] = relationship(foreign_keys=[returned_by_id])

    @property
    def status_label(self) -> str:
        """Return the status in the user's language."""
        return str(LOCKOUT_STATUS_LABELS[self.status])

    @property
    def cause_label(self) -> str:
        """Return the cause in the user's language."""
        return str(CAUSE_LABELS[self.cause])

    @property
    def is_open(self) -> bool:
        """Return whether the elevator is still locked out by this lockout."""
        return self.status == LockoutStatus.open
