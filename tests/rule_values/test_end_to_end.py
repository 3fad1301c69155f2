"""From the form to the alert: a value saved on the page is what the engine uses, for that site."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from elevator_safety.compliance import engine
from elevator_safety.compliance.models import Alert, State
from elevator_safety.compliance.overrides import SETTINGS
from elevator_safety.extensions import db
from tests.compliance.test_rules_b import NOW, alarm_test


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def open_alarm_alerts() -> dict[int, State]:
    rows = db.session.execute(
        select(Alert.elevator_id, Alert.state).where(
            Alert.rule == "D6.alarm_test", Alert.resolved_at.is_(None)
        )
    )
    return {elevator_id: state for elevator_id, state in rows}


def test_a_shorter_alarm_interval_saved_on_the_page_raises_the_alert_at_that_site_only(
    frozen, client, world, login_as
) -> None:
    mine, theirs = world.own.elevators[0], world.foreign.elevators[0]
    for lift in (mine, theirs):
        alarm_test(world, lift, NOW - timedelta(days=20))
    engine.evaluate(NOW)
    db.session.commit()
    assert mine.id not in open_alarm_alerts()

    login_as("safety_director")
    data = {setting.key: "" for setting in SETTINGS}
    data |= {"ALARM_TEST_INTERVAL_DAYS": "14", "reason": "本市电梯安全管理条例"}
    response = client.post(f"/sites/{world.own.site.id}/rule-values", data=data)
    assert response.status_code == 302

    engine.evaluate(NOW + timedelta(minutes=15))
    db.session.commit()
    found = open_alarm_alerts()
    assert found.get(mine.id) == State.overdue
    assert theirs.id not in found, "the other site keeps the installation's 30 days"
