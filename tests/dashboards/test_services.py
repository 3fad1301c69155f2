"""The dashboard numbers against a small hand-built world of alert rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import event, select

from elevator_safety.auth.models import OrgKind
from elevator_safety.compliance.models import State
from elevator_safety.dashboards import services, trend
from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator, Site
from tests.dashboards.conftest import add_alert
from tests.factories import make_contract, make_elevator, make_org, make_site

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


def _scope(*sites: Site):  # type: ignore[no-untyped-def]
    return select(Elevator.id).where(Elevator.site_id.in_([s.id for s in sites]))


def test_percent_rounds_half_up_and_has_no_share_of_nothing():
    assert services.percent(1, 3) == 33
    assert services.percent(2, 3) == 67
    assert services.percent(1, 8) == 13  # 12.5 → 13
    assert services.percent(0, 4) == 0
    assert services.percent(4, 4) == 100
    assert services.percent(0, 0) is None


def test_site_rates_count_only_failing_open_alerts(app, world):
    own = world.own
    second = make_site(own.org, district_code="510104")
    third = make_elevator(second, own.officer)
    a, b = own.elevators
    add_alert(a, State.overdue)  # a fails
    add_alert(b, State.not_applicable, duty="D3")  # n/a does not fail
    add_alert(b, State.hard_stop, duty="D11", resolved_at=NOW - timedelta(days=1))  # resolved
    add_alert(third, State.due_soon, duty="D6")  # due soon fails
    add_alert(world.foreign.elevators[0], State.overdue)  # another company
    db.session.commit()

    rates = {r.key: r for r in services.site_rates(_scope(own.site, second))}
    assert (rates[own.site.id].elevators, rates[own.site.id].compliant) == (2, 1)
    assert rates[own.site.id].share == 50
    assert (rates[second.id].elevators, rates[second.id].compliant, rates[second.id].share) == (
        1,
        0,
        0,
    )
    total = services.total_rate(_scope(own.site, second))
    assert (total.elevators, total.compliant, total.share) == (3, 1, 33)


def test_company_and_contractor_rates(app, world):
    own, foreign = world.own, world.foreign
    other = make_org(OrgKind.contractor)
    extra = make_elevator(own.site, own.officer)
    make_contract(extra, other)
    expired = make_elevator(own.site, own.officer)
    today = date.today()
    make_contract(
        expired, other, start_date=today - timedelta(days=400), end_date=today - timedelta(days=1)
    )
    add_alert(own.elevators[0], State.open_finding, duty="D9")
    add_alert(extra, State.overdue, duty="D1")
    db.session.commit()
    scope = _scope(own.site, foreign.site)

    companies = {r.key: (r.elevators, r.compliant) for r in services.company_rates(scope)}
    assert companies == {own.org.id: (4, 2), foreign.org.id: (2, 2)}
    contractors = {
        r.key: (r.elevators, r.compliant) for r in services.contractor_rates(scope, today)
    }
    # the expired contract does not count for its contractor
    assert contractors == {
        own.contractor.id: (2, 1),
        other.id: (1, 0),
        foreign.contractor.id: (2, 2),
    }


def test_hard_stops_late_rescues_and_worst(app, world):
    own = world.own
    a, b = own.elevators
    c = make_elevator(own.site, own.officer)
    add_alert(a, State.hard_stop, duty="D11", rule="D11.inspection")
    add_alert(a, State.overdue, duty="D1")
    add_alert(b, State.hard_stop, duty="D11", rule="D11.inspection", resolved_at=NOW)
    add_alert(b, State.due_soon, duty="D3")
    add_alert(b, State.due_soon, duty="D6")
    add_alert(b, State.due_soon, duty="D7")
    add_alert(c, State.overdue, duty="D8", rule="D8.rescue_late", period="1", raised_at=NOW)
    add_alert(
        c,
        State.overdue,
        duty="D8",
        rule="D8.rescue_late",
        period="2",
        raised_at=NOW - timedelta(days=30),
        resolved_at=NOW - timedelta(days=29),
    )
    add_alert(
        c,
        State.overdue,
        duty="D8",
        rule="D8.rescue_late",
        period="3",
        raised_at=NOW - timedelta(days=400),
    )
    add_alert(world.foreign.elevators[0], State.hard_stop, duty="D11", rule="D11.inspection")
    db.session.commit()
    scope = _scope(own.site)

    assert services.hard_stop_count(scope) == 1
    rescues = services.late_rescues(scope, NOW)
    assert [r.period for r in rescues] == ["1", "2"]  # newest first, the old one left out
    worst = services.worst_elevators(scope)
    # a: hard stop 5 + overdue 4; c: two open late rescues 4 + 4; b: three due soon 2 each
    assert [(w.elevator.id, w.alerts, w.weight) for w in worst] == [
        (a.id, 2, 9),
        (c.id, 2, 8),
        (b.id, 3, 6),
    ]
    assert len(services.worst_elevators(scope, limit=1)) == 1


ZONE = "Asia/Shanghai"


def test_week_ends_are_local_midnights_seven_days_apart_then_now():
    ends = services.week_ends(NOW, ZONE)  # NOW is 12:00 on 2026-11-28 in Shanghai
    assert len(ends) == 12
    assert ends[-1] == NOW
    # the end of Saturday 2026-11-21 in Shanghai, then every 7 days back
    assert ends[-2] == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
    assert ends[0] == ends[-2] - timedelta(weeks=10)
    assert all(b - a == timedelta(weeks=1) for a, b in pairwise(ends[:-1]))


def test_week_ends_follow_the_local_day_not_the_utc_day():
    # 17:00 UTC on 11-28 is already 01:00 on 11-29 in Shanghai: the week ends move a day
    late = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
    assert services.week_ends(late, ZONE)[-2] == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    # all day long in Shanghai the week ends stay the same (so they can be kept)
    same_day = datetime(2026, 11, 28, 15, 59, tzinfo=UTC)
    assert services.week_ends(same_day, ZONE)[:-1] == services.week_ends(NOW, ZONE)[:-1]


def test_past_trend_points_are_computed_once_per_scope_and_moments(app, world):
    own = world.own
    for e in own.elevators:
        e.created_at = NOW - timedelta(weeks=30)
        add_alert(e, State.overdue, raised_at=NOW - timedelta(weeks=2))
    db.session.commit()
    ends = services.week_ends(NOW, ZONE)[:-1]
    site_key, company_key, scope = ("site", own.site.id), ("company", own.org.id), _scope(own.site)
    statements: list[str] = []

    def count(*args):  # type: ignore[no-untyped-def]
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        first = services.past_trend(site_key, scope, ends)
        assert len(statements) == 2
        again = services.past_trend(site_key, scope, ends)
        assert len(statements) == 2  # kept
        services.past_trend(company_key, scope, ends)
        assert len(statements) == 4  # another scope
        services.past_trend(site_key, scope, ends[1:])
        assert len(statements) == 6  # other moments (another day)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert first == again == services.compliant_trend(scope, ends)
    assert [share for _, share in first] == [100] * 9 + [0] * 2


def test_trend_replays_a_handmade_alert_history(app, world):
    own = world.own
    a, b = own.elevators
    long_ago = NOW - timedelta(weeks=20)
    for e in (a, b):
        e.created_at = long_ago
    late = make_elevator(own.site, own.officer)
    late.created_at = NOW - timedelta(weeks=1, hours=1)  # registered during the 11th week
    ends = services.week_ends(NOW, ZONE, weeks=4)  # t0 = NOW-3w, t1, t2, t3 = NOW
    # a fails from before t0 until exactly t1 (resolved at t1: no longer counts at t1)
    add_alert(a, State.overdue, raised_at=long_ago, resolved_at=ends[1])
    # b fails from exactly t2 (raised at t2 counts at t2) and is still open
    add_alert(b, State.due_soon, duty="D6", raised_at=ends[2])
    # an n/a alert never fails; an alert entirely before the window is left out
    add_alert(a, State.not_applicable, duty="D4", raised_at=long_ago)
    add_alert(b, State.overdue, duty="D1", raised_at=long_ago, resolved_at=long_ago + timedelta(1))
    db.session.commit()

    points = services.compliant_trend(_scope(own.site), ends)
    assert [share for _, share in points] == [50, 100, 67, 67]
    assert [t for t, _ in points] == ends


def test_trend_runs_a_fixed_number_of_queries(app, world):
    own = world.own
    for e in own.elevators:
        e.created_at = NOW - timedelta(weeks=30)
        add_alert(e, State.overdue, raised_at=NOW - timedelta(weeks=5))
    for _ in range(5):
        make_elevator(own.site, own.officer).created_at = NOW - timedelta(days=1)
    db.session.commit()
    scope = _scope(own.site)
    ends = services.week_ends(NOW, ZONE)
    statements: list[str] = []

    def count(*args):  # type: ignore[no-untyped-def]
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        points = services.compliant_trend(scope, ends)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 2
    # both old elevators fail from 5 weeks back; the five new ones count only in the last week
    assert [share for _, share in points] == [100] * 6 + [0] * 5 + [71]


def test_trend_chart_is_inline_svg_without_style_or_script(app):
    ends = services.week_ends(NOW, ZONE, weeks=3)
    with app.test_request_context():
        svg = str(trend.render([(ends[0], None), (ends[1], 40), (ends[2], 100)], "Asia/Shanghai"))
    assert svg.startswith("<svg")
    assert "style" not in svg
    assert "script" not in svg
    assert 'data-share="40"' in svg
    assert 'data-share="100"' in svg
    assert svg.count("<circle") == 2  # the week without elevators has no point
    assert "<polyline" in svg
    assert "11-28" in svg  # labels in local time
