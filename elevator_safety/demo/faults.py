"""The demo's faults, rectifications and duty registers, planned into the history's timeline.

:func:`plan` adds events to the history (demo/history.py) so that they run in
time order with the patrols and maintenance visits, through the same service
functions as the forms:

- **Lockouts (D8)**: a finished entrapment at 东湖花园 (a city site: 30-minute
  limit) whose rescue arrived after 36 minutes (late); a finished entrapment at
  玉垒山居 (a county-level city: 60-minute limit) reached in 45 minutes (on time,
  though it would be late in a city); an open lockout since yesterday evening at
  东湖花园 (notice posted, contractor notified and on site, waiting for a part).
- **Rectifications (D9)** in every state: patrol findings started, completed,
  verified, and one completed then reopened; the inspection report's items.
- **Keys (D4)** of 东湖花园: issued and returned on several days, and one triangle
  key issued yesterday and still out (it shows on the dashboard).
- **Duty roster (D6)** of 东湖花园 for the next week, three shifts a day, with one
  shift missing the day after tomorrow (a gap); alarm tests of its elevators.
- **Video retention (D7)**: a check at 东湖花园 that found 25 days of footage
  (under 30: a rectification), and a good check at 望江苑.
- **Inspections and legal duties (D11)**: a periodic inspection report of
  望江苑 4栋 2号梯 with two items to rectify; emergency plans and drills
  (each site's own and the contractors'); certificates of the officers and
  technicians, one expiring within the month.
- **Additions (D10)** and **misuse (D3)**: an advertising screen with its safety
  review; an e-bike brought into a car.
- **Public reports**: one pending ("not working"), one dismissed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from elevator_safety.auth.models import Role, User
from elevator_safety.extensions import db
from elevator_safety.legal import services as legal
from elevator_safety.lockouts import services as lockouts
from elevator_safety.lockouts.models import Lockout, LockoutCause, NotifyChannel
from elevator_safety.public import services as public
from elevator_safety.public.models import ReportCategory
from elevator_safety.records.models import Finding, FindingStatus
from elevator_safety.rectifications import services as rectifications
from elevator_safety.registers import services as registers
from elevator_safety.registers.models import CertificateKind, KeyKind, SiteKey
from elevator_safety.registry.models import Site

if TYPE_CHECKING:
    from elevator_safety.demo.history import Key, _History

#: Entrapments: (elevator, day, alarm hour, minute, minutes to rescue arrival, people trapped).
LATE_ENTRAPMENT = (("donghu", "2栋", "2单元", "1号梯"), -12, 19, 5, 36, 2)
COUNTY_ENTRAPMENT = (("yulei", "1栋", "1单元", "1号梯"), -6, 14, 20, 45, 1)
#: The lockout still open: since yesterday evening, waiting for a door motor.
OPEN_LOCKOUT: tuple[Key, int] = (("donghu", "5栋", "2单元", "1号梯"), -1)
#: The inspection report with items to rectify.
INSPECTED: Key = ("wangjiang", "4栋", "1单元", "2号梯")
INSPECTED_DAY = -15
#: The elevator that got an advertising screen, and the one where an e-bike came in.
ADDITION_AT: Key = ("chunxi", "商场", "中庭", "观光梯1")
MISUSE_AT: tuple[Key, int] = (("wangjiang", "1栋", "1单元", "1号梯"), -4)
#: The elevator whose alarm test was answered too late (a D6 rectification).
SLOW_ALARM: Key = ("donghu", "3栋", "2单元", "1号梯")
#: The duty roster's three shifts a day: (start hour, who is on duty).
SHIFTS = ((0, "夜班 王师傅"), (8, "白班 李阿姨"), (16, "中班 陈师傅"))
#: Public reports: (elevator, day, hour, category, note).
PENDING_REPORT = (
    ("wangjiang", "2栋", "1单元", "2号梯"),
    0,
    "not_working",
    "电梯门关不上，按钮没反应",
)
DISMISSED_REPORT = (("donghu", "1栋", "1单元", "1号梯"), -3, "other", "轿厢里有异味")


def _token() -> str:
    from elevator_safety.demo.history import _token as history_token

    return history_token()


class _Faults:
    """Plans this module's events on a history."""

    def __init__(self, history: _History) -> None:
        self.h = history
        self.password = history.password

    def officer_of(self, key: Key) -> User:
        return self.h.elevators[key].safety_officer

    def site(self, key: str) -> Site:
        elevator = next(e for k, e in self.h.elevators.items() if k[0] == key)
        return elevator.site

    def technician(self, key: Key, day: int, index: int = 0) -> User:
        return self.h.user(self.h.contractor_on(key, day), Role.technician, index)

    def add(self, moment: datetime, run: Callable[[], None]) -> None:
        self.h.add(moment, run)

    # --- lockouts ------------------------------------------------------------------------

    def plan_entrapment(
        self, spec: tuple[Key, int, int, int, int, int], channel: NotifyChannel
    ) -> None:
        key, day, hour, minute, rescue_minutes, trapped = spec
        alarm = self.h.at(day, hour, minute, 12)
        officer = self.officer_of(key)
        tech = self.technician(key, day)
        state: dict[str, Lockout] = {}

        def opened() -> None:
            state["l"] = lockouts.open_lockout(
                self.h.elevators[key],
                officer,
                self.password,
                cause=LockoutCause.alarm,
                description="轿厢停在两层之间，乘客按下紧急报警按钮",
                occurred_at=alarm + timedelta(minutes=2),
                entrapment=lockouts.EntrapmentInput(trapped_count=trapped, alarm_at=alarm),
                idempotency_key=_token(),
            )
            self.h.counts["lockouts"] += 1

        arrived = alarm + timedelta(minutes=rescue_minutes, seconds=20)
        steps: list[tuple[datetime, Callable[[], object]]] = [
            (alarm + timedelta(minutes=2), opened),
            (
                alarm + timedelta(minutes=3),
                lambda: lockouts.notify_contractor(
                    state["l"],
                    officer,
                    self.password,
                    channel=channel,
                    party=f"{tech.name} {tech.phone or ''}".strip(),
                    occurred_at=alarm + timedelta(minutes=3),
                    idempotency_key=_token(),
                ),
            ),
            (
                alarm + timedelta(minutes=6),
                lambda: lockouts.post_notice(
                    state["l"],
                    officer,
                    self.password,
                    occurred_at=alarm + timedelta(minutes=6),
                    note="一楼及各层厅门张贴“电梯停用 禁止乘坐”告示",
                    idempotency_key=_token(),
                ),
            ),
            (
                arrived,
                lambda: lockouts.record_rescue_arrival(
                    state["l"],
                    tech,
                    self.password,
                    occurred_at=arrived,
                    late_reason="晚高峰堵车" if rescue_minutes > 30 else None,
                    idempotency_key=_token(),
                ),
            ),
            (
                arrived + timedelta(seconds=30),
                lambda: lockouts.record_arrival(
                    state["l"], tech, self.password, occurred_at=arrived, idempotency_key=_token()
                ),
            ),
            (
                arrived + timedelta(minutes=7),
                lambda: lockouts.record_release(
                    state["l"],
                    tech,
                    self.password,
                    occurred_at=arrived + timedelta(minutes=7),
                    injured_count=0,
                    idempotency_key=_token(),
                ),
            ),
            (
                arrived + timedelta(minutes=80),
                lambda: lockouts.record_repair(
                    state["l"],
                    tech,
                    self.password,
                    found="层门门锁触点氧化接触不良，导致安全回路断开停梯",
                    parts_replaced=["层门门锁触点"],
                    occurred_at=arrived + timedelta(minutes=80),
                    idempotency_key=_token(),
                ),
            ),
            (
                arrived + timedelta(minutes=105),
                lambda: lockouts.return_to_service(
                    state["l"],
                    officer,
                    self.password,
                    occurred_at=arrived + timedelta(minutes=105),
                    note="试运行正常，撤除停用告示",
                    idempotency_key=_token(),
                ),
            ),
        ]
        for moment, run in steps:
            self.add(moment, _ignore_result(run))

    def plan_open_lockout(self) -> None:
        key, day = OPEN_LOCKOUT
        officer = self.officer_of(key)
        tech = self.technician(key, day, 1)
        opened_at = self.h.at(day, 17, 42, 5)
        state: dict[str, Lockout] = {}

        def opened() -> None:
            state["l"] = lockouts.open_lockout(
                self.h.elevators[key],
                officer,
                self.password,
                cause=LockoutCause.fault,
                description="轿门关闭时抖动并反复重开，电梯无法运行",
                occurred_at=opened_at,
                idempotency_key=_token(),
            )
            self.h.counts["lockouts"] += 1

        steps: list[tuple[datetime, Callable[[], object]]] = [
            (opened_at, opened),
            (
                opened_at + timedelta(minutes=4),
                lambda: lockouts.post_notice(
                    state["l"],
                    officer,
                    self.password,
                    occurred_at=opened_at + timedelta(minutes=4),
                    idempotency_key=_token(),
                ),
            ),
            (
                opened_at + timedelta(minutes=6),
                lambda: lockouts.notify_contractor(
                    state["l"],
                    officer,
                    self.password,
                    channel=NotifyChannel.phone,
                    party=f"{tech.name} {tech.phone or ''}".strip(),
                    occurred_at=opened_at + timedelta(minutes=6),
                    idempotency_key=_token(),
                ),
            ),
            (
                opened_at + timedelta(minutes=58),
                lambda: lockouts.record_arrival(
                    state["l"],
                    tech,
                    self.password,
                    occurred_at=opened_at + timedelta(minutes=58),
                    idempotency_key=_token(),
                ),
            ),
        ]
        for moment, run in steps:
            self.add(moment, _ignore_result(run))

    # --- rectifications ------------------------------------------------------------------

    def plan_rectifications(self) -> None:
        """Move the oldest patrol findings of 蓉城 through every state."""

        def run() -> None:
            company = self.h.orgs["rongcheng"]
            open_findings = list(
                db.session.scalars(
                    select(Finding)
                    .where(
                        Finding.owner_organisation_id == company.id,
                        Finding.status == FindingStatus.open,
                        Finding.elevator_id.is_not(None),
                        Finding.severity == "ordinary",
                    )
                    .order_by(Finding.id)
                )
            )
            plan = (
                ("start",),
                ("start", "complete"),
                ("complete", "verify"),
                ("complete", "reopen"),
            )
            for finding, actions in zip(open_findings, plan, strict=False):
                officer = finding.elevator.safety_officer if finding.elevator else None
                actor = officer or self.h.user("rongcheng", Role.safety_officer)
                for action in actions:
                    texts = {
                        "start": None,
                        "complete": "已处理：更换灯管并复查，照明正常",
                        "verify": "现场复查合格",
                        "reopen": "复查时仍有一处未整改到位",
                    }
                    rectifications.transition(
                        finding,
                        rectifications.Action(action),
                        actor,
                        password=self.password,
                        text=texts[action],
                        idempotency_key=_token(),
                    )
                    self.h.counts[f"rectification_{action}"] += 1

        self.add(self.h.at(-1, 16, 10, 0), run)

    # --- keys, roster, alarm tests, video -------------------------------------------------------

    def plan_registers(self) -> None:
        site = self.site("donghu")
        officer = self.h.users[next(s.officer for s in _sites() if s.key == "donghu")]
        keys: dict[str, SiteKey] = {}

        def add_keys() -> None:
            for code, kind, text in (
                ("SJ-01", KeyKind.triangle_key, "1-3栋层门三角钥匙"),
                ("SJ-02", KeyKind.triangle_key, "4-5栋层门三角钥匙"),
                ("JF-01", KeyKind.machine_room_key, "各栋机房门钥匙（一串）"),
                ("SZ-01", KeyKind.manual_release_tool, "手动松闸扳手及盘车轮"),
            ):
                keys[code] = registers.add_key(
                    site, officer, code=code, kind=kind, description=text
                )

        self.add(self.h.at(-20, 9, 0, 0), add_keys)
        tech = self.h.user("xinda", Role.technician, 0)
        loans = (
            ("JF-01", -19, (9, 5), (11, 40), tech),
            ("SJ-01", -12, (19, 44), (21, 50), tech),
            ("JF-01", -5, (9, 2), (12, 15), self.h.user("xinda", Role.technician, 1)),
            ("SJ-02", -1, (18, 35), None, self.h.user("xinda", Role.technician, 1)),
        )
        for code, day, out, back, holder in loans:
            self._loan(site, officer, keys, code, day, out, back, holder)

        def roster() -> None:
            for offset in range(0, 8):
                for start_hour, person in SHIFTS:
                    if offset == 2 and start_hour == 8:
                        continue  # the gap: nobody on the day shift the day after tomorrow
                    starts = self.h.at(offset, start_hour, 0, 0)
                    registers.add_shift(
                        site,
                        officer,
                        self.password,
                        starts_at=starts,
                        ends_at=starts + timedelta(hours=8),
                        person=person,
                        phone="028-86001199",
                        place="东湖花园物业中心值班室",
                        idempotency_key=_token(),
                    )

        self.add(self.h.at(-1, 17, 0, 0), roster)

        def video() -> None:
            checked = self.h.at(-2, 10, 30, 0)
            registers.record_video_check(
                site,
                officer,
                self.password,
                checked_at=checked,
                cameras_total=10,
                cameras_working=10,
                oldest_footage=(checked + timedelta(hours=8)).date() - timedelta(days=25),
                note="硬盘容量不足，最早录像仅保留25天",
                idempotency_key=_token(),
            )
            other = self.site("wangjiang")
            other_officer = self.h.users[next(s.officer for s in _sites() if s.key == "wangjiang")]
            checked = self.h.at(-9, 15, 0, 0)
            registers.record_video_check(
                other,
                other_officer,
                self.password,
                checked_at=checked,
                cameras_total=20,
                cameras_working=20,
                oldest_footage=(checked + timedelta(hours=8)).date() - timedelta(days=41),
                note=None,
                idempotency_key=_token(),
            )

        self.add(self.h.at(-2, 10, 30, 0), video)

        tested = [k for k in sorted(self.h.elevators) if k[0] == "donghu" and k != OPEN_LOCKOUT[0]]
        for index, key in enumerate(tested):
            moment = self.h.at(-7, 14, index * 3, 0)
            # Answered in 8 to 40 seconds, except one answered only after 75 (a failed test).
            seconds = 75 if key == SLOW_ALARM else 8 + index * 4
            self.add(moment, self._alarm_test(key, moment, officer, seconds))

    def _loan(
        self,
        site: Site,
        officer: User,
        keys: dict[str, SiteKey],
        code: str,
        day: int,
        out: tuple[int, int],
        back: tuple[int, int] | None,
        holder: User,
    ) -> None:
        issued = self.h.at(day, *out)

        def issue() -> None:
            registers.issue_key(
                site,
                keys[code],
                officer,
                self.password,
                holder=holder.name,
                certificate_no=holder.certificate_no,
                purpose="维保/应急救援使用",
                issued_at=issued,
                holder_user=holder,
                idempotency_key=_token(),
            )

        self.add(issued, issue)
        if back is not None:
            returned = self.h.at(day, *back)
            self.add(
                returned,
                lambda: _ignore(
                    registers.return_key(
                        site,
                        keys[code],
                        officer,
                        self.password,
                        returned_at=returned,
                        note=None,
                        idempotency_key=_token(),
                    )
                ),
            )

    def _alarm_test(
        self, key: Key, moment: datetime, officer: User, seconds: int
    ) -> Callable[[], None]:
        def run() -> None:
            registers.record_alarm_test(
                self.h.elevators[key],
                officer,
                self.password,
                tested_at=moment,
                answered=True,
                answered_in_seconds=seconds,
                answered_by="值班室 李阿姨",
                talk_clear=True,
                note=None,
                idempotency_key=_token(),
            )

        return run

    # --- legal duties, additions, misuse, public reports -----------------------------------------

    def plan_legal(self) -> None:
        key = INSPECTED
        officer = self.officer_of(key)
        inspected_on = self.h.today + timedelta(days=INSPECTED_DAY)

        def inspection() -> None:
            legal.record_inspection(
                self.h.elevators[key],
                officer,
                self.password,
                legal.InspectionInput(
                    type="inspection",
                    inspected_on=inspected_on,
                    inspection_body="四川省特种设备检验研究院",
                    report_no=f"DT-{inspected_on:%Y}-0{4471}",
                    result="passed_after_rectification",
                    items=[
                        ("底坑有积水及杂物，需清理并查明渗水原因", "ordinary"),
                        ("轿厢应急照明持续时间不足1小时，需更换蓄电池", "ordinary"),
                    ],
                    note="整改项复检合格前电梯可继续使用",
                ),
                now=self.h.at(INSPECTED_DAY + 1, 9, 30, 0),
                idempotency_key=_token(),
            )

        self.add(self.h.at(INSPECTED_DAY + 1, 9, 30, 0), inspection)

        def addition() -> None:
            legal.record_addition(
                self.h.elevators[ADDITION_AT],
                self.officer_of(ADDITION_AT),
                self.password,
                legal.AdditionInput(
                    what="advertising",
                    description="轿厢后壁加装21英寸广告屏（壁挂式）",
                    location="轿厢后壁",
                    installed_on=self.h.today - timedelta(days=16),
                    installer="成都新潮传媒",
                    weight_kg=None,
                    reviewed=True,
                    reviewer="周海（维保单位负责人）",
                    approved=True,
                    review_note="重量约4kg，未超出额定载重余量，不遮挡安全标志和报警按钮",
                ),
                now=self.h.at(-15, 11, 0, 0),
                idempotency_key=_token(),
            )

        self.add(self.h.at(-15, 11, 0, 0), addition)

        misuse_key, misuse_day = MISUSE_AT
        misuse_at = self.h.at(misuse_day, 20, 15, 0)

        def misuse() -> None:
            legal.record_misuse(
                self.h.elevators[misuse_key],
                self.officer_of(misuse_key),
                self.password,
                legal.MisuseInput(
                    occurred_at=misuse_at,
                    act="e_bike",
                    action="dissuaded",
                    note="住户推电动自行车进轿厢，经劝阻后退出",
                ),
                now=misuse_at + timedelta(minutes=10),
                idempotency_key=_token(),
            )

        self.add(misuse_at + timedelta(minutes=10), misuse)

        for site_spec in _sites():
            self._plan_site_documents(site_spec.key, site_spec.officer, site_spec.contractor)
        self.add(self.h.at(-20, 9, 30, 0), self._certificates)

    def _plan_site_documents(self, site_key: str, officer_email: str, contractor: str) -> None:
        officer = self.h.users[officer_email]
        site = self.site(site_key)

        def plan_and_drills() -> None:
            legal.record_plan(
                site,
                officer,
                self.password,
                title=f"{site.name}电梯困人应急救援预案",
                version="2026版",
                approved_on=self.h.today - timedelta(days=200),
                approved_by="安全总监",
                summary="困人报警接警、安抚、通知维保单位、救援、恢复运行各环节的职责与时限",
                now=self.h.at(-20, 10, 0, 0),
                idempotency_key=_token(),
            )
            site_elevators = [e for k, e in sorted(self.h.elevators.items()) if k[0] == site_key]
            # The county site's own drill is 13 months old: overdue.
            months = 13 if site_key == "yulei" else 4
            legal.record_drill(
                site,
                officer,
                self.password,
                drill_on=self.h.today - timedelta(days=months * 30),
                done_as_planned=True,
                scenario="电梯困人应急救援演练",
                participants="物业安全员、值班人员、维保人员共8人",
                elevators=site_elevators[:1],
                lessons="值班室接警后3分钟内通知维保单位",
                now=self.h.at(-20, 10, 5, 0),
                idempotency_key=_token(),
            )
            contractor_key = self.h.contractor_on(self._first_key(site_key), -20)
            manager = self.h.user(contractor_key, Role.contractor_manager)
            legal.record_drill(
                site,
                manager,
                self.password,
                drill_on=self.h.today - timedelta(days=70),
                done_as_planned=True,
                scenario="盘车放人及轿厢意外移动处置",
                participants="维保人员4人",
                elevators=site_elevators[:1],
                lessons=None,
                now=self.h.at(-20, 10, 10, 0),
                idempotency_key=_token(),
            )

        self.add(self.h.at(-20, 10, 0, 0), plan_and_drills)

    def _first_key(self, site_key: str) -> Key:
        return next(k for k in sorted(self.h.elevators) if k[0] == site_key)

    def _certificates(self) -> None:
        for spec in _users():
            if not spec.certificate_no:
                continue
            user = self.h.users[spec.email]
            kind = (
                CertificateKind.technician
                if spec.role == Role.technician
                else CertificateKind.safety_officer
            )
            # One certificate expires within the month: its renewal is due.
            expires = (
                self.h.today + timedelta(days=21)
                if spec.email == "tech2@anshun.demo"
                else date(self.h.today.year + 3, 6, 30)
            )
            actor = self.h.user(
                spec.org,
                Role.contractor_manager if spec.role == Role.technician else Role.admin,
            )
            legal.save_certificate(
                actor,
                legal.CertificateInput(
                    user_id=user.id,
                    kind=kind.value,
                    number=spec.certificate_no,
                    issuer="四川省市场监督管理局",
                    issued_on=expires - timedelta(days=4 * 365),
                    expires_on=expires,
                ),
            )

    def plan_public_reports(self) -> None:
        for spec, handled in ((PENDING_REPORT, False), (DISMISSED_REPORT, True)):
            key, day, category, note = spec
            # The pending one came in 25 minutes before the load.
            moment = self.h.at(day, 7, 48, 0) if day else self.h.now - timedelta(minutes=25)
            self.add(moment, self._report(key, category, note, handled))

    def _report(self, key: Key, category: str, note: str, handled: bool) -> Callable[[], None]:
        def run() -> None:
            report = public.submit_report(
                self.h.elevators[key],
                category=ReportCategory(category),
                phone=None,
                note=note,
                client_address=None,
            )
            if handled:
                public.dismiss(
                    report,
                    self.officer_of(key),
                    "现场查看为装修垃圾气味，已通知清运，非电梯故障",
                )

        return run


def _ignore(_value: object) -> None:
    return None


def _ignore_result(run: Callable[[], object]) -> Callable[[], None]:
    def wrapped() -> None:
        run()

    return wrapped


def _sites():  # type: ignore[no-untyped-def]
    from elevator_safety.demo import data

    return data.SITES


def _users():  # type: ignore[no-untyped-def]
    from elevator_safety.demo import data

    return data.USERS


def plan(history: _History) -> None:
    """Add the faults, rectifications and registers to the history's events."""
    faults = _Faults(history)
    faults.plan_entrapment(LATE_ENTRAPMENT, NotifyChannel.platform_96333)
    faults.plan_entrapment(COUNTY_ENTRAPMENT, NotifyChannel.phone)
    faults.plan_open_lockout()
    faults.plan_rectifications()
    faults.plan_registers()
    faults.plan_legal()
    faults.plan_public_reports()
