"""Reports from passengers through the public page of an elevator's QR label."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elevator_safety.auth.models import User
from elevator_safety.db import UTCDateTime, now_utc
from elevator_safety.extensions import Model
from elevator_safety.registry.models import Elevator


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class ReportCategory(enum.StrEnum):
    """What the passenger reports."""

    trapped = "trapped"  # 有人被困
    not_working = "not_working"  # 电梯故障/不能使用
    unsafe_behaviour = "unsafe_behaviour"  # 不安全乘梯行为
    other = "other"


class ReportStatus(enum.StrEnum):
    """What the safety officer did with a report."""

    pending = "pending"
    lockout = "lockout"  # turned into a lockout
    rectification = "rectification"  # turned into a rectification
    dismissed = "dismissed"  # dismissed with a reason


CATEGORY_LABELS = {
    ReportCategory.trapped: _l("Someone is trapped"),
    ReportCategory.not_working: _l("Not working"),
    ReportCategory.unsafe_behaviour: _l("Unsafe behaviour"),
    ReportCategory.other: _l("Other"),
}
REPORT_STATUS_LABELS = {
    ReportStatus.pending: _l("Pending"),
    ReportStatus.lockout: _l("Turned into a lockout"),
    ReportStatus.rectification: _l("Turned into a rectification"),
    ReportStatus.dismissed: _l("Dismissed"),
}


class PublicReport(Model):
    """A passenger's report, waiting for the site's safety officer.

    The client's address is kept only as a salted hash (``client_hash``), enough
    to see repeated reports from one place without storing who sent them.
    """

    __tablename__ = "public_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    elevator_id: Mapped[int] = mapped_column(ForeignKey("elevators.id"), index=True)
    category: Mapped[ReportCategory] = mapped_column(_enum(ReportCategory))
    phone: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    client_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)
    status: Mapped[ReportStatus] = mapped_column(
        _enum(ReportStatus), default=ReportStatus.pending, index=True
    )
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    lockout_id: Mapped[int | None] = mapped_column(ForeignKey("lockouts.id"))
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"))

    elevator: Mapped[Elevator] = relationship()
    handled_by: Mapped[User | None] = relationship()

    @property
    def category_label(self) -> str:
        """Return the category in the user's language."""
        return str(CATEGORY_LABELS[self.category])

    @property
    def status_label(self) -> str:
        """Return the status in the user's language."""
        return str(REPORT_STATUS_LABELS[self.status])
