"""The entrapment (困人) rescue limit: 30 minutes in a city, 60 elsewhere (frozen clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.lockouts import services
from tests.conftest import log_in
from tests.factories import PASSWORD
from tests.lockouts.helpers import open_one

#: Yesterday, on the minute: within the factories' contracts (which follow the real date).
ALARM = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=1)


def entrapment_at(world, *, city: bool):  # type: ignore[no-untyped-def]
    world.own.site.is_city = city
    db.session.commit()
    with time_machine.travel(ALARM, tick=False):
        return open_one(world.own, trapped=2, alarm_at=ALARM)


@pytest.mark.parametrize(
    ("city", "minutes", "seconds", "late"),
    [
        (True, 29, 59, False),
        (True, 30, 0, False),
        (True, 30, 1, True),
        (False, 29, 59, False),
        (False, 30, 1, False),
        (False, 59, 59, False),
        (False, 60, 1, True),
    ],
)
def test_late_flag_while_the_rescue_is_under_way(world, city, minutes, seconds, late):
    lockout = entrapment_at(world, city=city)
    assert lockout.rescue_limit_minutes == (30 if city else 60)
    with time_machine.travel(ALARM + timedelta(minutes=minutes, seconds=seconds), tick=False):
        assert services.rescue_late(lockout) is late
        assert (
            services.clock_text(services.rescue_elapsed(lockout)) == f"{minutes:02d}:{seconds:02d}"
        )


@pytest.mark.parametrize(
    ("city", "minutes", "seconds", "late"),
    [
        (True, 29, 59, False),
        (True, 30, 1, True),
        (False, 30, 1, False),
        (False, 60, 1, True),
    ],
)
def test_late_flag_of_the_recorded_arrival(world, city, minutes, seconds, late):
    lockout = entrapment_at(world, city=city)
    arrival = ALARM + timedelta(minutes=minutes, seconds=seconds)
    with time_machine.travel(arrival, tick=False):
        record = services.record_rescue_arrival(
            lockout, world.own.technician, PASSWORD, late_reason="堵车" if late else None
        )
        db.session.commit()
    assert lockout.rescue_arrived_at == arrival
    assert record.data["body"]["late"] is late
    assert record.data["body"]["elapsed_seconds"] == minutes * 60 + seconds
    # Later the flag is the arrival's, whatever time it is now and whatever the reason.
    with time_machine.travel(arrival + timedelta(hours=5), tick=False):
        assert services.rescue_late(lockout) is late
        assert not services.rescue_under_way(lockout)


def test_the_limit_is_configurable_and_kept_from_the_opening(app, world):
    app.config["ENTRAPMENT_ARRIVAL_MINUTES"] = {"city": 20, "other": 45}
    lockout = entrapment_at(world, city=True)
    assert lockout.rescue_limit_minutes == 20
    app.config["ENTRAPMENT_ARRIVAL_MINUTES"] = {"city": 30, "other": 60}
    with time_machine.travel(ALARM + timedelta(minutes=20, seconds=1), tick=False):
        assert services.rescue_late(lockout) is True


def test_no_entrapment_no_flag(world):
    lockout = open_one(world.own)
    assert services.rescue_late(lockout) is None
    assert services.rescue_elapsed(lockout) is None


def test_the_page_shows_the_running_timer_and_marks_it_late(client, world):
    lockout = entrapment_at(world, city=True)
    with time_machine.travel(ALARM + timedelta(minutes=12, seconds=5), tick=False):
        log_in(client, world.own.officer)  # sessions expire: log in at the frozen time
        html = client.get(f"/lockouts/{lockout.id}").get_data(as_text=True)
    assert 'data-lockout-timer data-elapsed="725" data-limit="30"' in html
    assert ">12:05<" in html
    assert 'data-testid="rescue-late"' not in html
    assert "js/lockout-timer.js" in html
    with time_machine.travel(ALARM + timedelta(minutes=30, seconds=1), tick=False):
        log_in(client, world.own.officer)
        html = client.get(f"/lockouts/{lockout.id}").get_data(as_text=True)
        banner = client.get(f"/elevators/{world.own.elevators[0].id}").get_data(as_text=True)
    assert 'data-late="true"' in html
    assert 'data-testid="rescue-late" data-timer-late>' in html
    assert 'data-testid="entrapment-under-way"' in banner


def test_a_late_arrival_stays_late_on_the_page_whatever_the_reason(client, world):
    lockout = entrapment_at(world, city=False)
    with time_machine.travel(ALARM + timedelta(minutes=75), tick=False):
        services.record_rescue_arrival(
            lockout, world.own.technician, PASSWORD, late_reason="山路塌方，绕行"
        )
        db.session.commit()
    log_in(client, world.own.officer)
    html = client.get(f"/lockouts/{lockout.id}").get_data(as_text=True)
    assert "山路塌方，绕行" in html
    assert "data-lockout-timer" not in html  # the rescue is there: the clock stopped
    assert ">75:00<" in html
    assert 'data-testid="rescue-late" data-timer-late>' in html
    listing = client.get("/lockouts?state=all&late=1").get_data(as_text=True)
    assert f'data-lockout="{lockout.id}"' in listing


def test_now_utc_is_frozen_by_time_machine(world):
    with time_machine.travel(ALARM, tick=False):
        assert now_utc() == ALARM
