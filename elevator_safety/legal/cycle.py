"""The periodic inspection cycle (定期检验 / 自行检测): the ONE place the rule lives.

TSG T7001-2023 (as summarised in docs/domain.md, *unverified* there): counting
years from the acceptance date (验收日期), an elevator is inspected by an
inspection body (定期检验) in years 1, 4, 7, 9, 11, 13 and 15, and tested by
its own side (自行检测, TSG T7008-2023) in the years between; from year 16 on
(older than 15 years) it is inspected every year. The test of year *n* falls
due on the *n*-th anniversary of acceptance.

A test may be done up to ``INSPECTION_EARLY_MONTHS`` (2) months before its
anniversary without moving the next due date: a test done within that window
covers that anniversary, and the next one stays due on the following
anniversary. A late test covers the anniversary it was late for. Owners apply
for the inspection ``INSPECTION_APPLY_DAYS`` (30) days before the due date
(特种设备安全法 art. 40); an uninspected (overdue) or failed elevator must not
be used.

Functions here are pure (no database, no configuration reads) so that the rule
can be tested at every boundary; the callers pass the configured numbers.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Literal, NamedTuple

from elevator_safety import config as _defaults

#: Years after acceptance in which the inspection body inspects (定期检验).
INSPECTION_YEARS: tuple[int, ...] = (1, 4, 7, 9, 11, 13, 15)
#: After this many years the elevator is inspected every year.
EVERY_YEAR_AFTER = 15
#: Default early window (months) and application lead time (days), from config.py.
INSPECTION_EARLY_MONTHS: int = _defaults.INSPECTION_EARLY_MONTHS
INSPECTION_APPLY_DAYS: int = _defaults.INSPECTION_APPLY_DAYS

TestKind = Literal["inspection", "self_test"]
INSPECTION: TestKind = "inspection"
SELF_TEST: TestKind = "self_test"


class Due(NamedTuple):
    """The next test of an elevator: its date, its kind and its year after acceptance."""

    due_on: date
    kind: TestKind
    year: int


def kind_in_year(n: int) -> TestKind:
    """Return which test falls due in year ``n`` after acceptance (n ≥ 1)."""
    if n < 1:
        raise ValueError("years after acceptance start at 1")
    if n in INSPECTION_YEARS or n > EVERY_YEAR_AFTER:
        return INSPECTION
    return SELF_TEST


def add_months(day: date, months: int) -> date:
    """Return the same day ``months`` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def anniversary(acceptance: date, n: int) -> date:
    """Return the ``n``-th anniversary of acceptance (Feb 29 → Feb 28 in common years)."""
    return add_months(acceptance, 12 * n)


def window_opens(acceptance: date, n: int, early_months: int = INSPECTION_EARLY_MONTHS) -> date:
    """Return the first day a test counts for anniversary ``n`` (``early_months`` before it)."""
    return add_months(anniversary(acceptance, n), -early_months)


def covered_year(
    acceptance: date, done_on: date, early_months: int = INSPECTION_EARLY_MONTHS
) -> int:
    """Return the anniversary a test done on ``done_on`` covers (0: before year 1's window).

    That is the latest year whose window has opened by ``done_on``: a test in
    the early window covers the coming anniversary, a late one the anniversary
    it was late for.
    """
    if done_on < acceptance:
        raise ValueError("a test cannot be done before acceptance")
    n = max(done_on.year - acceptance.year - 1, 0)
    while window_opens(acceptance, n + 1, early_months) <= done_on:
        n += 1
    return n


def next_due(
    acceptance: date,
    last_done: date | None = None,
    early_months: int = INSPECTION_EARLY_MONTHS,
) -> Due:
    """Return when the next test falls due, of which kind, in which year.

    Without a test done yet, the first anniversary (year 1) is due. Otherwise
    the anniversary after the one the last test covered.
    """
    n = 1 if last_done is None else covered_year(acceptance, last_done, early_months) + 1
    return Due(anniversary(acceptance, n), kind_in_year(n), n)


def apply_by(due: date, apply_days: int = INSPECTION_APPLY_DAYS) -> date:
    """Return the day by which the owner applies for the inspection (due − apply days)."""
    return due - timedelta(days=apply_days)
