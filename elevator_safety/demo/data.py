"""The demo city: two property companies in Chengdu, their contractors and regulators.

Everything here is fictitious but shaped like the real thing: Chinese names,
20-digit equipment codes (设备代码), registration numbers (使用登记证编号),
rescue identification codes (救援识别码), a mix of elevator kinds and ages,
inspection and use-sign dates around today (some due soon, some expired), a
contract ending within 30 days and a contractor qualification expiring soon.
Dates that matter for alerts are computed from ``today`` so that the demo stays
interesting whenever it is loaded.

The data is written through the models in one transaction (no audit entries:
nobody did anything) and is recognised on a second run by its organisation
names, so loading twice changes nothing. history.py then adds, in the same
transaction, three weeks of patrols, maintenance, a correction and a handover.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.extensions import db
from elevator_safety.registry.models import (
    FULL_LEVEL_PLAN,
    Contract,
    Elevator,
    ElevatorKind,
    ElevatorStatus,
    InspectionResult,
    Site,
)

K = ElevatorKind
R = InspectionResult


@dataclass(frozen=True)
class OrgSpec:
    """One demo organisation."""

    key: str
    name: str
    kind: OrgKind
    phone: str
    district_code: str | None = None
    district_name: str | None = None
    qualification_prefix: str | None = None
    #: Days from today to the qualification's expiry (contractors only).
    qualification_days: int | None = None


@dataclass(frozen=True)
class UserSpec:
    """One demo user."""

    org: str
    role: Role
    name: str
    email: str
    phone: str
    certificate_no: str | None = None


@dataclass(frozen=True)
class SiteSpec:
    """One demo site (小区/项目) with the officer and contractors looking after it."""

    key: str
    org: str
    name: str
    address: str
    district_code: str
    district_name: str
    is_city: bool
    #: E-mail of the safety officer named on every elevator of the site.
    officer: str
    contractor: str
    #: Days from today to the first and last day of the current contract.
    contract_start: int
    contract_end: int
    #: A contractor whose previous contract ended the day before the current one began.
    previous_contractor: str | None = None


@dataclass(frozen=True)
class ElevatorSpec:
    """One demo elevator; ``due_in`` is the days from today to the next inspection."""

    site: str
    building: str
    unit: str | None
    car_no: str
    kind: ElevatorKind
    manufacturer: str
    model: str
    rated_load_kg: int | None
    rated_speed_ms: str
    floors: int | None
    stops: int | None
    acceptance: date
    due_in: int
    result: InspectionResult
    status: ElevatorStatus
    notes: str | None


JINJIANG = ("510104", "锦江区")
DUJIANGYAN = ("510181", "都江堰市")

ORGS: tuple[OrgSpec, ...] = (
    OrgSpec("rongcheng", "蓉城物业服务有限公司", OrgKind.property_company, "028-86001100"),
    OrgSpec("jinhua", "锦华物业管理有限公司", OrgKind.property_company, "028-86002200"),
    OrgSpec(
        "xinda",
        "四川信达电梯工程有限公司",
        OrgKind.contractor,
        "028-86003300",
        qualification_prefix="TS3351088",
        qualification_days=3 * 365,
    ),
    OrgSpec(
        "anshun",
        "成都安顺电梯服务有限公司",
        OrgKind.contractor,
        "028-86004400",
        qualification_prefix="TS3351126",
        qualification_days=45,  # expiring soon: renewal due
    ),
    OrgSpec(
        "jinjiang",
        "成都市锦江区市场监督管理局",
        OrgKind.regulator,
        "028-86005500",
        *JINJIANG,
    ),
    OrgSpec(
        "dujiangyan",
        "都江堰市市场监督管理局",
        OrgKind.regulator,
        "028-86006600",
        *DUJIANGYAN,
    ),
)

USERS: tuple[UserSpec, ...] = (
    UserSpec("rongcheng", Role.admin, "王建国", "admin@rongcheng.demo", "13800280101"),
    UserSpec("rongcheng", Role.safety_director, "李秀英", "director@rongcheng.demo", "13800280102"),
    UserSpec(
        "rongcheng",
        Role.safety_officer,
        "张磊",
        "officer1@rongcheng.demo",
        "13800280103",
        "A川2021-00317",
    ),
    UserSpec(
        "rongcheng",
        Role.safety_officer,
        "陈静",
        "officer2@rongcheng.demo",
        "13800280104",
        "A川2023-01452",
    ),
    UserSpec("jinhua", Role.admin, "刘洋", "admin@jinhua.demo", "13800280201"),
    UserSpec("jinhua", Role.safety_director, "杨帆", "director@jinhua.demo", "13800280202"),
    UserSpec(
        "jinhua",
        Role.safety_officer,
        "赵敏",
        "officer1@jinhua.demo",
        "13800280203",
        "A川2020-00866",
    ),
    UserSpec(
        "jinhua",
        Role.safety_officer,
        "黄强",
        "officer2@jinhua.demo",
        "13800280204",
        "A川2024-02031",
    ),
    UserSpec("xinda", Role.contractor_manager, "周海", "manager@xinda.demo", "13800280301"),
    UserSpec("xinda", Role.technician, "吴刚", "tech1@xinda.demo", "13800280302", "T川2018-03377"),
    UserSpec("xinda", Role.technician, "郑涛", "tech2@xinda.demo", "13800280303", "T川2022-05190"),
    UserSpec("anshun", Role.contractor_manager, "孙丽", "manager@anshun.demo", "13800280401"),
    UserSpec(
        "anshun", Role.technician, "马超", "tech1@anshun.demo", "13800280402", "T川2019-04012"
    ),
    UserSpec(
        "anshun", Role.technician, "朱明", "tech2@anshun.demo", "13800280403", "T川2023-06624"
    ),
    UserSpec("jinjiang", Role.regulator, "胡军", "regulator@jinjiang.demo", "13800280501"),
    UserSpec("dujiangyan", Role.regulator, "林芳", "regulator@dujiangyan.demo", "13800280601"),
)

SITES: tuple[SiteSpec, ...] = (
    SiteSpec(
        "donghu",
        "rongcheng",
        "东湖花园",
        "成都市锦江区东湖街道东湖路88号",
        *JINJIANG,
        is_city=True,
        officer="officer1@rongcheng.demo",
        contractor="xinda",
        contract_start=-200,
        contract_end=164,
        previous_contractor="anshun",
    ),
    SiteSpec(
        "wangjiang",
        "rongcheng",
        "望江苑",
        "成都市锦江区望江路街道望江路26号",
        *JINJIANG,
        is_city=True,
        officer="officer2@rongcheng.demo",
        contractor="anshun",
        contract_start=-345,
        contract_end=19,  # ends within 30 days: renewal pending
    ),
    SiteSpec(
        "chunxi",
        "jinhua",
        "春熙汇购物中心",
        "成都市锦江区春熙路街道春熙路西段9号",
        *JINJIANG,
        is_city=True,
        officer="officer1@jinhua.demo",
        contractor="xinda",
        contract_start=-60,
        contract_end=304,
    ),
    SiteSpec(
        "yulei",
        "jinhua",
        "玉垒山居",
        "都江堰市幸福街道玉垒路168号",
        *DUJIANGYAN,
        is_city=False,  # county-level city: 60-minute rescue limit
        officer="officer2@jinhua.demo",
        contractor="anshun",
        contract_start=-120,
        contract_end=244,
    ),
)

#: Notes on the elevators that need one.
NOTES = {
    "fail": "定期检验不合格（制动器磨损），已停用整改，待复检",
    "late": "定期检验已逾期：已向检验机构申请，待排期",
    "wait": "门机故障停用，等待配件更换",
}
RESULTS = {"ok": R.passed, "rect": R.passed_after_rectification, "fail": R.failed}
STATUSES = {"in": ElevatorStatus.in_service, "out": ElevatorStatus.out_of_service}

#: One elevator a line, like the spreadsheets property companies keep, under a
#: ``[site]`` line. Columns: building, unit, car, kind, manufacturer, model, rated
#: load (kg), rated speed (m/s), floors, stops, acceptance date, days from today to
#: the next periodic inspection (negative: overdue), last result, status, note key;
#: "-" is empty.
ELEVATOR_TABLE = """
# bldg unit   car      kind        maker  model          kg  m/s fl st accepted   due res  st  note
[donghu] 东湖花园: an older residential compound, one car per unit.
1栋    1单元  1号梯    traction    奥的斯 GeN2-MRL     1000 1.75 18 18 2004-09-20  12 ok   in  -
1栋    2单元  1号梯    traction    奥的斯 GeN2-MRL     1000 1.75 18 18 2004-09-20  12 ok   in  -
2栋    1单元  1号梯    traction    三菱   LEHY-II       800 1.60 16 16 2005-06-15  75 rect in  -
2栋    2单元  1号梯    traction    三菱   LEHY-II       800 1.60 16 16 2005-06-15  75 ok   in  -
3栋    1单元  1号梯    traction    日立   HGP          1000 1.75 18 18 2006-11-08 -15 ok   in  late
3栋    2单元  1号梯    traction    日立   HGP          1000 1.75 18 18 2006-11-08 160 ok   in  -
4栋    1单元  1号梯    traction    迅达   3300         1000 1.75 18 17 2008-04-22  10 fail out fail
4栋    2单元  1号梯    traction    迅达   3300         1000 1.75 18 17 2008-04-22 230 ok   in  -
5栋    1单元  1号梯    traction    康力   KLK1          800 1.50 11 11 2010-07-30  25 ok   in  -
5栋    2单元  1号梯    traction    康力   KLK1          800 1.50 11 11 2010-07-30 290 ok   in  -
[wangjiang] 望江苑: high-rise towers, two cars per unit; the newest building was accepted in 2025.
1栋    1单元  1号梯    traction    通力   MonoSpace500 1050 2.50 33 33 2016-05-12 140 ok   in  -
1栋    1单元  2号梯    traction    通力   MonoSpace500 1350 2.50 33 33 2016-05-12 140 ok   in  -
2栋    1单元  1号梯    traction    通力   MonoSpace500 1050 2.50 33 33 2016-05-12 150 ok   in  -
2栋    1单元  2号梯    traction    通力   MonoSpace500 1350 2.50 33 33 2016-05-12 150 ok   in  -
3栋    1单元  1号梯    traction    日立   MCA          1050 2.00 26 26 2019-10-18   5 ok   in  -
3栋    1单元  2号梯    traction    日立   MCA          1050 2.00 26 26 2019-10-18   5 ok   in  -
4栋    1单元  1号梯    traction    三菱   NEXIEZ-MRL   1050 2.50 32 32 2021-08-03 250 ok   in  -
4栋    1单元  2号梯    traction    三菱   NEXIEZ-MRL   1050 2.50 32 32 2021-08-03 250 rect in  -
5栋    1单元  1号梯    traction    康力   KLK2         1000 1.75 18 18 2025-03-26 118 ok   in  -
5栋    1单元  2号梯    traction    康力   KLK2         1000 1.75 18 18 2025-03-26 118 ok   in  -
[chunxi] 春熙汇购物中心: a shopping centre with escalators, a moving walk and goods lifts.
商场   1F-2F  E1       escalator   迅达   9300AE          - 0.50  -  - 2012-12-10  60 ok   in  -
商场   1F-2F  E2       escalator   迅达   9300AE          - 0.50  -  - 2012-12-10  60 ok   in  -
商场   2F-3F  E3       escalator   奥的斯 506NCE          - 0.50  -  - 2012-12-10  60 ok   in  -
商场   2F-3F  E4       escalator   奥的斯 506NCE          - 0.50  -  - 2012-12-10  60 ok   in  -
商场   B1-1F  W1       moving_walk 迅达   9500AE          - 0.50  -  - 2014-01-16  95 ok   in  -
商场   中庭   观光梯1  traction    通力   MiniSpace    1350 1.75  6  6 2012-12-10  60 ok   in  -
商场   中庭   观光梯2  traction    通力   MiniSpace    1350 1.75  6  6 2012-12-10  60 ok   in  -
后勤区 -      货梯1    freight     日立   HF-2000      2000 0.50  7  7 2013-03-05 180 ok   in  -
后勤区 -      货梯2    freight     三菱   GF-3000      3000 0.50  7  7 2013-03-05 180 ok   out wait
车库   -      无障碍梯 hydraulic   康力   KLY-630       630 0.40  3  3 2019-05-20 300 rect in  -
[yulei] 玉垒山居: a mid-rise compound in a county-level city.
1栋    1单元  1号梯    traction    三菱   LEHY-III      800 1.00  9  9 2007-08-15  40 ok   in  -
2栋    1单元  1号梯    traction    三菱   LEHY-III      800 1.00  9  9 2007-08-15  40 ok   in  -
3栋    1单元  1号梯    traction    康力   KLK1          800 1.00 11 11 2013-10-09 200 ok   in  -
4栋    1单元  1号梯    traction    康力   KLK1         1000 1.60 11 11 2020-06-28  20 ok   in  -
4栋    2单元  1号梯    traction    康力   KLK1         1000 1.60 11 11 2020-06-28 330 ok   in  -
"""


def _parse_elevators(table: str) -> tuple[ElevatorSpec, ...]:
    """Turn the table above into specs."""

    def opt(value: str) -> str | None:
        return None if value == "-" else value

    def number(value: str) -> int | None:
        return None if value == "-" else int(value)

    specs = []
    site = ""
    for line in table.strip().splitlines():
        if line.startswith("#"):
            continue
        if line.startswith("["):
            site = line[1 : line.index("]")]
            continue
        (building, unit, car, kind, maker, model, load, speed, floors, stops,
         accepted, due, result, status, note) = line.split()  # fmt: skip
        specs.append(
            ElevatorSpec(
                site=site,
                building=building,
                unit=opt(unit),
                car_no=car,
                kind=ElevatorKind(kind),
                manufacturer=maker,
                model=model,
                rated_load_kg=number(load),
                rated_speed_ms=speed,
                floors=number(floors),
                stops=number(stops),
                acceptance=date.fromisoformat(accepted),
                due_in=int(due),
                result=RESULTS[result],
                status=STATUSES[status],
                notes=NOTES.get(note),
            )
        )
    return tuple(specs)


ELEVATORS = _parse_elevators(ELEVATOR_TABLE)

#: Equipment category codes (特种设备目录) that open the 设备代码, and the
#: two digits after 梯 in the registration number.
CATEGORY = {
    K.traction: ("3110", "11"),
    K.freight: ("3120", "12"),
    K.hydraulic: ("3210", "21"),
    K.escalator: ("3310", "31"),
    K.moving_walk: ("3320", "32"),
}
FACTORY_PREFIX = {
    "奥的斯": "OT",
    "迅达": "SC",
    "通力": "KN",
    "日立": "HT",
    "三菱": "MS",
    "康力": "KL",
}
CONTRACT_PREFIX = {"xinda": "XD-WB", "anshun": "AS-WB"}
#: First rescue identification code of each site's block of codes.
RESCUE_BASE = {"donghu": 20101, "wangjiang": 20201, "chunxi": 20301, "yulei": 81101}


@dataclass(frozen=True)
class Summary:
    """What a load created."""

    organisations: int
    sites: int
    elevators: int
    contracts: int
    users: int


class DemoConflict(RuntimeError):
    """Part of the demo data, or something with the same keys, exists already."""


def equipment_code(index: int, spec: ElevatorSpec, district_code: str) -> str:
    """Return the 20-digit code: category, district, year of acceptance, serial number."""
    category = CATEGORY[spec.kind][0]
    return f"{category}{district_code}{spec.acceptance.year}{index + 1:06d}"


def demo_emails() -> list[str]:
    """Return the demo users' e-mails in the order ``demo logins`` prints them."""
    return [user.email for user in USERS]


