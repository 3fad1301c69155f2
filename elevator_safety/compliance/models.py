"""Alerts raised by the compliance rules, job claims of the scheduler, and the mail outbox."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elevator_safety.auth.models import User
from elevator_safety.db import UTCDateTime, now_utc
from elevator_safety.extensions import Model
from elevator_safety.registry.models import Elevator


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class State(enum.StrEnum):
    """The state of one duty of one elevator, worst last."""

    ok = "ok"
    not_applicable = "not_applicable"
    due_soon = "due_soon"
    open_finding = "open_finding"
    overdue = "overdue"
    #: Must not be used (an overdue or failed periodic inspection).
    hard_stop = "hard_stop"


#: Order of severity, for "the worst state of a duty".
STATE_RANK = {
    State.not_applicable: 0,
    State.ok: 1,
    State.due_soon: 2,
    State.open_finding: 3,
    State.overdue: 4,
    State.hard_stop: 5,
}

STATE_LABELS = {
    State.ok: _l("OK"),
    State.not_applicable: _l("Not applicable"),
    State.due_soon: _l("Due soon"),
    State.open_finding: _l("Open finding"),
    State.overdue: _l("Overdue"),
    State.hard_stop: _l("Must not be used"),
}


class Alert(Model):
    """One violation of one rule for one elevator in one period.

    Keyed by (elevator, rule, period): evaluating twice raises nothing twice.
    ``resolved_at`` is set when the condition clears; the row stays as history.
    A rule that is violated again in the same period reopens its row
    (``resolved_at`` cleared, ``raised_count`` incremented).
    """

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("elevator_id", "rule", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    elevator_id: Mapped[int] = mapped_column(ForeignKey("elevators.id"), index=True)
    #: Rule code, e.g. ``D1.maintenance.half_monthly`` (compliance/rules.py).
    rule: Mapped[str] = mapped_column(String(64), index=True)
    duty: Mapped[str] = mapped_column(String(4), index=True)
    #: The period the violation belongs to (a day ``2026-11-28``, a due date, or ``-``).
    period: Mapped[str] = mapped_column(String(32))
    state: Mapped[State] = mapped_column(_enum(State))
    #: What the rule found (a level, a finding id, a date...), for the message and link.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)
    #: The last evaluation that raised it or changed its state or detail (an unchanged
    #: alert is not rewritten).
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    raised_count: Mapped[int] = mapped_column(Integer, default=1)
    #: When the responsible people were notified of it (None: not yet).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    elevator: Mapped[Elevator] = relationship()

    @property
    def is_open(self) -> bool:
        """Return whether the condition still holds."""
        return self.resolved_at is None


class JobClaim(Model):
    """A scheduler job's claim on a period: the unique key lets only one process run it."""

    __tablename__ = "job_claims"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    #: e.g. ``2026-11-28T10:15`` for a 15-minute evaluation slot, ``2026-11-28`` for a daily job.
    period: Mapped[str] = mapped_column(String(32))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Who claimed it (host and process id).
    worker: Mapped[str] = mapped_column(String(200))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Model):
    """An e-mail (the daily digest): sent by SMTP when configured, else kept here and logged."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()


class RuleOverride(Model):
    """A site's own value of one rule setting, where local rules are stricter.

    The compliance engine evaluates the elevators of a site with overrides
    with the installation's configuration updated by them
    (``compliance/overrides.py`` lists what may be overridden and the limits).
    """

    __tablename__ = "rule_overrides"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    #: A configuration key of config.py, e.g. ``ALARM_TEST_INTERVAL_DAYS``.
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer)
    #: The local rule that requires it (e.g. a city regulation's article).
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    set_by: Mapped[User] = relationship()
