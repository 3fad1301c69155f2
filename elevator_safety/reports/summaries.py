"""Compliance summaries: a site's month, and a district's month for its regulator.

The site's monthly summary shows the duty matrix D1–D11 of its elevators as
the compliance engine sees them when the document is generated, every open
alert (what is overdue or due soon), the lockouts and entrapments of the month
with their rescue times, and the rectifications still open. The district
summary gives the regulator the compliance rate of each property company and
each contractor, the elevators whose periodic inspection is overdue or failed,
the month's late rescues and the worst elevators. Numbers come from the same
set-based queries as the dashboards (dashboards/services.py), so paper and
screen agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from reportlab.lib import colors
from reportlab.platypus import Flowable
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from elevator_safety.auth.models import User
from elevator_safety.compliance.engine import DUTIES, rule_by_code, status_matrix
from elevator_safety.compliance.models import STATE_LABELS, STATE_RANK, Alert, State
from elevator_safety.dashboards import services as dashboards
from elevator_safety.extensions import db
from elevator_safety.lockouts.models import CAUSE_LABELS, LOCKOUT_STATUS_LABELS, Lockout
from elevator_safety.lockouts.services import clock_text, rescue_elapsed, rescue_late
from elevator_safety.records.models import (
    FINDING_STATUS_LABELS,
    SEVERITY_LABELS,
    Finding,
    FindingStatus,
    Record,
    RecordKind,
)
from elevator_safety.rectifications.services import is_overdue
from elevator_safety.registry.models import RESULT_LABELS, Elevator, Site
from elevator_safety.reports.layout import (
    DASH,
    HEADER_GREY,
    LABEL_GREY,
    DocMeta,
    Field,
    bi,
    data_table,
    day,
    fields_table,
    gap,
    heading,
    para,
    styles,
    when,
    zone_of,
)
from elevator_safety.reports.sheets import label, local_bounds, site_fields, site_identity
from elevator_safety.scoping import local_today

SITE_TITLE = bi("月度合规汇总", "Monthly compliance summary")
DISTRICT_TITLE = bi("辖区月度汇总", "District monthly summary")
#: Shading of a duty's state in the matrix (black and white: darker is worse).
STATE_SHADES = {
    State.due_soon: LABEL_GREY,
    State.open_finding: HEADER_GREY,
    State.overdue: colors.Color(0.55, 0.55, 0.55),
    State.hard_stop: colors.Color(0.3, 0.3, 0.3),
}
#: States whose text prints white on the dark shade.
WHITE_TEXT = (State.hard_stop,)


def month_bounds(month: date) -> tuple[date, date]:
    """Return the first and last day of a month."""
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)


def month_text(month: date) -> str:
    """Return a month as YYYY-MM."""
    return month.strftime("%Y-%m")


# --- the duty matrix -------------------------------------------------------------------------


def _matrix_rows(elevators: Sequence[Elevator]) -> tuple[list[list[Any]], list[tuple[Any, ...]]]:
    states = status_matrix([e.id for e in elevators]) if elevators else {}
    rows: list[list[Any]] = []
    shades: list[tuple[Any, ...]] = []
    for r, elevator in enumerate(elevators, start=1):
        row: list[Any] = [elevator.equipment_code, elevator.location or DASH]
        for c, duty in enumerate(DUTIES, start=2):
            state = states.get(elevator.id, {}).get(duty, State.ok)
            row.append(label(STATE_LABELS, state))
            if state in STATE_SHADES:
                shades.append(("BACKGROUND", (c, r), (c, r), STATE_SHADES[State(state)]))
            if state in WHITE_TEXT:
                shades.append(("TEXTCOLOR", (c, r), (c, r), colors.white))
        rows.append(row)
    return rows, shades


def matrix_table(elevators: Sequence[Elevator]) -> list[Flowable]:
    """Return the D1–D11 matrix of some elevators, with a legend of the states."""
    rows, shades = _matrix_rows(elevators)
    header = [bi("设备代码", "Equipment code"), bi("位置", "Location"), *DUTIES]
    fractions = (0.19, 0.1, *([0.71 / len(DUTIES)] * len(DUTIES)))
    legend = " · ".join(
        str(STATE_LABELS[s]) for s in sorted(STATE_LABELS, key=lambda s: STATE_RANK[s])
    )
    return [
        heading(bi("职责矩阵 D1–D11（生成时状态）", "Duty matrix D1–D11 (as generated)"), 1),
        data_table(header, rows, fractions, extra=[("FONTSIZE", (2, 1), (-1, -1), 6.5), *shades]),
        para(f"{bi('状态由轻到重', 'States, least to most serious')}: {legend}", styles().note),
    ]


# --- open alerts, lockouts, rectifications ----------------------------------------------------


def _alert_text(alert: Alert) -> str:
    rule = rule_by_code(alert.rule)
    detail = (alert.detail or {}).get("detail")
    return rule.message(detail) if rule else alert.rule


def alerts_table(elevator_ids: Sequence[int], zone: str) -> list[Flowable]:
    """Return the open alerts of the elevators, worst first: what is overdue or due."""
    alerts = list(
        db.session.scalars(
            select(Alert)
            .options(selectinload(Alert.elevator))
            .where(Alert.elevator_id.in_(list(elevator_ids) or [0]), Alert.resolved_at.is_(None))
        )
    )
    alerts.sort(key=lambda a: (-STATE_RANK[a.state], int(a.duty[1:]), a.elevator.equipment_code))
    rows = [
        [
            a.elevator.equipment_code,
            a.duty,
            label(STATE_LABELS, a.state),
            _alert_text(a),
            when(a.raised_at, zone),
        ]
        for a in alerts
    ]
    header = [
        bi("设备代码", "Equipment code"),
        bi("职责", "Duty"),
        bi("状态", "State"),
        bi("事项", "Item"),
        bi("发现时间", "Raised at"),
    ]
    return _titled(
        bi("逾期及待办事项", "Overdue and due items"), header, rows, (0.2, 0.07, 0.13, 0.4, 0.2)
    )


def _titled(
    title: str, header: list[str], rows: list[list[Any]], fractions: Sequence[float]
) -> list[Flowable]:
    """Return a section: its heading and its table, or a line saying there is nothing."""
    if not rows:
        return [heading(title, 1), para(bi("无", "None"), styles().body)]
    return [heading(title, 1), data_table(header, rows, fractions)]


def lockouts_in(elevator_ids: Select[Any], first: datetime, last: datetime) -> list[Lockout]:
    """Return the lockouts opened in a period on the elevators, oldest first."""
    return list(
        db.session.scalars(
            select(Lockout)
            .options(selectinload(Lockout.elevator))
            .where(
                Lockout.elevator_id.in_(elevator_ids),
                Lockout.opened_at >= first,
                Lockout.opened_at < last,
            )
            .order_by(Lockout.opened_at, Lockout.id)
        )
    )


def _rescue_text(lockout: Lockout) -> str:
    if not lockout.entrapment:
        return DASH
    late = rescue_late(lockout)
    verdict = bi("超时", "Late") if late else bi("未超时", "In time")
    limit = f"{lockout.rescue_limit_minutes} {bi('分钟', 'min')}"
    return f"{clock_text(rescue_elapsed(lockout))} / {limit} · {verdict}"


def lockouts_table(lockouts: Sequence[Lockout], zone: str) -> list[Flowable]:
    """Return the lockouts and entrapments: times, cause, state, rescue time against its limit."""
    rows = [
        [
            lo.elevator.equipment_code,
            when(lo.opened_at, zone),
            label(CAUSE_LABELS, lo.cause),
            label(LOCKOUT_STATUS_LABELS, lo.status),
            when(lo.returned_at or lo.cancelled_at, zone),
            lo.trapped_count if lo.entrapment else DASH,
            _rescue_text(lo),
        ]
        for lo in lockouts
    ]
    header = [
        bi("设备代码", "Equipment code"),
        bi("停用时间", "Locked out"),
        bi("原因", "Cause"),
        bi("状态", "Status"),
        bi("恢复/撤销", "Ended"),
        bi("被困人数", "Trapped"),
        bi("救援用时/时限", "Rescue time / limit"),
    ]
    return _titled(
        bi("本月停用及困人", "Lockouts and entrapments of the month"),
        header,
        rows,
        (0.18, 0.15, 0.12, 0.11, 0.15, 0.08, 0.21),
    )


def open_findings_table(findings: Sequence[Finding], zone: str) -> list[Flowable]:
    """Return the rectifications not yet verified, with their deadline and whether it passed."""
    rows = [
        [
            f"#{f.id}",
            f.elevator.equipment_code if f.elevator else bi("全小区", "Whole site"),
            f.item_label,
            f.duty,
            label(SEVERITY_LABELS, f.severity),
            f.owner_organisation.name,
            when(f.deadline, zone) + (f"\n{bi('已逾期', 'Overdue')}" if is_overdue(f) else ""),
            label(FINDING_STATUS_LABELS, f.status),
        ]
        for f in findings
    ]
    header = [
        "#",
        bi("设备", "Elevator"),
        bi("问题", "Problem"),
        bi("职责", "Duty"),
        bi("严重程度", "Severity"),
        bi("责任单位", "Owner"),
        bi("整改期限", "Deadline"),
        bi("状态", "Status"),
    ]
    return _titled(
        bi("未关闭的整改", "Open rectifications"),
        header,
        rows,
        (0.06, 0.16, 0.22, 0.06, 0.1, 0.15, 0.15, 0.1),
    )


# --- the site's month --------------------------------------------------------------------------


def _count(query: Select[Any]) -> int:
    return int(db.session.scalar(query) or 0)


def _site_glance(
    scope: Select[Any], first: date, last: date, lockouts: Sequence[Lockout]
) -> list[Field]:
    rate = dashboards.total_rate(scope)

    def records(kind: RecordKind) -> int:
        return _count(
            select(func.count(Record.id)).where(
                Record.elevator_id.in_(scope),
                Record.kind == kind,
                Record.occurred_on >= first,
                Record.occurred_on <= last,
            )
        )

    entrapments = [lo for lo in lockouts if lo.entrapment]
    return [
        (bi("电梯数", "Elevators"), rate.elevators),
        (bi("全部合规", "Fully compliant"), f"{rate.compliant} ({_share(rate.share)})"),
        (bi("本月巡查记录", "Patrols this month"), records(RecordKind.patrol)),
        (bi("本月维保记录", "Maintenance records this month"), records(RecordKind.maintenance)),
        (bi("本月停用", "Lockouts this month"), len(lockouts)),
        (bi("本月困人", "Entrapments this month"), len(entrapments)),
        (bi("救援超时", "Late rescues"), sum(1 for lo in entrapments if rescue_late(lo))),
    ]


def _share(share: int | None) -> str:
    return DASH if share is None else f"{share} %"


def site_meta(site: Site, user: User | None) -> DocMeta:
    """Return the header and footer of a site's summary."""
    return DocMeta(title=SITE_TITLE, identity=site_identity(site), user=user)