def state() -> str:
    """Return ``absent``, ``present`` or ``conflict`` for the demo data in the database."""
    names = [org.name for org in ORGS]
    found = db.session.scalar(
        select(func.count(Organisation.id)).where(Organisation.name.in_(names))
    )
    if found == len(names):
        return "present"
    if found:
        return "conflict"
    codes = [code for _spec, code in elevator_codes()]
    clash = (
        db.session.scalar(select(func.count(Elevator.id)).where(Elevator.equipment_code.in_(codes)))
        or db.session.scalar(
            select(func.count(User.id)).where(
                (func.lower(User.email).in_(demo_emails()))
                | (User.phone.in_([user.phone for user in USERS]))
            )
        )
        or 0
    )
    return "conflict" if clash else "absent"


def elevator_codes() -> list[tuple[ElevatorSpec, str]]:
    """Return each demo elevator's spec with its equipment code, in table order."""
    return [
        (spec, equipment_code(i, spec, _site_spec(spec.site).district_code))
        for i, spec in enumerate(ELEVATORS)
    ]


def _site_spec(key: str) -> SiteSpec:
    return next(site for site in SITES if site.key == key)


def _plus(today: date, days: int) -> date:
    return today + timedelta(days=days)


def load(today: date, password: str) -> Summary:
    """Add the demo city to the session (the caller commits); refuse if any of it exists."""
    if state() != "absent":
        raise DemoConflict(
            "Some demo organisations, users or equipment codes exist already; nothing was written."
        )
    orgs: dict[str, Organisation] = {}
    for org_spec in ORGS:
        org = Organisation(
            name=org_spec.name,
            kind=org_spec.kind,
            phone=org_spec.phone,
            district_code=org_spec.district_code,
            district_name=org_spec.district_name,
        )
        if org_spec.qualification_days is not None:
            expires = _plus(today, org_spec.qualification_days)
            org.qualification_expires = expires
            org.qualification_no = f"{org_spec.qualification_prefix}-{expires.year}"
        orgs[org_spec.key] = org
    # Flush kind by kind so that ids follow the order of the tables above.
    db.session.add_all(orgs.values())
    db.session.flush()

    # scrypt is slow on purpose: hash the shared password once for every user.
    password_hash = generate_password_hash(password, method="scrypt")
    users: dict[str, User] = {}
    for user_spec in USERS:
        users[user_spec.email] = User(
            organisation=orgs[user_spec.org],
            name=user_spec.name,
            email=user_spec.email,
            phone=user_spec.phone,
            role=user_spec.role,
            certificate_no=user_spec.certificate_no,
            password_hash=password_hash,
            active=True,
            session_version=1,
        )
    db.session.add_all(users.values())
    db.session.flush()

    sites: dict[str, Site] = {}
    for site_spec in SITES:
        sites[site_spec.key] = Site(
            organisation=orgs[site_spec.org],
            name=site_spec.name,
            address=site_spec.address,
            district_code=site_spec.district_code,
            district_name=site_spec.district_name,
            is_city=site_spec.is_city,
            timezone="Asia/Shanghai",
        )
    db.session.add_all(sites.values())
    db.session.flush()

    elevators: list[Elevator] = []
    contracts: list[Contract] = []
    # One agreement per site and contractor: its elevators share the contract number.
    serial = dict.fromkeys(CONTRACT_PREFIX, 0)
    contract_no: dict[tuple[str, str], str] = {}
    for site_spec in SITES:
        start = _plus(today, site_spec.contract_start)
        agreements = [(site_spec.contractor, start)]
        if site_spec.previous_contractor:
            agreements.insert(0, (site_spec.previous_contractor, _plus(start, -365)))
        for contractor, begins in agreements:
            serial[contractor] += 1
            contract_no[site_spec.key, contractor] = (
                f"{CONTRACT_PREFIX[contractor]}-{begins.year}-{serial[contractor]:03d}"
            )

    def contract(site: str, elevator: Elevator, contractor: str, start: date, end: date) -> None:
        contracts.append(
            Contract(
                elevator=elevator,
                contractor=orgs[contractor],
                contract_no=contract_no[site, contractor],
                start_date=start,
                end_date=end,
                level_plan=FULL_LEVEL_PLAN,
            )
        )

    per_site = dict.fromkeys(RESCUE_BASE, 0)
    for index, spec in enumerate(ELEVATORS):
        site_spec = _site_spec(spec.site)
        # Keep the demo consistent on a machine whose clock is far in the past.
        acceptance = min(spec.acceptance, _plus(today, -400))
        due = _plus(today, spec.due_in)
        last: date | None = _plus(due, -365)
        result: InspectionResult | None = spec.result
        if spec.result == R.failed:
            # Failed a few weeks ago, before the history (history.py) begins, so that
            # every patrol of the history finds it out of service; the re-inspection
            # (复检) is booked for ``due``.
            last = _plus(today, -25)
        if last is not None and last < acceptance:
            last, result = None, None
        sign = last if spec.result == R.failed else due
        number = per_site[spec.site]
        per_site[spec.site] += 1
        category, reg_kind = CATEGORY[spec.kind]
        maker = FACTORY_PREFIX[spec.manufacturer]
        elevator = Elevator(
            site=sites[spec.site],
            equipment_code=equipment_code(index, spec, site_spec.district_code),
            registration_no=f"梯{reg_kind}川A{10300 + index * 7:05d}({acceptance.year % 100:02d})",
            rescue_code=str(RESCUE_BASE[spec.site] + number),
            kind=spec.kind,
            manufacturer=spec.manufacturer,
            model=spec.model,
            factory_no=f"{maker}{acceptance.year}{category}{index + 1:04d}",
            rated_load_kg=spec.rated_load_kg,
            rated_speed_ms=Decimal(spec.rated_speed_ms),
            floors=spec.floors,
            stops=spec.stops,
            building=spec.building,
            unit=spec.unit,
            car_no=spec.car_no,
            acceptance_date=acceptance,
            last_inspection_date=last,
            last_inspection_result=result,
            next_inspection_due=due,
            use_sign_valid_until=sign,
            safety_officer=users[site_spec.officer],
            status=spec.status,
            notes=spec.notes,
        )
        elevators.append(elevator)
        start = _plus(today, site_spec.contract_start)
        if site_spec.previous_contractor:
            previous = site_spec.previous_contractor
            contract(spec.site, elevator, previous, _plus(start, -365), _plus(start, -1))
        contract(
            spec.site, elevator, site_spec.contractor, start, _plus(today, site_spec.contract_end)
        )

    db.session.add_all(elevators)
    db.session.flush()
    db.session.add_all(contracts)
    db.session.flush()
    return Summary(
        organisations=len(orgs),
        sites=len(sites),
        elevators=len(elevators),
        contracts=len(contracts),
        users=len(users),
    )


def login_rows(password: str) -> list[tuple[str, str, str, str]]:
    """Return (role, organisation, e-mail, password) of the demo users in the database."""
    found = {
        user.email: user
        for user in db.session.scalars(select(User).where(User.email.in_(demo_emails())))
    }
    return [
        (found[email].role.value, found[email].organisation.name, email, password)
        for email in demo_emails()
        if email in found
    ]
