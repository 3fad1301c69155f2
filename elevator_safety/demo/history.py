"""Three weeks of history for the demo city, written through the services as its users would.

``flask demo load`` calls :func:`load` right after the city (data.py), in the same
transaction, so the city and its history are created once (loading twice changes
nothing). Dates count back from the load, in the sites' zone (Asia/Shanghai):

- **Daily patrols** (日常巡查) from 21 days ago to today by each site's safety
  officer, one round a morning from about 08:00: mostly all pass, a handful of failed
  items (each opens a finding), two machine-room temperature readings outside the
  limits, one misuse entry (an e-bike brought into a car, 携带电动自行车). The two
  out-of-service elevators get the out-of-service form every day (one day without the
  notice posted). Today's round holds only the patrols whose time has passed; two
  elevators have none today, and one has not been patrolled for the last three days
  either (:data:`MISSED_TODAY`, :data:`GAP`).
- **Maintenance visits** (维护保养) about every 14 days per elevator by two technicians
  of the contractor with the contract on that day: half-monthly visits, one quarterly;
  each confirmed on site (现场监督确认) by the responsible officer the next day (the
  same evening when the next day has not come yet), except the last two, which await
  confirmation, and one visit that was rejected (退回, with the reason) and done again
  the same afternoon, then confirmed.
- **One correction** (更正) of a patrol's humidity reading, with its reason.
- **One finished handover** (移交检查) of two elevators of 玉垒山居 from 安顺 to 信达:
  started a week before its date, checklist filled, signed 移交, 接收 and confirmed the
  day before its date, which lies 9 days back; the contracts switched on
  confirmation (安顺's ended the day before, 信达's started on the date) and 信达 made
  the first visit after taking over.

How it is written. Every record goes through the functions the forms call
(patrols.services.submit_patrol / submit_out_of_service, maintenance.services.
record_visit / confirm / reject, records.services.correct, handovers.services.
start_handover / save_checklist / sign_step), in time order so that every chain runs
forward in time, with explicit past times where the functions take them. Two helpers
keep this faithful and fast:

- :func:`elevator_safety.db.simulated_clock`: some times are stamped by the services themselves
  (signature times and ``recorded_at`` in records.services.append, the time of a
  correction, audit entries, handover updates, ``created_at`` columns). While the
  history is written, those read the simulated moment, so a patrol 20 days ago is
  signed 20 days ago, as its form would have been.
- :func:`_quick_signing`: signing checks the password against the scrypt hash (50-100
  ms each; the history signs over 900 times). The demo password is checked once
  against the real hash; while the history is written the demo users carry a cheap
  hash of the same password, and get the scrypt hash back before anything is committed.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from elevator_safety.auth.models import Organisation, Role, User
from elevator_safety.db import simulated_clock
from elevator_safety.demo import data, faults
from elevator_safety.extensions import db
from elevator_safety.handovers import services as handovers
from elevator_safety.maintenance import services as maintenance
from elevator_safety.maintenance.items import list_for
from elevator_safety.patrols import checklists
from elevator_safety.patrols.services import (
    ItemAnswer,
    MisuseAnswer,
    submit_out_of_service,
    submit_patrol,
)
from elevator_safety.records.models import Finding, Handover, Record
from elevator_safety.records.services import check_signing_password, correct
from elevator_safety.registry.models import (
    FULL_LEVEL_PLAN,
    Elevator,
    ElevatorKind,
    ElevatorStatus,
    MaintenanceLevel,
)

ZONE = ZoneInfo("Asia/Shanghai")
#: Days of history before today.
DAYS = 21

#: An elevator of data.ELEVATOR_TABLE: site key, building, unit, car.
Key = tuple[str, str, str | None, str]

# --- the plan: patrols ----------------------------------------------------------------------

#: Models without a machine room (无机房): their machine-room items are not applicable.
MACHINE_ROOM_LESS = frozenset({"GeN2-MRL", "MonoSpace500", "NEXIEZ-MRL", "3300"})
MACHINE_ROOM_ITEMS = frozenset(
    {
        "machine_room_locked",
        "machine_room_clean",
        "machine_room_temperature",
        "machine_room_humidity",
        "machine_room_lighting",
    }
)
#: A typical machine-room temperature (°C) in Chengdu, month by month.
MONTH_TEMPERATURE = (11, 13, 17, 21, 25, 28, 31, 31, 26, 21, 17, 12)

#: In service, but not patrolled yet today.
MISSED_TODAY: tuple[Key, ...] = (
    ("donghu", "5栋", "1单元", "1号梯"),
    ("chunxi", "后勤区", None, "货梯1"),
)
#: Not patrolled on these days (the last patrol is four days old).
GAP: Key = ("yulei", "3栋", "1单元", "1号梯")
GAP_DAYS = frozenset({-3, -2, -1, 0})


def _fail(note: str, serious: bool = False) -> ItemAnswer:
    return ItemAnswer(result="fail", note=note, serious=serious)


#: Failed items: (elevator, day) -> {item code: answer}; each opens a finding.
FAILED_ITEMS: dict[tuple[Key, int], dict[str, ItemAnswer]] = {
    (("donghu", "3栋", "1单元", "1号梯"), -17): {
        "safety_notices": _fail("轿厢内《乘梯须知》被撕毁，已通知物业服务中心补贴"),
    },
    (("yulei", "4栋", "1单元", "1号梯"), -11): {
        "pit_shaft": _fail("底坑有积水约2厘米，疑为雨水从层门地坎渗入"),
    },
    (("chunxi", "商场", "中庭", "观光梯2"), -9): {
        "video_camera": _fail("轿厢摄像头画面黑屏，已报商场监控中心维修"),
    },
    (("wangjiang", "2栋", "1单元", "2号梯"), -7): {
        "alarm_button": _fail("按下紧急报警按钮后值班室30秒内无应答，已通知值班室排查", True),
    },
    (("chunxi", "商场", "2F-3F", "E3"), -5): {
        "comb_plates": _fail("上部梳齿板断齿2颗，已通知维保单位尽快更换"),
    },
    (("donghu", "5栋", "2单元", "1号梯"), -3): {
        "machine_room_clean": _fail("机房内堆放装修废料，已通知装修户清理"),
    },
    (("yulei", "1栋", "1单元", "1号梯"), -2): {
        "doors": _fail("3楼层门关闭时有明显异响"),
    },
}
#: The elevator whose machine room left its temperature limits on two days.
HOT_ROOM: Key = ("wangjiang", "3栋", "1单元", "1号梯")
HOT_DAYS = (-13, -12)
#: The e-bike brought into a car (duty D3).
MISUSE_AT: tuple[Key, int] = (("wangjiang", "5栋", "1单元", "1号梯"), -6)
MISUSE = MisuseAnswer(
    act="e_bike",
    action="dissuaded",
    note="住户推电动自行车进入轿厢，已劝阻并带离，已在单元门厅张贴禁止提示",
)
#: The out-of-service elevator found once without its notice (duty D8).
NO_NOTICE_AT: tuple[Key, int] = (("chunxi", "后勤区", None, "货梯2"), -10)
#: The patrol whose humidity was typed with its digits swapped, and its correction.
CORRECTED_AT: tuple[Key, int] = (("donghu", "2栋", "2单元", "1号梯"), -10)
CORRECTED_FROM, CORRECTED_TO = "75", "57"
CORRECTION_REASON = "录入时数字颠倒：湿度计读数为57%，不是75%"

# --- the plan: maintenance ------------------------------------------------------------------

#: Visit days of each site's groups of (up to) five elevators, in table order.
VISIT_DAYS: dict[str, tuple[tuple[int, ...], ...]] = {
    "donghu": ((-20, -6), (-19, -5)),
    "chunxi": ((-18, -4), (-17, -3)),
    "wangjiang": ((-16, -2), (-15, -1)),
    "yulei": ((-13,),),
}
#: The visit that was rejected, the officer's reason, and when it was done again.
REJECTED_AT: tuple[Key, int] = (("donghu", "2栋", "1单元", "1号梯"), -6)
REJECTION_REASON = "未按规定检查制动器间隙，请重新维保"
#: The quarterly visit (a quarterly visit includes the half-monthly items).
QUARTERLY_AT: tuple[Key, int] = (("chunxi", "商场", "中庭", "观光梯1"), -3)
QUARTERLY_PROBLEM = "曳引钢丝绳局部有断丝，建议一个月内更换"
#: Parts replaced during visits: (elevator, day) -> (item code or extra item, note, part).
REPLACED: dict[tuple[Key, int], tuple[str, str, str]] = {
    (("donghu", "3栋", "2单元", "1号梯"), -5): (
        "A-1.22",
        "门机皮带老化开裂，已更换",
        "轿门门机皮带",
    ),
    (("chunxi", "商场", "2F-3F", "E3"), -4): (
        "梳齿板梳齿与踏板面齿槽、导向胶带",
        "上部梳齿板断齿，已更换",
        "上部梳齿板2块",
    ),
}
#: Small adjustments technicians note now and then (half-monthly items of appendix A).
ADJUSTMENTS = (
    ("A-1.5", "adjusted", "制动器间隙偏大，已调整至0.5mm"),
    ("A-1.13", "adjusted", "导靴油杯油量不足，已加油"),
    ("A-1.23", "adjusted", "3楼平层偏差约6mm，已调整"),
    ("A-1.26", "adjusted", "层门自动关门力偏小，已调整"),
    ("A-1.16", "done", "轿厢风扇积尘，已清洁"),
)
#: Items typed in where the shipped list is incomplete (appendices B and D).
EXTRA_ITEMS: dict[ElevatorKind, tuple[str, ...]] = {
    ElevatorKind.escalator: (
        "电动机与减速机工作情况",
        "主驱动链运转情况",
        "制动器机械装置",
        "制动器状态监测开关",
        "梳齿板开关",
        "梳齿板梳齿与踏板面齿槽、导向胶带",
        "扶手带入口保护装置开关",
        "扶手带运行速度",
        "梯级或者踏板下陷开关",
        "梯级或者踏板缺失监测装置",
        "超速或者非操纵逆转监测装置",
        "检修控制装置",
        "自动润滑油罐油位",
        "围裙板安全开关",
        "出入口安全警示标志",
    ),
    ElevatorKind.hydraulic: (
        "机房环境",
        "应急照明",
        "液压油油位及渗漏",
        "油管及接头",
        "手动下降阀",
        "手动泵",
        "压力表",
        "轿顶清洁及防护栏",
        "轿门门锁电气触点",
        "层门门锁电气触点",
        "平层准确度",
        "底坑环境",
    ),
}
EXTRA_ITEMS[ElevatorKind.moving_walk] = EXTRA_ITEMS[ElevatorKind.escalator]
#: What technicians note on a visit to an out-of-service elevator.
OUT_OF_SERVICE_REMARKS = {
    ("donghu", "4栋", "1单元", "1号梯"): "电梯停用中：制动衬磨损，配件已订购，更换后申请复检",
    ("chunxi", "后勤区", None, "货梯2"): "门机故障，配件未到，电梯保持停用",
}

# --- the plan: the handover -------------------------------------------------------------------

HANDOVER_ELEVATORS: tuple[Key, ...] = (
    ("yulei", "4栋", "1单元", "1号梯"),
    ("yulei", "4栋", "2单元", "1号梯"),
)
HANDOVER_SITE, HANDOVER_FROM, HANDOVER_TO = "yulei", "anshun", "xinda"
#: The handover date (the incoming contractor's first day), and the day it was started.
HANDOVER_DAY = -9
HANDOVER_STARTED = -16
#: The incoming contractor's first visit after taking over.
FIRST_VISIT_DAY = -8
HANDOVER_CHECKLIST: dict[str, tuple[bool | None, str | None]] = {
    "archive": (True, "维保记录、故障记录、图纸及说明书共4册已移交"),
    "keys_tools": (True, "机房钥匙2把、层门三角钥匙2把已移交"),
    "open_findings": (True, "4栋1单元底坑积水隐患已列明，由物业负责整改"),
    "equipment_checked": (True, "信达会同安顺检查两台电梯，运行正常"),
    "car_signs": (True, "轿厢内维保单位标牌已更换为信达及其电话028-86003300"),
}


# --- the simulated clock ----------------------------------------------------------------------


@contextmanager
def _quick_signing(users: list[User], password: str) -> Iterator[None]:
    """Check the password once against the real hash, then sign with a cheap one."""
    check_signing_password(users[0], password)
    saved = {user.id: user.password_hash for user in users}
    quick = generate_password_hash(password, method="pbkdf2:sha256:1")
    for user in users:
        user.password_hash = quick
    try:
        yield
    finally:
        for user in users:
            user.password_hash = saved[user.id]  # flushed with the rest when the caller commits


# --- writing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistorySummary:
    """What the history created."""

    patrols: int
    out_of_service_patrols: int
    findings: int
    visits: int
    confirmed: int
    awaiting: int
    rejected: int
    corrections: int
    handovers: int


@dataclass
class _Event:
    at: datetime
    order: int
    run: Callable[[], None]


def _token() -> str:
    """Return a form token, as every record form carries one."""
    return uuid.uuid4().hex


def key_of(spec: data.ElevatorSpec) -> Key:
    return (spec.site, spec.building, spec.unit, spec.car_no)


class _History:
    """Plans the events of the history, then runs them in time order."""

    def __init__(self, today: date, now: datetime, password: str) -> None:
        self.today = today
        self.now = now
        self.password = password
        self.events: list[_Event] = []
        self.counts: Counter[str] = Counter()
        codes = {code: key_of(spec) for spec, code in data.elevator_codes()}
        self.elevators: dict[Key, Elevator] = {
            codes[e.equipment_code]: e
            for e in db.session.scalars(select(Elevator).where(Elevator.equipment_code.in_(codes)))
        }
        emails = data.demo_emails()
        self.users = {
            u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))
        }
        names = {org.key: org.name for org in data.ORGS}
        by_name = {
            o.name: o
            for o in db.session.scalars(
                select(Organisation).where(Organisation.name.in_(names.values()))
            )
        }
        self.orgs = {key: by_name[name] for key, name in names.items()}
        self.patrols: dict[tuple[Key, int], Record] = {}
        self.visits: dict[tuple[Key, int], Record] = {}
        self.handover: Handover | None = None

    # --- helpers -----------------------------------------------------------------

    def at(self, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
        """Return a moment of a day of the history (0 is today), in UTC."""
        local = datetime.combine(self.today + timedelta(days=day), time(hour, minute, second), ZONE)
        return local.astimezone(UTC)

    def add(self, moment: datetime, run: Callable[[], None]) -> None:
        self.events.append(_Event(moment, len(self.events), run))

    def user(self, org: str, role: Role, index: int = 0) -> User:
        specs = [u for u in data.USERS if u.org == org and u.role == role]
        return self.users[specs[index].email]

    def site_keys(self, site: str) -> list[Key]:
        return [key_of(spec) for spec in data.ELEVATORS if spec.site == site]

    def contractor_on(self, key: Key, day: int) -> str:
        """Return the contractor looking after an elevator on a day of the history."""
        if key in HANDOVER_ELEVATORS and day >= HANDOVER_DAY:
            return HANDOVER_TO
        return next(site.contractor for site in data.SITES if site.key == key[0])

    # --- patrols -----------------------------------------------------------------

    def plan_patrols(self) -> None:
        for site in data.SITES:
            officer = self.users[site.officer]
            keys = self.site_keys(site.key)
            for day in range(-DAYS, 1):
                rng = random.Random(f"patrol:{site.key}:{day}")  # noqa: S311 - demo data
                moment = self.at(day, 8, rng.randint(0, 35), rng.randint(0, 59))
                for index, key in enumerate(keys):
                    if index:
                        moment += timedelta(minutes=rng.randint(4, 8), seconds=rng.randint(0, 59))
                    if (day == 0 and key in MISSED_TODAY) or (key == GAP and day in GAP_DAYS):
                        continue
                    if moment > self.now:
                        continue  # today's round has not reached this elevator yet
                    self.add(moment, self._patrol(key, day, officer, moment, rng.random()))

    def _patrol(
        self, key: Key, day: int, officer: User, moment: datetime, draw: float
    ) -> Callable[[], None]:
        def run() -> None:
            elevator = self.elevators[key]
            if elevator.status != ElevatorStatus.in_service:
                submit_out_of_service(
                    elevator,
                    officer,
                    self.password,
                    now=moment,
                    status_seen="stopped",
                    notice_posted=(key, day) != NO_NOTICE_AT,
                    note="停用告示被撕掉，已重新张贴" if (key, day) == NO_NOTICE_AT else None,
                    idempotency_key=_token(),
                )
                self.counts["out_of_service_patrols"] += 1
            else:
                checklist = checklists.current_for(elevator.kind.value)
                answers = self._answers(elevator, key, day, checklist, draw)
                self.patrols[key, day] = submit_patrol(
                    elevator,
                    officer,
                    self.password,
                    checklist,
                    answers,
                    now=moment,
                    misuse=MISUSE if (key, day) == MISUSE_AT else None,
                    idempotency_key=_token(),
                )
            self.counts["patrols"] += 1

        return run

    def _answers(
        self, elevator: Elevator, key: Key, day: int, checklist: checklists.Checklist, draw: float
    ) -> dict[str, ItemAnswer]:
        rng = random.Random(f"answers:{elevator.equipment_code}:{day}")  # noqa: S311 - demo data
        month = (self.today + timedelta(days=day)).month
        no_room = elevator.model in MACHINE_ROOM_LESS
        answers: dict[str, ItemAnswer] = {}
        for item in checklist.items_for(elevator.kind.value):
            if no_room and item.code in MACHINE_ROOM_ITEMS:
                answers[item.code] = ItemAnswer(result=None if item.is_reading else "na")
            elif item.code == "machine_room_temperature":
                reading = MONTH_TEMPERATURE[month - 1] + rng.uniform(-2.5, 2.5)
                answers[item.code] = ItemAnswer(value=Decimal(f"{reading:.1f}"))
            elif item.code == "machine_room_humidity":
                answers[item.code] = ItemAnswer(value=Decimal(rng.randint(52, 78)))
            else:
                answers[item.code] = ItemAnswer(result="pass")
        answers.update(FAILED_ITEMS.get((key, day), {}))
        if key == HOT_ROOM and day in HOT_DAYS:
            answers["machine_room_temperature"] = self._out_of_range(month, day == HOT_DAYS[0])
        if (key, day) == CORRECTED_AT:
            answers["machine_room_humidity"] = ItemAnswer(value=Decimal(CORRECTED_FROM))
        return answers

    @staticmethod
    def _out_of_range(month: int, first: bool) -> ItemAnswer:
        """Return a machine-room temperature outside 5-40 °C that fits the season."""
        if month in (12, 1, 2):
            if first:
                return ItemAnswer(value=Decimal("3.5"), note="机房窗户玻璃破损，冷风灌入，已报修")
            return ItemAnswer(value=Decimal("4.0"), note="窗户仍未修复，已催促物业工程部")
        if month in (6, 7, 8, 9):
            if first:
                return ItemAnswer(value=Decimal("41.5"), note="机房空调停机，已报物业工程部维修")
            return ItemAnswer(value=Decimal("42.0"), note="空调仍未修复，已催促物业工程部")
        if first:
            return ItemAnswer(value=Decimal("41.0"), note="机房排风扇故障停转，已报物业工程部维修")
        return ItemAnswer(value=Decimal("40.5"), note="排风扇仍未修复，已催促物业工程部")

    def plan_correction(self) -> None:
        key, day = CORRECTED_AT
        officer = self.users[next(s.officer for s in data.SITES if s.key == key[0])]

        def run() -> None:
            correct(
                self.patrols[key, day],
                officer,
                self.password,
                {"items.machine_room_humidity.value": CORRECTED_TO},
                CORRECTION_REASON,
                idempotency_key=_token(),
            )
            self.counts["corrections"] += 1

        self.add(self.at(day + 1, 11, 20, 12), run)

    # --- maintenance -------------------------------------------------------------------

    def plan_maintenance(self) -> None:
        visits: list[tuple[Key, int, datetime, datetime]] = []
        for site, groups in VISIT_DAYS.items():
            keys = self.site_keys(site)
            for group, days in enumerate(groups):
                members = keys[group * 5 : group * 5 + 5]
                for day in days:
                    visits += self._day_of_visits(members, day)
        # The incoming contractor's first visit to the elevators handed over.
        visits += self._day_of_visits(list(HANDOVER_ELEVATORS), FIRST_VISIT_DAY, start=(10, 0))
        # The rejected visit, done again after the officer's rejection the next morning.
        key, day = REJECTED_AT
        last_departure = max(d for k, v, _a, d in visits if v == day + 1 and k[0] == key[0])
        arrival = last_departure + timedelta(minutes=20)
        visits.append((key, day + 1, arrival, arrival + timedelta(minutes=50)))

        visits.sort(key=lambda visit: visit[3])
        awaiting = {(k, v) for k, v, _a, _d in visits[-2:]}
        per_day: Counter[tuple[int, int]] = Counter()
        for index, (key, day, arrival, departure) in enumerate(visits):
            contractor = self.contractor_on(key, day)
            technicians = [
                self.user(contractor, Role.technician, 0),
                self.user(contractor, Role.technician, 1),
            ]
            author = technicians[index % 2]
            resubmitted = (key, day - 1) == REJECTED_AT
            submitted = departure + timedelta(minutes=6, seconds=index % 50)
            self.add(
                submitted,
                self._visit(
                    key, day, arrival, departure, author, technicians, submitted, resubmitted
                ),
            )
            officer = self.elevators[key].safety_officer
            if (key, day) in awaiting:
                continue
            if (key, day) == REJECTED_AT and not resubmitted:
                rejected_at = self.at(day + 1, 10, 20, 31)
                self.add(rejected_at, self._review(key, day, officer, rejected_at, reject=True))
                continue
            per_day[officer.id, day + 1] += 1
            queue = per_day[officer.id, day + 1]
            review = self.at(day + 1, 10, 30) + timedelta(minutes=4 * queue, seconds=index % 60)
            if review > self.now - timedelta(minutes=1):
                review = departure + timedelta(minutes=25)  # the next day has not come yet
            self.add(review, self._review(key, day, officer, review, reject=False))

    def _day_of_visits(
        self, keys: list[Key], day: int, start: tuple[int, int] = (9, 0)
    ) -> list[tuple[Key, int, datetime, datetime]]:
        """Return one team's visits of a day: three in the morning, the rest after lunch."""
        rng = random.Random(f"visits:{keys[0]}:{day}")  # noqa: S311 - demo data
        moment = self.at(day, *start)
        result = []
        for index, key in enumerate(keys):
            if index == 3:
                moment = max(moment, self.at(day, 14, 0))
            minutes = 95 if (key, day) == QUARTERLY_AT else rng.randint(40, 55)
            departure = moment + timedelta(minutes=minutes)
            result.append((key, day, moment, departure))
            moment = departure + timedelta(minutes=rng.randint(8, 15))
        return result

    def _visit(
        self,
        key: Key,
        day: int,
        arrival: datetime,
        departure: datetime,
        author: User,
        technicians: list[User],
        submitted: datetime,
        resubmitted: bool,
    ) -> Callable[[], None]:
        def run() -> None:
            elevator = self.elevators[key]
            visit = self._visit_input(elevator, key, day, resubmitted)
            visit.visit_date = self.today + timedelta(days=day)
            visit.arrival = arrival.astimezone(ZONE).time().replace(tzinfo=None)
            visit.departure = departure.astimezone(ZONE).time().replace(tzinfo=None)
            visit.technician_ids = [t.id for t in technicians]
            try:
                record = maintenance.record_visit(
                    elevator,
                    author,
                    visit,
                    self.password,
                    idempotency_key=_token(),
                    now=submitted,
                )
            except maintenance.VisitRefused as error:
                raise RuntimeError(f"{elevator.equipment_code}: {error.problems}") from error
            self.visits[key, day] = record
            self.counts["visits"] += 1

        return run

    def _visit_input(
        self, elevator: Elevator, key: Key, day: int, resubmitted: bool
    ) -> maintenance.VisitInput:
        rng = random.Random(f"items:{elevator.equipment_code}:{day}")  # noqa: S311 - demo data
        quarterly = (key, day) == QUARTERLY_AT
        level = MaintenanceLevel.quarterly if quarterly else MaintenanceLevel.half_monthly
        visit = maintenance.VisitInput(level=level.value)
        replaced = REPLACED.get((key, day))
        item_list = list_for(elevator.kind)
        items = item_list.for_level(level)
        if items:
            visit.answers = {item.code: ("done", None) for item in items}
            for code, result, note in rng.sample(ADJUSTMENTS, rng.choice((0, 0, 1, 1, 2))):
                visit.answers[code] = (result, note)
            if (key, day) == REJECTED_AT:
                visit.answers["A-1.5"] = ("not_applicable", None)
            if resubmitted:
                visit.answers["A-1.5"] = (
                    "adjusted",
                    "按规定检查制动器间隙，调整后打开时制动衬与制动轮无摩擦",
                )
            if replaced:
                visit.answers[replaced[0]] = ("replaced", replaced[1])
        if not item_list.complete and not items:
            visit.extra_items = [
                maintenance.ExtraItem(text, "done", None) for text in EXTRA_ITEMS[elevator.kind]
            ]
            for extra in visit.extra_items:
                if replaced and extra.text == replaced[0]:
                    extra.result, extra.note = "replaced", replaced[1]
        if replaced:
            visit.parts_replaced = [replaced[2]]
        if quarterly:
            visit.problems = [maintenance.ProblemFound(QUARTERLY_PROBLEM, "ordinary")]
        visit.remarks = OUT_OF_SERVICE_REMARKS.get(key)
        return visit

    def _review(
        self, key: Key, day: int, officer: User, moment: datetime, *, reject: bool
    ) -> Callable[[], None]:
        def run() -> None:
            record = self.visits[key, day]
            if reject:
                maintenance.reject(
                    record,
                    officer,
                    self.password,
                    REJECTION_REASON,
                    idempotency_key=_token(),
                    now=moment,
                )
                self.counts["rejected"] += 1
            else:
                maintenance.confirm(
                    record, officer, self.password, idempotency_key=_token(), now=moment
                )
                self.counts["confirmed"] += 1

        return run

    # --- the handover --------------------------------------------------------------------

    def plan_handover(self) -> None:
        director = self.user("jinhua", Role.safety_director)
        outgoing = self.user(HANDOVER_FROM, Role.contractor_manager)
        incoming = self.user(HANDOVER_TO, Role.contractor_manager)
        site = next(s for s in data.SITES if s.key == HANDOVER_SITE)
        handover_date = self.today + timedelta(days=HANDOVER_DAY)

        def start() -> None:
            values = handovers.StartValues(
                elevators=[self.elevators[key] for key in HANDOVER_ELEVATORS],
                incoming=self.orgs[HANDOVER_TO],
                handover_date=handover_date,
                new_contract_end=self.today + timedelta(days=site.contract_end),
                level_plan=FULL_LEVEL_PLAN,
            )
            started_on = self.today + timedelta(days=HANDOVER_STARTED)
            self.handover = handovers.start_handover(director, values, started_on)

        def checklist() -> None:
            assert self.handover is not None  # noqa: S101 - started before
            handovers.save_checklist(director, self.handover, HANDOVER_CHECKLIST)

        def sign(actor: User, step: handovers.Step, moment: datetime) -> Callable[[], None]:
            def run() -> None:
                assert self.handover is not None  # noqa: S101 - started before
                handovers.sign_step(
                    actor, self.handover, step, self.password, token=_token(), now=moment
                )
                if step is handovers.Step.confirm:
                    self.counts["handovers"] += 1

            return run

        self.add(self.at(HANDOVER_STARTED, 10, 5, 40), start)
        self.add(self.at(HANDOVER_DAY - 2, 14, 0, 12), checklist)
        steps = (
            (outgoing, handovers.Step.hand_over, self.at(HANDOVER_DAY - 2, 16, 30, 8)),
            (incoming, handovers.Step.receive, self.at(HANDOVER_DAY - 1, 10, 2, 45)),
            (director, handovers.Step.confirm, self.at(HANDOVER_DAY - 1, 15, 31, 20)),
        )
        for actor, step, moment in steps:
            self.add(moment, sign(actor, step, moment))

    # --- running -------------------------------------------------------------------------

    def run(self) -> None:
        signers = list(self.users.values())
        with simulated_clock() as clock, _quick_signing(signers, self.password):
            for item in sorted(self.events, key=lambda e: (e.at, e.order)):
                if item.at > self.now:
                    raise RuntimeError(f"a demo event lies in the future: {item.at}")
                clock.moment = item.at
                item.run()
            clock.moment = None


def load(today: date, now: datetime, password: str) -> HistorySummary:
    """Add three weeks of history to the demo city in the session (the caller commits).

    ``today`` is the load's day in Asia/Shanghai and ``now`` the load's moment: only
    what happened before ``now`` is written.
    """
    history = _History(today, now, password)
    history.plan_patrols()
    history.plan_correction()
    history.plan_maintenance()
    history.plan_handover()
    faults.plan(history)
    history.run()
    counts = history.counts
    findings = db.session.scalar(
        select(func.count(Finding.id)).where(
            Finding.elevator_id.in_([e.id for e in history.elevators.values()])
        )
    )
    return HistorySummary(
        patrols=counts["patrols"],
        out_of_service_patrols=counts["out_of_service_patrols"],
        findings=findings or 0,
        visits=counts["visits"],
        confirmed=counts["confirmed"],
        awaiting=counts["visits"] - counts["confirmed"] - counts["rejected"],
        rejected=counts["rejected"],
        corrections=counts["corrections"],
        handovers=counts["handovers"],
    )
