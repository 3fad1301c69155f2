"""Rules of the duty registers (D4, D6, D7) as plain functions.

The interval arithmetic of the duty roster (值班表, D6: staffed 24 hours a
day) lives here with no database access, so that it can be tested alone;
``services.site_roster_gaps`` feeds it a site's shifts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app


def answer_limit_seconds() -> int:
    """Return the longest answer time of a passed alarm test (ALARM_ANSWER_SECONDS, D6)."""
    return int(current_app.config["ALARM_ANSWER_SECONDS"])


#: A roster shift longer than this is refused as a typing mistake.
MAX_SHIFT_HOURS = 48

Interval = tuple[datetime, datetime]


def roster_gaps(
    shifts: Iterable[Interval], window_start: datetime, window_end: datetime
) -> list[Interval]:
    """Return the stretches of a window that no shift covers, in order.

    Shifts are (start, end) pairs; overlapping and adjacent shifts merge,
    shifts reaching outside the window are clipped, and empty or inverted
    shifts are ignored.
    """
    if window_end <= window_start:
        return []
    clipped = sorted(
        (max(start, window_start), min(end, window_end))
        for start, end in shifts
        if end > start and end > window_start and start < window_end
    )
    gaps: list[Interval] = []
    cursor = window_start
    for start, end in clipped:
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < window_end:
        gaps.append((cursor, window_end))
    return gaps


def day_window(day: date, zone: str) -> Interval:
    """Return a local day 00:00-24:00 in a zone as aware datetimes."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def daily_gaps(
    shifts: Sequence[Interval], first_day: date, days: int, zone: str
) -> list[tuple[date, list[Interval]]]:
    """Return, for each of ``days`` local days from ``first_day``, the roster's gaps that day."""
    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        start, end = day_window(day, zone)
        result.append((day, roster_gaps(shifts, start, end)))
    return result


def retention_days(checked_on: date, oldest_footage: date) -> int:
    """Return how many days of footage a video check found (D7)."""
    return (checked_on - oldest_footage).days


def alarm_test_failed(answered: bool, answered_in_seconds: int | None, talk_clear: bool) -> bool:
    """Return whether an emergency alarm test failed (D6).

    It fails when nobody answered, when the answer came later than
    ALARM_ANSWER_SECONDS, or when the two-way talk was not clear.
    """
    if not answered or answered_in_seconds is None:
        return True
    return answered_in_seconds > answer_limit_seconds() or not talk_clear


def next_due(last: date | None, interval_days: int) -> date | None:
    """Return when a periodic check is next due (None: never done, due now)."""
    return last + timedelta(days=interval_days) if last else None


def is_overdue(last: date | None, interval_days: int, today: date) -> bool:
    """Return whether a periodic check was never done or is past its interval."""
    due = next_due(last, interval_days)
    return due is None or due < today


def site_roster_gaps(site: Any, days: int, now: datetime) -> list[tuple[date, list[Interval]]]:
    """Return the gaps of each of a site's next ``days`` local days, 00:00-24:00 in its zone.

    Withdrawn shifts are ignored. The shifts come from the site's register
    chain (services.roster_days); the arithmetic is ``roster_gaps``.
    """
    from elevator_safety.registers import services

    return services.site_roster_gaps(site, days, now)
