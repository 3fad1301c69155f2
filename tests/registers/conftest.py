"""Fixtures of the register tests: English messages, a frozen clock, helpers to post forms."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from elevator_safety.extensions import db
from elevator_safety.records.models import Finding, FindingSource
from elevator_safety.registers.models import KeyKind, RegisterEntry, RegisterKind, SiteKey
from tests.factories import PASSWORD

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Return a Shanghai local time as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def local_input(moment: datetime) -> str:
    """Return a moment as a datetime-local input value in Shanghai time."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def entries(kind: RegisterKind | None = None) -> list[RegisterEntry]:
    query = select(RegisterEntry).order_by(RegisterEntry.id)
    if kind is not None:
        query = query.where(RegisterEntry.kind == kind)
    return list(db.session.scalars(query))


def findings(source: FindingSource | None = None) -> list[Finding]:
    query = select(Finding).order_by(Finding.id)
    if source is not None:
        query = query.where(Finding.source == source)
    return list(db.session.scalars(query))


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def add_key(site, code: str = "TK-1", kind: KeyKind = KeyKind.triangle_key) -> SiteKey:  # type: ignore[no-untyped-def]
    key = SiteKey(site_id=site.id, code=code, kind=kind, active=True)
    db.session.add(key)
    db.session.commit()
    return key


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Speak English here, so that the assertions hold whatever the catalogue says."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def frozen(app):  # type: ignore[no-untyped-def]
    """Freeze the clock at 2026-05-04 10:00 in Shanghai (02:00 UTC)."""
    import time_machine

    with time_machine.travel(sh(2026, 5, 4, 10), tick=False) as traveller:
        yield traveller


SIGN = {"password": PASSWORD}
