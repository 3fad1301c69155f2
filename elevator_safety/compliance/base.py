"""The shape of a compliance rule, shared by every rule module.

A rule is a documented function of (context) returning ONE SQL select over all
elevators at once (no query per elevator) whose rows are violations:
``(elevator_id, period, state, detail)`` where ``state`` is a ``State`` value,
``period`` a short string (see ``Alert.period``) and ``detail`` a small
string (e.g. a level, a finding id, a due date) that the rule's message and
link use. Thresholds are computed in Python from ``ctx.now`` and bound as
parameters, so that the SQL is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select

from elevator_safety.extensions import db


@dataclass(frozen=True)
class Context:
    """What every rule is evaluated against."""

    now: datetime
    #: The configuration (app.config) at evaluation time.
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        """Return the installation's time zone."""
        return ZoneInfo(self.config.get("TIMEZONE", "Asia/Shanghai"))

    @property
    def today(self) -> date:
        """Return today's date in the installation's time zone."""
        return self.now.astimezone(self.zone).date()

    @classmethod
    def current(cls, now: datetime) -> Context:
        """Return a context with the app's configuration."""
        return cls(now=now, config=dict(current_app.config))


@dataclass(frozen=True)
class Rule:
    """One obligation: its code, duty, what it checks and how to show a violation."""

    #: Unique code, ``D<n>.<name>``, e.g. ``D1.maintenance``.
    code: str
    duty: str
    #: Translatable one-line description (lazy_gettext).
    title: Any
    #: Returns the select of violations (elevator_id, period, state, detail).
    query: Callable[[Context], Select[Any]]
    #: Returns the message of a violation in the reader's language from its detail.
    message: Callable[[str | None], str]
    #: Returns the path of the page with the evidence (or where to record it).
    link: Callable[[int, str | None], str]
    #: Whether the rule still applies to an elevator out of service or decommissioned
    #: (lockout rules do; patrol and maintenance rules do not).
    applies_out_of_service: bool = False


def computed_once(query: Select[Any]) -> Select[Any]:
    """Return ``query`` such that SQLite computes it once rather than per row of a join.

    SQLite flattens a subquery into the query that joins it, and then may
    evaluate the subquery's conditions (an EXISTS, say) for every row of the
    join instead of every row of the subquery, or drop the automatic index a
    grouped subquery needs. OFFSET 0 changes no result and SQLite flattens
    no subquery with a LIMIT or OFFSET into a join. PostgreSQL chooses by cost
    and gets the query unchanged.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return query.offset(0)
    return query
