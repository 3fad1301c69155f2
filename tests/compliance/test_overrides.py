"""Per-site rule values: the engine evaluates a site with its own, stricter settings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select

from elevator_safety.compliance import engine, overrides
from elevator_safety.compliance.models import Alert, RuleOverride, State
from elevator_safety.extensions import db
from tests.compliance.test_rules_b import NOW, alarm_test
from tests.factories import World


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def alarm_alerts() -> dict[int, State]:
    rows = db.session.execute(
        select(Alert.elevator_id, Alert.state).where(
            Alert.rule == "D6.alarm_test", Alert.resolved_at.is_(None)
        )
    )
    return {elevator_id: state for elevator_id, state in rows}


def override(world: World, key: str, value: int) -> None:
    db.session.add(
        RuleOverride(
            site_id=world.own.site.id,
            key=key,
            value=value,
            reason="本市电梯安全管理条例",
            set_by_id=world.own.director.id,
        )
    )
    db.session.commit()


def test_a_site_with_a_shorter_interval_is_evaluated_with_it(app: Flask, world: World) -> None:
    mine, theirs = world.own.elevators[0], world.foreign.elevators[0]
    for lift in (mine, theirs):
        alarm_test(world, lift, NOW - timedelta(days=20))
    engine.evaluate(NOW)
    db.session.commit()
    found = alarm_alerts()
    assert mine.id not in found
    assert theirs.id not in found
    override(world, "ALARM_TEST_INTERVAL_DAYS", 14)
    engine.evaluate(NOW + timedelta(minutes=15))
    db.session.commit()
    found = alarm_alerts()
    assert found.get(mine.id) == State.overdue
    assert theirs.id not in found, "another site keeps the installation's 30 days"


def test_groups_sites_by_identical_overrides(app: Flask, world: World) -> None:
    config = dict(app.config)
    assert overrides.groups(config) == []
    override(world, "SITE_DRILL_MONTHS", 6)
    assert overrides.groups(config) == [({"SITE_DRILL_MONTHS": 6}, [world.own.site.id])]
    stricter_installation = config | {"SITE_DRILL_MONTHS": 3}
    assert overrides.groups(stricter_installation) == [], "a laxer site value is ignored"
    assert overrides.site_overrides() == {world.own.site.id: {"SITE_DRILL_MONTHS": 6}}


def test_only_stricter_values_are_allowed(app: Flask) -> None:
    config = dict(app.config)
    interval = overrides.BY_KEY["ALARM_TEST_INTERVAL_DAYS"]
    assert overrides.bounds(interval, config) == (1, 30)
    warning = overrides.BY_KEY["CERTIFICATE_EXPIRY_WARNING_DAYS"]
    assert overrides.bounds(warning, config) == (30, 180)
    hour = overrides.BY_KEY["PATROL_DUE_HOUR"]
    assert overrides.bounds(hour, config) == (0, 12)
    assert "MAINTENANCE_INTERVAL_DAYS" not in overrides.BY_KEY