def site_summary_flowables(site: Site, month: date) -> Iterator[Flowable]:
    """Yield the site's monthly summary: glance, matrix, due items, lockouts, rectifications."""
    first, last = month_bounds(month)
    zone = site.timezone
    elevators = list(
        db.session.scalars(
            select(Elevator).where(Elevator.site_id == site.id).order_by(Elevator.equipment_code)
        )
    )
    scope = select(Elevator.id).where(Elevator.site_id == site.id)
    start, end = local_bounds(first, last, zone)
    lockouts = lockouts_in(scope, start, end)
    findings = list(
        db.session.scalars(
            select(Finding)
            .where(Finding.site_id == site.id, Finding.status != FindingStatus.verified)
            .order_by(Finding.deadline, Finding.id)
        )
    )
    yield para(SITE_TITLE, styles().title)
    yield fields_table([*site_fields(site), (bi("月份", "Month"), month_text(month))])
    yield gap(6)
    yield fields_table(_site_glance(scope, first, last, lockouts))
    yield from matrix_table(elevators)
    yield from alerts_table([e.id for e in elevators], zone)
    yield from lockouts_table(lockouts, zone)
    yield from open_findings_table(findings, zone)


# --- the district's month ----------------------------------------------------------------------


def district_scope(district_code: str) -> Select[Any]:
    """Return a select of the ids of the district's elevators."""
    return (
        select(Elevator.id)
        .join(Site, Elevator.site_id == Site.id)
        .where(Site.district_code == district_code)
    )


