"""The roster gap arithmetic (D6), retention and alarm-test rules, as plain functions."""

from __future__ import annotations

from datetime import date, timedelta

from elevator_safety.registers import rules
from tests.registers.conftest import sh

DAY_START = sh(2026, 5, 4)
DAY_END = sh(2026, 5, 5)


def gaps(*shifts):  # type: ignore[no-untyped-def]
    return rules.roster_gaps(list(shifts), DAY_START, DAY_END)


def test_no_shifts_is_one_gap_over_the_whole_day():
    assert gaps() == [(DAY_START, DAY_END)]


def test_full_coverage_has_no_gap():
    assert gaps((DAY_START, DAY_END)) == []
    assert (
        gaps((sh(2026, 5, 4, 0), sh(2026, 5, 4, 8)), (sh(2026, 5, 4, 8), sh(2026, 5, 5, 0))) == []
    )


def test_gap_at_start():
    assert gaps((sh(2026, 5, 4, 6), DAY_END)) == [(DAY_START, sh(2026, 5, 4, 6))]


def test_gap_in_the_middle():
    result = gaps((DAY_START, sh(2026, 5, 4, 12)), (sh(2026, 5, 4, 13), DAY_END))
    assert result == [(sh(2026, 5, 4, 12), sh(2026, 5, 4, 13))]


def test_gap_at_end():
    assert gaps((DAY_START, sh(2026, 5, 4, 22, 30))) == [(sh(2026, 5, 4, 22, 30), DAY_END)]


def test_several_gaps_in_order_whatever_the_shift_order():
    result = gaps(
        (sh(2026, 5, 4, 16), sh(2026, 5, 4, 20)),
        (sh(2026, 5, 4, 2), sh(2026, 5, 4, 8)),
    )
    assert result == [
        (DAY_START, sh(2026, 5, 4, 2)),
        (sh(2026, 5, 4, 8), sh(2026, 5, 4, 16)),
        (sh(2026, 5, 4, 20), DAY_END),
    ]


def test_overlapping_and_nested_shifts_merge():
    result = gaps(
        (DAY_START, sh(2026, 5, 4, 10)),
        (sh(2026, 5, 4, 9), sh(2026, 5, 4, 18)),
        (sh(2026, 5, 4, 11), sh(2026, 5, 4, 12)),  # inside the previous one
        (sh(2026, 5, 4, 18), DAY_END),  # adjacent
    )
    assert result == []


def test_nested_shift_does_not_shorten_the_cover():
    result = gaps((DAY_START, sh(2026, 5, 4, 20)), (sh(2026, 5, 4, 1), sh(2026, 5, 4, 2)))
    assert result == [(sh(2026, 5, 4, 20), DAY_END)]


def test_shifts_crossing_midnight_are_clipped_to_the_window():
    night_before = (sh(2026, 5, 3, 20), sh(2026, 5, 4, 8))
    night_after = (sh(2026, 5, 4, 20), sh(2026, 5, 5, 8))
    assert gaps(night_before, night_after) == [(sh(2026, 5, 4, 8), sh(2026, 5, 4, 20))]
    assert gaps(night_before, (sh(2026, 5, 4, 8), sh(2026, 5, 4, 20)), night_after) == []


def test_shifts_outside_the_window_and_empty_shifts_are_ignored():
    assert gaps(
        (sh(2026, 5, 3, 0), sh(2026, 5, 4, 0)),  # ends exactly at the window start
        (sh(2026, 5, 5, 0), sh(2026, 5, 5, 8)),  # starts at the window end
        (sh(2026, 5, 4, 9), sh(2026, 5, 4, 9)),  # empty
        (sh(2026, 5, 4, 12), sh(2026, 5, 4, 11)),  # inverted
    ) == [(DAY_START, DAY_END)]


def test_empty_window_has_no_gap():
    assert rules.roster_gaps([], DAY_END, DAY_START) == []


def test_day_window_is_local_midnight_to_midnight():
    start, end = rules.day_window(date(2026, 5, 4), "Asia/Shanghai")
    assert start == DAY_START
    assert end == DAY_END
    assert end - start == timedelta(hours=24)
    assert start.utcoffset() == timedelta(hours=8)


def test_daily_gaps_evaluates_each_local_day():
    night = (sh(2026, 5, 4, 20), sh(2026, 5, 5, 8))
    day = (sh(2026, 5, 4, 0), sh(2026, 5, 4, 20))
    result = rules.daily_gaps([day, night], date(2026, 5, 4), 2, "Asia/Shanghai")
    assert result == [
        (date(2026, 5, 4), []),
        (date(2026, 5, 5), [(sh(2026, 5, 5, 8), sh(2026, 5, 6))]),
    ]


def test_retention_days():
    assert rules.retention_days(date(2026, 5, 4), date(2026, 4, 4)) == 30
    assert rules.retention_days(date(2026, 5, 4), date(2026, 5, 4)) == 0


def test_alarm_test_failure_rule(app):
    limit = rules.answer_limit_seconds()
    assert limit == app.config["ALARM_ANSWER_SECONDS"] == 60
    assert rules.alarm_test_failed(True, limit, True) is False
    assert rules.alarm_test_failed(True, 0, True) is False
    assert rules.alarm_test_failed(True, limit + 1, True) is True
    assert rules.alarm_test_failed(False, None, False) is True
    assert rules.alarm_test_failed(True, None, True) is True
    assert rules.alarm_test_failed(True, 10, False) is True


def test_overdue_rule():
    today = date(2026, 5, 4)
    assert rules.is_overdue(None, 30, today) is True
    assert rules.is_overdue(today - timedelta(days=30), 30, today) is False
    assert rules.is_overdue(today - timedelta(days=31), 30, today) is True
    assert rules.next_due(today, 30) == date(2026, 6, 3)
