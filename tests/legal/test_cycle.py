"""The inspection cycle rule (TSG T7001-2023) at every year boundary, its windows and leap days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from elevator_safety.legal import cycle
from elevator_safety.legal.cycle import Due, anniversary, covered_year, kind_in_year, next_due

ACCEPTED = date(2010, 6, 15)
INS, SELF = "inspection", "self_test"
#: The table of domain.md: inspections in years 1, 4, 7, 9, 11, 13, 15, then every year.
EXPECTED_KINDS = {
    1: INS, 2: SELF, 3: SELF, 4: INS, 5: SELF, 6: SELF, 7: INS, 8: SELF, 9: INS, 10: SELF,
    11: INS, 12: SELF, 13: INS, 14: SELF, 15: INS, 16: INS, 17: INS, 18: INS, 19: INS, 20: INS,
}  # fmt: skip


def test_the_table_is_the_domain_rule():
    assert cycle.INSPECTION_YEARS == (1, 4, 7, 9, 11, 13, 15)
    assert cycle.EVERY_YEAR_AFTER == 15
    assert cycle.INSPECTION_EARLY_MONTHS == 2
    assert cycle.INSPECTION_APPLY_DAYS == 30


@pytest.mark.parametrize(("year", "kind"), sorted(EXPECTED_KINDS.items()))
def test_kind_in_every_year(year, kind):
    assert kind_in_year(year) == kind


def test_year_zero_is_not_a_year():
    with pytest.raises(ValueError, match="start at 1"):
        kind_in_year(0)


@pytest.mark.parametrize("year", range(1, 21))
def test_anniversary_of_every_year(year):
    assert anniversary(ACCEPTED, year) == date(2010 + year, 6, 15)


def test_nothing_done_yet_the_first_anniversary_is_due():
    assert next_due(ACCEPTED) == Due(date(2011, 6, 15), INS, 1)


@pytest.mark.parametrize("year", range(1, 21))
def test_a_test_on_its_anniversary_moves_due_to_the_next_year(year):
    due = next_due(ACCEPTED, date(2010 + year, 6, 15))
    assert due == Due(date(2011 + year, 6, 15), EXPECTED_KINDS.get(year + 1, INS), year + 1)


@pytest.mark.parametrize("year", range(1, 21))
def test_the_day_before_the_anniversary_counts_for_it(year):
    due = next_due(ACCEPTED, date(2010 + year, 6, 14))
    assert due.year == year + 1
    assert due.due_on == date(2011 + year, 6, 15)


@pytest.mark.parametrize("year", range(2, 21))
def test_the_day_after_the_anniversary_is_late_for_it(year):
    due = next_due(ACCEPTED, date(2010 + year, 6, 16))
    assert due == Due(date(2011 + year, 6, 15), EXPECTED_KINDS.get(year + 1, INS), year + 1)


def test_exactly_two_months_early_covers_the_anniversary():
    # Year 4's anniversary is 2014-06-15; its window opens 2014-04-15.
    assert covered_year(ACCEPTED, date(2014, 4, 15)) == 4
    assert next_due(ACCEPTED, date(2014, 4, 15)) == Due(date(2015, 6, 15), SELF, 5)


def test_two_months_and_one_day_early_does_not_cover_it():
    assert covered_year(ACCEPTED, date(2014, 4, 14)) == 3
    # It counts as a late test for year 3: year 4 stays due on its anniversary.
    assert next_due(ACCEPTED, date(2014, 4, 14)) == Due(date(2014, 6, 15), INS, 4)


def test_the_early_window_is_configurable():
    assert covered_year(ACCEPTED, date(2014, 4, 14), early_months=3) == 4
    assert covered_year(ACCEPTED, date(2014, 5, 15), early_months=1) == 4
    assert covered_year(ACCEPTED, date(2014, 5, 14), early_months=1) == 3


def test_a_late_test_covers_the_anniversary_it_was_late_for():
    # Year 9 (2019-06-15) tested five months late: year 10 is due on its own anniversary.
    assert next_due(ACCEPTED, date(2019, 11, 15)) == Due(date(2020, 6, 15), SELF, 10)


def test_a_test_soon_after_acceptance_leaves_year_one_due():
    assert next_due(ACCEPTED, ACCEPTED) == Due(date(2011, 6, 15), INS, 1)
    assert covered_year(ACCEPTED, date(2011, 4, 14)) == 0
    assert covered_year(ACCEPTED, date(2011, 4, 15)) == 1


def test_a_test_before_acceptance_is_refused():
    with pytest.raises(ValueError, match="before acceptance"):
        next_due(ACCEPTED, ACCEPTED - timedelta(days=1))


def test_over_fifteen_years_every_year_is_an_inspection():
    assert next_due(ACCEPTED, date(2025, 6, 15)) == Due(date(2026, 6, 15), INS, 16)
    assert next_due(ACCEPTED, date(2030, 6, 1)) == Due(date(2031, 6, 15), INS, 21)


def test_leap_day_acceptance_falls_on_feb_28_in_common_years():
    leap = date(2016, 2, 29)
    assert anniversary(leap, 1) == date(2017, 2, 28)
    assert anniversary(leap, 4) == date(2020, 2, 29)
    assert next_due(leap) == Due(date(2017, 2, 28), INS, 1)
    # The window of year 1 opens two months before Feb 28, 2017.
    assert covered_year(leap, date(2016, 12, 28)) == 1
    assert covered_year(leap, date(2016, 12, 27)) == 0
    assert next_due(leap, date(2017, 2, 28)) == Due(date(2018, 2, 28), SELF, 2)
    assert next_due(leap, date(2019, 3, 1)) == Due(date(2020, 2, 29), INS, 4)


def test_month_end_windows_are_clamped():
    end_of_april = date(2015, 4, 30)
    # Two months before April 30 is the last day of February.
    assert cycle.window_opens(end_of_april, 1) == date(2016, 2, 29)
    assert cycle.window_opens(end_of_april, 2) == date(2017, 2, 28)
    assert covered_year(end_of_april, date(2017, 2, 28)) == 2
    assert covered_year(end_of_april, date(2017, 2, 27)) == 1


def test_add_months_crosses_years_both_ways():
    assert cycle.add_months(date(2020, 12, 31), 2) == date(2021, 2, 28)
    assert cycle.add_months(date(2021, 1, 31), -2) == date(2020, 11, 30)
    assert cycle.add_months(date(2021, 3, 15), -15) == date(2019, 12, 15)


def test_apply_by_is_thirty_days_before_the_due_date():
    assert cycle.apply_by(date(2026, 6, 15)) == date(2026, 5, 16)
    assert cycle.apply_by(date(2026, 6, 15), 10) == date(2026, 6, 5)