def district_name(district_code: str) -> str:
    """Return the district's name as its sites record it (the code when it has none)."""
    name = db.session.scalar(
        select(Site.district_name).where(Site.district_code == district_code).limit(1)
    )
    return f"{name} ({district_code})" if name else district_code


def district_meta(district_code: str, user: User | None) -> DocMeta:
    """Return the header and footer of a district's summary."""
    return DocMeta(
        title=DISTRICT_TITLE,
        identity=f"{bi('辖区', 'District')} {district_name(district_code)}",
        user=user,
    )


def _rates_table(title: str, who: str, rates: Sequence[dashboards.Rate]) -> list[Flowable]:
    rows = [[r.name, r.elevators, r.compliant, _share(r.share)] for r in rates]
    header = [
        who,
        bi("电梯数", "Elevators"),
        bi("全部合规", "Fully compliant"),
        bi("合规率", "Compliance rate"),
    ]
    return _titled(title, header, rows, (0.52, 0.14, 0.17, 0.17))


def overdue_inspections(scope: Select[Any]) -> list[Elevator]:
    """Return the elevators whose periodic inspection is overdue or failed (D11 hard stop)."""
    stopped = select(Alert.elevator_id).where(
        Alert.elevator_id.in_(scope),
        Alert.resolved_at.is_(None),
        Alert.duty == "D11",
        Alert.state == State.hard_stop,
    )
    return list(
        db.session.scalars(
            select(Elevator)
            .options(selectinload(Elevator.site).selectinload(Site.organisation))
            .where(Elevator.id.in_(stopped))
            .order_by(Elevator.next_inspection_due, Elevator.equipment_code)
        )
    )


