"""Declarative base, naming convention, UTC datetimes and SQLite pragmas."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

#: Every constraint gets a stable name so that Alembic can see and alter it.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@dataclass
class SimulatedClock:
    """A clock that a loader of past events (the demo history) moves along."""

    moment: datetime | None = None


_clock: ContextVar[SimulatedClock | None] = ContextVar("elevator_safety_clock", default=None)


@contextmanager
def simulated_clock() -> Iterator[SimulatedClock]:
    """Within the block, now_utc() answers the clock's moment (when it is set).

    Column defaults, signatures and audit entries all read now_utc(), so past
    events loaded this way carry their own times. Only the demo loader uses it.
    """
    clock = SimulatedClock()
    token = _clock.set(clock)
    try:
        yield clock
    finally:
        _clock.reset(token)


def now_utc() -> datetime:
    """Return the current time, timezone-aware, in UTC (or the simulated clock's moment)."""
    clock = _clock.get()
    if clock is not None and clock.moment is not None:
        return clock.moment
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store aware datetimes as UTC; refuse naive ones; always return aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime (now_utc())")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: Pragmas applied to every new SQLite connection.
SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=FULL",
)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Turn on foreign keys, WAL, a busy timeout and full sync on SQLite connections."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _jit_off(dbapi_connection: Any, _record: Any) -> None:
    """Turn PostgreSQL's JIT compilation off for this connection's whole life.

    Committed at once: a SET inside a transaction that is later rolled back
    (as the pool does when a connection is returned) would be undone.
    """
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()


def configure_postgres(engine: Engine, jit: bool) -> None:
    """Apply the configured session settings to a PostgreSQL engine's connections.

    JIT is off unless ``DATABASE_JIT`` is true. PostgreSQL compiles a statement
    whose estimated cost passes ``jit_above_cost`` (and optimises and inlines it
    past ``jit_optimize_above_cost``). For the evaluation's statement of every
    rule together (850 functions) compiling took 5.7 s while the statement
    itself ran in about 0.3 s (measured at 10,000 elevators with the thresholds
    at zero; at 100,000 elevators its estimated cost passes them unforced).
    """
    if engine.dialect.name != "postgresql" or jit:
        return
    if not event.contains(engine, "connect", _jit_off):
        event.listen(engine, "connect", _jit_off)
