"""Compliance rules D6–D11 (see compliance/base.py for the shape of a rule).

Every rule returns ONE select over all elevators at once of the violations
``(elevator_id, period, state, detail)``. Thresholds are computed in Python
from ``ctx.now`` / ``ctx.today`` and bound as parameters, so the SQL is the
same on SQLite and PostgreSQL. Two rules need arithmetic that SQL cannot do
portably (the duty roster's interval gaps, D6, and the rescue time of an
entrapment against its own recorded limit, D8); they load the few rows
concerned in one query, compute in Python with the existing functions
(``registers.rules.roster_gaps``, ``lockouts.services.rescue_late``) and bind
the result into their select: still a fixed number of queries whatever the
number of elevators.

"Today" is the installation's day (``ctx.today``, TIMEZONE), except for the
roster, whose days are each site's own local days (as on the registers page).

Details are short strings, ``|``-separated when they carry several values
(e.g. ``"12|2026-03-01"``: site 12, last check 2026-03-01); the rule's
``message`` and ``link`` parse them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from elevator_safety.auth.models import Organisation
from elevator_safety.compliance.base import Context, Rule, computed_once
from elevator_safety.compliance.models import State
from elevator_safety.compliance.rules_a import findings_rule
from elevator_safety.db import UTCDateTime
from elevator_safety.extensions import db
from elevator_safety.legal import cycle
from elevator_safety.lockouts.models import Lockout, LockoutStatus
from elevator_safety.records.models import Finding, FindingStatus, RecordKind, Severity
from elevator_safety.records.models import Record as ChainRecord
from elevator_safety.registers import rules as register_rules
from elevator_safety.registers.models import (
    Certificate,
    CertificateKind,
    RegisterEntry,
    RegisterKind,
)
from elevator_safety.registry.models import (
    Contract,
    Elevator,
    ElevatorStatus,
    InspectionResult,
    Site,
)
from elevator_safety.templating import path_for

#: Findings not yet rectified (整改未完成): the same states as rectifications.services.
OPEN_FINDING_STATES = (FindingStatus.open, FindingStatus.in_progress, FindingStatus.reopened)

#: Entrapments whose rescue time is checked: lockouts opened within this many days.
RESCUE_LOOKBACK_DAYS = 30


# --- helpers ---------------------------------------------------------------------------


def _text(value: Any) -> ColumnElement[str]:
    """Return a bound string literal (a column of the select)."""
    return literal(str(value), String)


def _str(column: Any) -> ColumnElement[str]:
    """Return a column cast to text (ids, dates as YYYY-MM-DD on both databases)."""
    return cast(column, String)


def _row(elevator_id: Any, period: Any, state: Any, detail: Any) -> tuple[ColumnElement[Any], ...]:
    return (
        elevator_id.label("elevator_id"),
        period.label("period"),
        state.label("state"),
        detail.label("detail"),
    )


def _in_service() -> ColumnElement[bool]:
    return Elevator.status == ElevatorStatus.in_service


def _nothing() -> Select[Any]:
    """Return a select of the right shape that yields no row."""
    return select(*_row(Elevator.id, _text("-"), _text(State.ok), _text(""))).where(false())


def _parts(detail: str | None, n: int) -> list[str]:
    """Split a detail into ``n`` parts (missing ones empty)."""
    parts = (detail or "").split("|")
    return (parts + [""] * n)[:n]


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _elevator_link(elevator_id: int, _detail: str | None = None) -> str:
    return path_for("registry.elevator_detail", elevator_id=elevator_id)


def _site_link(endpoint: str) -> Callable[[int, str | None], str]:
    """Return a link to a site page whose site id is the detail's first part."""

    def link(elevator_id: int, detail: str | None) -> str:
        site_id = _int(_parts(detail, 1)[0])
        if site_id is None:
            return _elevator_link(elevator_id)
        return path_for(endpoint, site_id=site_id)

    return link


def _date_text(value: str) -> str:
    return value or _("never")