def _inspections_table(elevators: Sequence[Elevator]) -> list[Flowable]:
    rows = [
        [
            e.equipment_code,
            e.site.name,
            e.site.organisation.name,
            day(e.next_inspection_due),
            label(RESULT_LABELS, e.last_inspection_result),
        ]
        for e in elevators
    ]
    header = [
        bi("设备代码", "Equipment code"),
        bi("小区", "Site"),
        bi("使用单位", "Property company"),
        bi("应检日期", "Due"),
        bi("上次结论", "Last result"),
    ]
    return _titled(
        bi("检验逾期或不合格", "Inspections overdue or failed"),
        header,
        rows,
        (0.2, 0.22, 0.26, 0.14, 0.18),
    )


def _late_rescues_table(lockouts: Sequence[Lockout], zone: str) -> list[Flowable]:
    late = [lo for lo in lockouts if lo.entrapment and rescue_late(lo)]
    rows = [
        [
            lo.elevator.equipment_code,
            lo.elevator.site.name,
            when(lo.alarm_at, zone),
            when(lo.rescue_arrived_at, zone),
            _rescue_text(lo),
        ]
        for lo in late
    ]
    header = [
        bi("设备代码", "Equipment code"),
        bi("小区", "Site"),
        bi("报警", "Alarm"),
        bi("救援到场", "Rescue arrived"),
        bi("用时/时限", "Time / limit"),
    ]
    return _titled(
        bi("本月救援超时", "Late rescues of the month"), header, rows, (0.2, 0.2, 0.18, 0.18, 0.24)
    )


def _worst_table(scope: Select[Any]) -> list[Flowable]:
    rows = [
        [
            w.elevator.equipment_code,
            w.elevator.site.name,
            w.elevator.site.organisation.name,
            w.alerts,
            w.weight,
        ]
        for w in dashboards.worst_elevators(scope)
    ]
    header = [
        bi("设备代码", "Equipment code"),
        bi("小区", "Site"),
        bi("使用单位", "Property company"),
        bi("未关闭告警", "Open alerts"),
        bi("严重度", "Weight"),
    ]
    return _titled(
        bi("问题最多的电梯", "Worst elevators"), header, rows, (0.22, 0.24, 0.28, 0.13, 0.13)
    )


def _district_glance(
    district_code: str, scope: Select[Any], lockouts: Sequence[Lockout], month: date
) -> list[Field]:
    rate = dashboards.total_rate(scope)
    sites = _count(select(func.count(Site.id)).where(Site.district_code == district_code))
    companies = _count(
        select(func.count(func.distinct(Site.organisation_id))).where(
            Site.district_code == district_code
        )
    )
    entrapments = [lo for lo in lockouts if lo.entrapment]
    return [
        (bi("辖区", "District"), district_name(district_code)),
        (bi("月份", "Month"), month_text(month)),
        (bi("小区数", "Sites"), sites),
        (bi("使用单位数", "Property companies"), companies),
        (bi("电梯数", "Elevators"), rate.elevators),
        (bi("全部合规", "Fully compliant"), f"{rate.compliant} ({_share(rate.share)})"),
        (bi("检验逾期或不合格", "Inspection hard stops"), dashboards.hard_stop_count(scope)),
        (bi("本月停用", "Lockouts this month"), len(lockouts)),
        (bi("本月困人", "Entrapments this month"), len(entrapments)),
        (
            bi("本月救援超时", "Late rescues this month"),
            sum(1 for lo in entrapments if rescue_late(lo)),
        ),
    ]


def district_summary_flowables(district_code: str, month: date) -> Iterator[Flowable]:
    """Yield the district's summary: glance, rates by company and contractor, problems."""
    first, last = month_bounds(month)
    zone = zone_of().key
    scope = district_scope(district_code)
    start, end = local_bounds(first, last, zone)
    lockouts = lockouts_in(scope, start, end)
    on = min(last, local_today())
    yield para(DISTRICT_TITLE, styles().title)
    yield fields_table(_district_glance(district_code, scope, lockouts, month))
    yield from _rates_table(
        bi("各使用单位合规率", "Compliance by property company"),
        bi("使用单位", "Property company"),
        dashboards.company_rates(scope),
    )
    yield from _rates_table(
        bi("各维保单位合规率", "Compliance by contractor"),
        bi("维保单位", "Contractor"),
        dashboards.contractor_rates(scope, on),
    )
    yield from _inspections_table(overdue_inspections(scope))
    yield from _late_rescues_table(lockouts, zone)
    yield from _worst_table(scope)