def earliest_in_time(today: date, months: int) -> date:
    """Return the earliest last-drill day that is not overdue today.

    A drill on ``last`` is due again on ``cycle.add_months(last, months)``
    (the same day ``months`` later, clamped to the month's end, as on the legal
    pages) and overdue the day after; this returns the smallest ``last`` with
    ``add_months(last, months) >= today``, so that ``last < cutoff`` in SQL
    is exactly "overdue".
    """
    day = cycle.add_months(today, -months)
    while cycle.add_months(day - timedelta(days=1), months) >= today:
        day -= timedelta(days=1)
    while cycle.add_months(day, months) < today:
        day += timedelta(days=1)
    return day


# --- D6: duty roster and emergency alarm tests ------------------------------------------


def _roster_days(ctx: Context) -> Any:
    """Return (subquery, first start, last end) of the horizon's local days of every zone.

    The subquery's columns: zone, day (YYYY-MM-DD), starts, ends (the local
    day's 00:00 and 24:00 in UTC), state (today's gap is overdue, a later
    day's due soon). Computed in Python (time zones), one row per zone and
    day. None when there is no site.
    """
    days = int(ctx.config.get("ROSTER_HORIZON_DAYS", 7))
    zones = sorted(
        {zone or "Asia/Shanghai" for zone in db.session.scalars(select(Site.timezone).distinct())}
    )
    rows = []
    windows = []
    for zone in zones:
        first = ctx.now.astimezone(ZoneInfo(zone)).date()
        for offset in range(days):
            day = first + timedelta(days=offset)
            starts, ends = register_rules.day_window(day, zone)
            windows.append((starts, ends))
            state = State.overdue if day <= ctx.today else State.due_soon
            rows.append(
                select(
                    _text(zone).label("zone"),
                    _text(day.isoformat()).label("day"),
                    literal(starts, UTCDateTime()).label("starts"),
                    literal(ends, UTCDateTime()).label("ends"),
                    _text(state).label("state"),
                )
            )
    if not rows:
        return None
    subquery = (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("roster_days")
    return subquery, min(w[0] for w in windows), max(w[1] for w in windows)


def _covered_stretches(since: Any, until: Any) -> Any:
    """Return a subquery (site_id, starts, ends): each site's shifts merged into stretches.

    Shifts not withdrawn that reach into [since, until), ordered by start
    within their site; a shift starts a new stretch when it begins after
    every earlier shift of the site has ended (one that begins exactly when
    another ends continues it). A stretch is one unbroken covered time. The
    shifts left out end before ``since`` or begin after ``until``, so they
    change no stretch inside the window.
    """
    withdrawal = aliased(RegisterEntry)
    order = (RegisterEntry.starts_at, RegisterEntry.ends_at, RegisterEntry.id)
    shifts = (
        select(
            RegisterEntry.site_id,
            RegisterEntry.starts_at,
            RegisterEntry.ends_at,
            func.max(RegisterEntry.ends_at)
            .over(partition_by=RegisterEntry.site_id, order_by=order, rows=(None, -1))
            .label("covered_until"),
            *order[2:],
        )
        .where(
            RegisterEntry.kind == RegisterKind.roster_shift,
            RegisterEntry.starts_at.is_not(None),
            RegisterEntry.ends_at > RegisterEntry.starts_at,
            RegisterEntry.ends_at > literal(since, UTCDateTime()),
            RegisterEntry.starts_at < literal(until, UTCDateTime()),
            ~exists().where(
                withdrawal.subject_id == RegisterEntry.id,
                withdrawal.kind == RegisterKind.roster_withdrawal,
            ),
        )
        .subquery()
    )
    begins = case(
        (
            or_(shifts.c.covered_until.is_(None), shifts.c.starts_at > shifts.c.covered_until),
            1,
        ),
        else_=0,
    )
    numbered = select(
        shifts.c.site_id,
        shifts.c.starts_at,
        shifts.c.ends_at,
        func.sum(begins)
        .over(
            partition_by=shifts.c.site_id,
            order_by=(shifts.c.starts_at, shifts.c.ends_at, shifts.c.id),
            rows=(None, 0),
        )
        .label("stretch"),
    ).subquery()
    return (
        select(
            numbered.c.site_id,
            func.min(numbered.c.starts_at).label("starts"),
            func.max(numbered.c.ends_at).label("ends"),
        )
        .group_by(numbered.c.site_id, numbered.c.stretch)
        .subquery()
    )


def _roster_query(ctx: Context) -> Select[Any]:
    """D6.roster: every elevator of a site whose roster has a gap on a day of the horizon.

    A local day is covered when every moment of it is inside a shift that was
    not withdrawn. The site's shifts are merged into unbroken stretches
    (``_covered_stretches``, a window function over the site's shifts), so a
    day is covered when one stretch holds all of it, and has a gap otherwise:
    one set-based query over every site. Period is the gap day (YYYY-MM-DD);
    today's gap is overdue, a later day's due soon. Detail ``site_id|day``.
    """
    horizon = _roster_days(ctx)
    if horizon is None:
        return _nothing()
    days, since, until = horizon
    zone = func.coalesce(Site.timezone, _text("Asia/Shanghai"))
    stretches = _covered_stretches(since, until)
    # Computed once per site and day, not once per elevator and day.
    gaps = computed_once(
        select(Site.id.label("site_id"), days.c.day, days.c.state)
        .join(days, days.c.zone == zone)
        .where(
            ~exists().where(
                stretches.c.site_id == Site.id,
                stretches.c.starts <= days.c.starts,
                stretches.c.ends >= days.c.ends,
            )
        )
    ).subquery()
    return (
        select(
            *_row(
                Elevator.id,
                gaps.c.day,
                gaps.c.state,
                _str(Elevator.site_id) + _text("|") + gaps.c.day,
            )
        )
        .join(gaps, gaps.c.site_id == Elevator.site_id)
        .where(_in_service())
    )


def _roster_message(detail: str | None) -> str:
    _site, day = _parts(detail, 2)
    return _("The duty roster has gaps on %(day)s.", day=day)


def _last_per(column: Any, key: Any, *where: Any) -> Any:
    """Return a subquery (key, last) of the latest ``column`` per ``key``."""
    return select(key.label("key"), func.max(column).label("last")).where(*where).group_by(key)


def _periodic_query(
    last: Any, interval_days: int, soon_days: int, today: date
) -> tuple[ColumnElement[bool], ColumnElement[str]]:
    """Return (violated, state) of a check that is due ``interval_days`` after ``last``.

    Overdue when never done or ``last + interval < today``; due soon when the
    due day is within ``soon_days`` (``registers.rules.is_overdue``).
    """
    overdue_before = today - timedelta(days=interval_days)
    soon_before = overdue_before + timedelta(days=soon_days)
    violated = or_(last.is_(None), last <= soon_before)
    state = case(
        (or_(last.is_(None), last < overdue_before), _text(State.overdue)),
        else_=_text(State.due_soon),
    )
    return violated, state


def _alarm_test_query(ctx: Context) -> Select[Any]:
    """D6.alarm_test: the elevator's last emergency alarm test is older than its interval.

    Overdue when never tested or the last test's day + ALARM_TEST_INTERVAL_DAYS
    is before today; due soon within DUE_SOON_DAYS before. Period and detail
    are the last test's day, or ``never``.
    """
    last = _last_per(
        ChainRecord.occurred_on, ChainRecord.elevator_id, ChainRecord.kind == RecordKind.alarm_test
    ).subquery()
    violated, state = _periodic_query(
        last.c.last,
        int(ctx.config.get("ALARM_TEST_INTERVAL_DAYS", 30)),
        int(ctx.config.get("DUE_SOON_DAYS", 3)),
        ctx.today,
    )
    when = func.coalesce(_str(last.c.last), _text("never"))
    return (
        select(*_row(Elevator.id, when, state, func.coalesce(_str(last.c.last), _text(""))))
        .outerjoin(last, last.c.key == Elevator.id)
        .where(_in_service(), violated)
    )


def _alarm_message(detail: str | None) -> str:
    if not detail:
        return _("No emergency alarm test on file.")
    return _("The last emergency alarm test (%(day)s) is out of date.", day=detail)


# --- D7: video retention checks -------------------------------------------------------------


def _video_query(ctx: Context) -> Select[Any]:
    """D7.video_check: the site's last video retention check is older than its interval.

    Overdue for every elevator of the site when never checked or the last
    check's day + VIDEO_CHECK_INTERVAL_DAYS is before today; due soon within
    DUE_SOON_DAYS before. Period: the last check's day or ``never``; detail
    ``site_id|last day``.
    """
    last = _last_per(
        RegisterEntry.occurred_on,
        RegisterEntry.site_id,
        RegisterEntry.kind == RegisterKind.video_check,
    ).subquery()
    violated, state = _periodic_query(
        last.c.last,
        int(ctx.config.get("VIDEO_CHECK_INTERVAL_DAYS", 30)),
        int(ctx.config.get("DUE_SOON_DAYS", 3)),
        ctx.today,
    )
    detail = _str(Elevator.site_id) + _text("|") + func.coalesce(_str(last.c.last), _text(""))
    return (
        select(*_row(Elevator.id, func.coalesce(_str(last.c.last), _text("never")), state, detail))
        .outerjoin(last, last.c.key == Elevator.site_id)
        .where(_in_service(), violated)
    )


def _video_message(detail: str | None) -> str:
    _site, day = _parts(detail, 2)
    if not day:
        return _("No video retention check on file for the site.")
    return _("The site's last video retention check (%(day)s) is out of date.", day=day)


# --- D8: lockouts and entrapments -----------------------------------------------------------


def _lockout_link(elevator_id: int, detail: str | None) -> str:
    lockout_id = _int(_parts(detail, 1)[0].split(":")[0])
    if lockout_id is None:
        return _elevator_link(elevator_id)
    return path_for("lockouts.detail", lockout_id=lockout_id)


def _first_steps_query(ctx: Context) -> Select[Any]:
    """D8.first_steps: an open lockout still without its notice or notification after the limit.

    Overdue when the lockout opened more than LOCKOUT_NOTIFY_MINUTES ago (a
    second more than the limit) and the 停用 notice is not posted or the
    contractor not notified. Steps done late but done are shown on the lockout
    page (``lockouts.services.late_steps``), not raised: nothing can clear them.
    Period: the lockout id; detail ``id:notice``, ``id:notify`` or ``id:both``.
    """
    limit = ctx.now - timedelta(minutes=int(ctx.config.get("LOCKOUT_NOTIFY_MINUTES", 15)))
    no_notice = Lockout.notice_posted_at.is_(None)
    no_notify = Lockout.notified_at.is_(None)
    which = case(
        (and_(no_notice, no_notify), _text(":both")),
        (no_notice, _text(":notice")),
        else_=_text(":notify"),
    )
    return select(
        *_row(Lockout.elevator_id, _str(Lockout.id), _text(State.overdue), _str(Lockout.id) + which)
    ).where(
        Lockout.status == LockoutStatus.open,
        Lockout.opened_at < limit,
        or_(no_notice, no_notify),
    )


def _first_steps_message(detail: str | None) -> str:
    lockout_id, _sep, which = (detail or "").partition(":")
    if which == "notice":
        return _("Lockout #%(id)s: the out-of-service notice is not posted.", id=lockout_id)
    if which == "notify":
        return _("Lockout #%(id)s: the contractor has not been notified.", id=lockout_id)
    return _(
        "Lockout #%(id)s: no out-of-service notice posted and the contractor not notified.",
        id=lockout_id,
    )


def _long_lockout_query(ctx: Context) -> Select[Any]:
    """D8.long_lockout: a lockout open for more than LOCKOUT_LONG_DAYS (now − opened > limit).

    Period and detail: the lockout id.
    """
    limit = ctx.now - timedelta(days=int(ctx.config.get("LOCKOUT_LONG_DAYS", 3)))
    return select(
        *_row(Lockout.elevator_id, _str(Lockout.id), _text(State.overdue), _str(Lockout.id))
    ).where(Lockout.status == LockoutStatus.open, Lockout.opened_at < limit)


def _rescue_query(ctx: Context) -> Select[Any]:
    """D8.rescue_late: an entrapment whose rescue arrived (or is awaited) after its limit.

    Late when (arrival, or now while not arrived) − alarm > the lockout's own
    ``rescue_limit_minutes`` (copied from ENTRAPMENT_ARRIVAL_MINUTES when it
    opened: 30 in a city, 60 elsewhere); exactly the limit is in time
    (``lockouts.services.rescue_late``). Entrapments of lockouts opened within
    the last RESCUE_LOOKBACK_DAYS (30) days are checked, open or closed, so a
    late rescue stays visible for a month and then resolves. Computed in
    Python over those few lockouts (one query); period and detail: the lockout id.
    """
    since = ctx.now - timedelta(days=RESCUE_LOOKBACK_DAYS)
    candidates = db.session.execute(
        select(
            Lockout.id, Lockout.alarm_at, Lockout.rescue_arrived_at, Lockout.rescue_limit_minutes
        ).where(
            Lockout.entrapment.is_(True),
            Lockout.alarm_at.is_not(None),
            Lockout.opened_at >= since,
        )
    ).all()
    late = [
        lockout_id
        for lockout_id, alarm_at, arrived_at, limit in candidates
        if max((arrived_at or ctx.now) - alarm_at, timedelta(0)) > timedelta(minutes=limit or 0)
    ]
    if not late:
        return _nothing()
    return select(
        *_row(Lockout.elevator_id, _str(Lockout.id), _text(State.overdue), _str(Lockout.id))
    ).where(Lockout.id.in_(late))


# --- D9: rectification deadlines ---------------------------------------------------------------


def _deadline_query(ctx: Context) -> Select[Any]:
    """D9.deadline: a rectification not done by its deadline (open states, deadline < now).

    One alert per finding (period = finding id) on its elevator, or on every
    elevator of the site for a site-wide finding. Detail ``id`` or
    ``id:serious`` (serious hazards escalate to the safety director).
    Applies to elevators out of service too: a serious hazard locks the
    elevator out and its rectification still has a deadline.
    """
    serious = case(
        (Finding.severity == Severity.serious, _text(":serious")),
        else_=_text(""),
    )
    return (
        select(
            *_row(Elevator.id, _str(Finding.id), _text(State.overdue), _str(Finding.id) + serious)
        )
        .join(
            Elevator,
            or_(
                Finding.elevator_id == Elevator.id,
                and_(Finding.elevator_id.is_(None), Finding.site_id == Elevator.site_id),
            ),
        )
        .where(Finding.status.in_(OPEN_FINDING_STATES), Finding.deadline < ctx.now)
    )


def is_serious(detail: str | None) -> bool:
    """Return whether a D9 alert's detail is a serious hazard's (escalate to the director)."""
    return (detail or "").endswith(":serious")


def _deadline_message(detail: str | None) -> str:
    finding_id = (detail or "").split(":")[0]
    if is_serious(detail):
        return _("Serious hazard #%(id)s is past its rectification deadline.", id=finding_id)
    return _("Rectification #%(id)s is past its deadline.", id=finding_id)


def _finding_link(elevator_id: int, detail: str | None) -> str:
    finding_id = _int((detail or "").split(":")[0])
    if finding_id is None:
        return _elevator_link(elevator_id)
    return path_for("rectifications.detail", finding_id=finding_id)


# --- D11: inspections, drills, certificates ---------------------------------------------------


def _inspection_query(ctx: Context) -> Select[Any]:
    """D11.inspection: periodic inspection overdue or failed (hard stop) or due soon.

    Hard stop when ``next_inspection_due`` is before today (due today is still
    in time) or the last result is ``failed``; due soon when the due day is
    within INSPECTION_APPLY_DAYS (apply one month ahead). Elevators without a
    due day on file raise nothing here. Period: the due day (or ``failed``);
    detail ``failed``, ``overdue|day`` or ``due|day``.
    """
    today = ctx.today
    apply_until = today + timedelta(days=int(ctx.config.get("INSPECTION_APPLY_DAYS", 30)))
    due = Elevator.next_inspection_due
    failed = Elevator.last_inspection_result == InspectionResult.failed
    overdue = due < today
    state = case((or_(failed, overdue), _text(State.hard_stop)), else_=_text(State.due_soon))
    detail = case(
        (failed, _text("failed")),
        (overdue, _text("overdue|") + _str(due)),
        else_=_text("due|") + _str(due),
    )
    period = case((failed, _text("failed")), else_=_str(due))
    return select(*_row(Elevator.id, period, state, detail)).where(
        _in_service(), or_(failed, due <= apply_until)
    )


def _inspection_message(detail: str | None) -> str:
    kind, day = _parts(detail, 2)
    if kind == "failed":
        return _("The last periodic inspection failed: the elevator must not be used.")
    if kind == "overdue":
        return _(
            "The periodic inspection was due on %(day)s: the elevator must not be used.", day=day
        )
    return _("The periodic inspection is due on %(day)s: apply for it now.", day=day)


def _site_drill_query(ctx: Context) -> Select[Any]:
    """D11.site_drill: the site's own emergency drill is older than SITE_DRILL_MONTHS.

    Counts drills of the site's company at this site done as planned (ok). A
    drill on day L is due again on L + SITE_DRILL_MONTHS calendar months
    (``legal.cycle.add_months``, month ends clamped) and overdue from the day
    after; never drilled is overdue. Every elevator of the site gets it.
    Period: the last drill day or ``never``; detail ``site_id|day``.
    """
    cutoff = earliest_in_time(ctx.today, int(ctx.config.get("SITE_DRILL_MONTHS", 12)))
    last = (
        select(
            RegisterEntry.site_id.label("site_id"),
            RegisterEntry.organisation_id.label("org_id"),
            func.max(RegisterEntry.on_date).label("last"),
        )
        .where(RegisterEntry.kind == RegisterKind.drill, RegisterEntry.ok.is_(True))
        .group_by(RegisterEntry.site_id, RegisterEntry.organisation_id)
        .subquery()
    )
    detail = _str(Elevator.site_id) + _text("|") + func.coalesce(_str(last.c.last), _text(""))
    return (
        select(
            *_row(
                Elevator.id,
                func.coalesce(_str(last.c.last), _text("never")),
                _text(State.overdue),
                detail,
            )
        )
        .join(Site, Site.id == Elevator.site_id)
        .outerjoin(last, and_(last.c.site_id == Site.id, last.c.org_id == Site.organisation_id))
        .where(_in_service(), or_(last.c.last.is_(None), last.c.last < cutoff))
    )


def _site_drill_message(detail: str | None) -> str:
    _site, day = _parts(detail, 2)
    if not day:
        return _("No emergency drill of the site on file.")
    return _("The site's last emergency drill (%(day)s) is out of date.", day=day)


def _contractor_drill_query(ctx: Context) -> Select[Any]:
    """D11.contractor_drill: a contractor in force on the elevator drilled too long ago.

    For each contractor with a contract in force today on the elevator, its
    last drill anywhere (done as planned) is overdue after
    CONTRACTOR_DRILL_MONTHS calendar months, as for the site's drill; never
    drilled is overdue. Period ``contractor_id:day`` (or ``:never``); detail
    ``site_id|contractor_id|day``.
    """
    today = ctx.today
    cutoff = earliest_in_time(today, int(ctx.config.get("CONTRACTOR_DRILL_MONTHS", 6)))
    last = _last_per(
        RegisterEntry.on_date,
        RegisterEntry.organisation_id,
        RegisterEntry.kind == RegisterKind.drill,
        RegisterEntry.ok.is_(True),
    ).subquery()
    contractors = (
        select(Contract.elevator_id, Contract.contractor_id)
        .where(Contract.start_date <= today, Contract.end_date >= today)
        .distinct()
        .subquery()
    )
    day = func.coalesce(_str(last.c.last), _text(""))
    period = (
        _str(contractors.c.contractor_id)
        + _text(":")
        + func.coalesce(_str(last.c.last), _text("never"))
    )
    detail = (
        _str(Elevator.site_id) + _text("|") + _str(contractors.c.contractor_id) + _text("|") + day
    )
    return (
        select(*_row(Elevator.id, period, _text(State.overdue), detail))
        .join(contractors, contractors.c.elevator_id == Elevator.id)
        .outerjoin(last, last.c.key == contractors.c.contractor_id)
        .where(_in_service(), or_(last.c.last.is_(None), last.c.last < cutoff))
    )


def _contractor_drill_message(detail: str | None) -> str:
    _site, contractor_id, day = _parts(detail, 3)
    org = db.session.get(Organisation, _int(contractor_id) or 0)
    name = org.name if org else contractor_id
    if not day:
        return _("No emergency drill of the contractor %(name)s on file.", name=name)
    return _("The contractor %(name)s last drilled on %(day)s: out of date.", name=name, day=day)


def _certificate_query(ctx: Context) -> Select[Any]:
    """D11.certificate: the responsible safety officer's certificate expired or expiring.

    The officer's latest safety-management certificate (kind safety_officer,
    ``Certificate.user_id = elevator.safety_officer_id``) counts: overdue when
    it expired before today (valid through its expiry day), due soon when it
    expires within CERTIFICATE_EXPIRY_WARNING_DAYS, and due soon "no
    certificate on file" when there is none (the register may be incomplete,
    so not treated as a violation). Period: the expiry day or ``none``;
    detail ``user_id|expiry day``.
    """
    today = ctx.today
    warn_until = today + timedelta(days=int(ctx.config.get("CERTIFICATE_EXPIRY_WARNING_DAYS", 30)))
    last = _last_per(
        Certificate.expires_on,
        Certificate.user_id,
        Certificate.kind == CertificateKind.safety_officer,
    ).subquery()
    expired = last.c.last < today
    state = case((expired, _text(State.overdue)), else_=_text(State.due_soon))
    status = case((expired, _text("|expired|")), else_=_text("|expires|"))
    detail = _str(Elevator.safety_officer_id) + status + func.coalesce(_str(last.c.last), _text(""))
    return (
        select(*_row(Elevator.id, func.coalesce(_str(last.c.last), _text("none")), state, detail))
        .outerjoin(last, last.c.key == Elevator.safety_officer_id)
        .where(_in_service(), or_(last.c.last.is_(None), last.c.last <= warn_until))
    )


def _certificate_message(detail: str | None) -> str:
    _user, status, day = _parts(detail, 3)
    if not day:
        return _("The responsible safety officer has no certificate on file.")
    if status == "expired":
        return _("The responsible safety officer's certificate expired on %(day)s.", day=day)
    return _("The responsible safety officer's certificate expires on %(day)s.", day=day)


def _certificates_link(_elevator_id: int, _detail: str | None) -> str:
    return path_for("legal.certificates")


#: The rules of this module, in the order they are shown.
RULES: list[Rule] = [
    Rule(
        "D6.roster",
        "D6",
        _l("Duty roster covers every hour of the next days"),
        _roster_query,
        _roster_message,
        _site_link("registers.site"),
    ),
    Rule(
        "D6.alarm_test",
        "D6",
        _l("Emergency alarm tested within its interval"),
        _alarm_test_query,
        _alarm_message,
        lambda elevator_id, _detail: path_for("registers.new_alarm_test", elevator_id=elevator_id),
    ),
    Rule(
        "D7.video_check",
        "D7",
        _l("Video retention checked within its interval"),
        _video_query,
        _video_message,
        _site_link("registers.site"),
    ),
    findings_rule("D7"),
    Rule(
        "D8.first_steps",
        "D8",
        _l("Lockout notice posted and contractor notified in time"),
        _first_steps_query,
        _first_steps_message,
        _lockout_link,
        applies_out_of_service=True,
    ),
    Rule(
        "D8.long_lockout",
        "D8",
        _l("No lockout open for too long"),
        _long_lockout_query,
        lambda detail: _("Lockout #%(id)s has been open too long.", id=detail or ""),
        _lockout_link,
        applies_out_of_service=True,
    ),
    Rule(
        "D8.rescue_late",
        "D8",
        _l("Entrapment rescue arrived in time"),
        _rescue_query,
        lambda detail: _("Lockout #%(id)s: the rescue arrived late.", id=detail or ""),
        _lockout_link,
        applies_out_of_service=True,
    ),
    Rule(
        "D9.deadline",
        "D9",
        _l("Rectifications done by their deadline"),
        _deadline_query,
        _deadline_message,
        _finding_link,
        applies_out_of_service=True,
    ),
    findings_rule("D10"),
    Rule(
        "D11.inspection",
        "D11",
        _l("Periodic inspection passed and not overdue"),
        _inspection_query,
        _inspection_message,
        _elevator_link,
    ),
    Rule(
        "D11.site_drill",
        "D11",
        _l("Site emergency drill within its interval"),
        _site_drill_query,
        _site_drill_message,
        _site_link("legal.site"),
    ),
    Rule(
        "D11.contractor_drill",
        "D11",
        _l("Contractor emergency drill within its interval"),
        _contractor_drill_query,
        _contractor_drill_message,
        _site_link("legal.site"),
    ),
    Rule(
        "D11.certificate",
        "D11",
        _l("Safety officer's certificate valid"),
        _certificate_query,
        _certificate_message,
        _certificates_link,
    ),
]
