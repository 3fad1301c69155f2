"""Helpers of the document tests: real records made through the services, PDF text and fonts.

Records are written by the packages' own services (patrols, maintenance,
lockouts, rectifications, registers, legal duties), so that the sheets print
the content shapes production writes. ``pdftotext`` and ``pdffonts`` (Debian's
poppler-utils) read the PDFs back as a person or a checker would.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from werkzeug.datastructures import FileStorage

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.legal import services as legal
from elevator_safety.lockouts import services as lockouts
from elevator_safety.lockouts.models import Lockout, LockoutCause, NotifyChannel
from elevator_safety.maintenance import services as maintenance
from elevator_safety.maintenance.items import items_for
from elevator_safety.patrols import checklists
from elevator_safety.patrols import services as patrols
from elevator_safety.records import services as records
from elevator_safety.records.models import Finding, Record
from elevator_safety.rectifications import services as rectifications
from elevator_safety.registers import services as registers
from elevator_safety.registers.models import KeyKind, SiteKey
from elevator_safety.registry.models import MaintenanceLevel
from tests.factories import PASSWORD, Side, World, png_bytes

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Chinese names given to the world's people and organisations (the sheets print them).
NAMES = {
    "org": "锦江物业服务有限公司",
    "officer": "王安全",
    "director": "李总监",
    "contractor": "蜀通电梯维保有限公司",
    "technician": "张师傅",
    "manager": "赵经理",
    "site": "锦华苑小区",
}


def token() -> str:
    return uuid.uuid4().hex


def chinese_names(world: World) -> Side:
    """Give the own side Chinese names (as in production) and return it."""
    side = world.own
    side.org.name = NAMES["org"]
    side.officer.name = NAMES["officer"]
    side.director.name = NAMES["director"]
    side.contractor.name = NAMES["contractor"]
    side.technician.name = NAMES["technician"]
    side.manager.name = NAMES["manager"]
    side.site.name = NAMES["site"]
    db.session.commit()
    return side


# --- reading PDFs back ------------------------------------------------------------------------


def _poppler(tool: str, data: bytes, *args: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(data)
        done = subprocess.run(  # noqa: S603 - poppler-utils on a file of our own
            [tool, *args, str(path), "-"] if tool == "pdftotext" else [tool, str(path)],
            capture_output=True,
            check=True,
            text=True,
        )
    return done.stdout


def pdf_text(data: bytes) -> str:
    """Return the text of a PDF as pdftotext extracts it (UTF-8)."""
    return _poppler("pdftotext", data, "-enc", "UTF-8")


def qr_codes(data: bytes) -> list[str]:
    """Return what zbarimg reads from the QR codes of a PDF's first page (at 200 dpi)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(data)
        to_png = ["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(path)]
        subprocess.run([*to_png, f"{folder}/page"], check=True)  # noqa: S603 - our own file
        (image,) = Path(folder).glob("page*.png")
        scan = ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(image)]
        done = subprocess.run(  # noqa: S603 - zbar-tools on an image of our own
            scan,
            capture_output=True,
            check=True,
            text=True,
        )
    return done.stdout.splitlines()


def pdf_fonts(data: bytes) -> list[tuple[str, str]]:
    """Return (font name, embedded yes/no) of every font pdffonts lists."""
    lines = _poppler("pdffonts", data).splitlines()[2:]
    fonts = []
    for line in lines:
        parts = line.split()
        fonts.append((parts[0], parts[-5]))
    return fonts


def page_count(data: bytes) -> int:
    """Return the number of pages (form feeds of pdftotext)."""
    return pdf_text(data).count("\f")


# --- records through the services -------------------------------------------------------------


def patrol(
    side: Side, *, fail: str | None = None, photo: bool = False, note: str | None = None
) -> Record:
    """Sign a patrol of the side's first elevator; ``fail`` names an item that fails."""
    elevator = side.elevators[0]
    checklist = checklists.current_for(elevator.kind.value)
    answers = {}
    for item in checklist.items_for(elevator.kind.value):
        if item.is_reading:
            value = Decimal("45") if item.code == fail else Decimal("22.5")
            answers[item.code] = patrols.ItemAnswer(value=value)
        else:
            answer = patrols.ItemAnswer(result="fail" if item.code == fail else "pass")
            if item.code == fail:
                answer.note = "底坑照明损坏"
                if photo:
                    answer.photo = FileStorage(io.BytesIO(png_bytes((40, 30), "green")), "p.png")
            answers[item.code] = answer
    record = patrols.submit_patrol(
        elevator,
        side.officer,
        PASSWORD,
        checklist,
        answers,
        now=now_utc(),
        note=note,
        idempotency_key=token(),
    )
    db.session.commit()
    return record


def correct(record: Record, side: Side, path: str, value: object, reason: str) -> Record:
    """Correct one field of a record as the side's safety officer."""
    made = records.correct(
        record, side.officer, PASSWORD, {path: value}, reason, idempotency_key=token()
    )
    db.session.commit()
    return made


def yesterday() -> date:
    return datetime.now(SHANGHAI).date() - timedelta(days=1)


def visit(side: Side, *, level: str = "half_monthly", day: date | None = None) -> Record:
    """Record a maintenance visit by the side's technician with a typed co-worker."""
    elevator = side.elevators[0]
    items = items_for(elevator.kind, MaintenanceLevel(level))
    answers: dict[str, tuple[str | None, str | None]] = {
        item.code: ("done", None) for item in items
    }
    answers[items[0].code] = ("adjusted", "制动器间隙已调整")
    data = maintenance.VisitInput(
        level=level,
        visit_date=day or yesterday(),
        arrival=time(9, 0),
        departure=time(10, 30),
        technician_ids=[side.technician.id],
        coworkers=[maintenance.Coworker("李四", "T-5678")],
        answers=answers,
        remarks="设备运行正常",
    )
    record = maintenance.record_visit(
        elevator, side.technician, data, PASSWORD, idempotency_key=token()
    )
    db.session.commit()
    return record


def reject(record: Record, side: Side, reason: str = "底坑未清洁") -> Record:
    made = maintenance.reject(record, side.officer, PASSWORD, reason, idempotency_key=token())
    db.session.commit()
    return made


def confirm(record: Record, side: Side) -> Record:
    made = maintenance.confirm(
        record, side.officer, PASSWORD, "现场确认无误", idempotency_key=token()
    )
    db.session.commit()
    return made


def late_entrapment(side: Side) -> Lockout:
    """An entrapment whose rescue arrived 35 minutes after the alarm (limit 30), released."""
    now = now_utc()
    lockout = lockouts.open_lockout(
        side.elevators[0],
        side.officer,
        PASSWORD,
        cause=LockoutCause.alarm,
        description="轿厢停在两层之间，困人两名",
        occurred_at=now - timedelta(minutes=39),
        entrapment=lockouts.EntrapmentInput(trapped_count=2, alarm_at=now - timedelta(minutes=40)),
    )
    lockouts.post_notice(lockout, side.officer, PASSWORD, occurred_at=now - timedelta(minutes=38))
    lockouts.notify_contractor(
        lockout,
        side.officer,
        PASSWORD,
        channel=NotifyChannel.phone,
        party="张师傅 13800000000",
        occurred_at=now - timedelta(minutes=37),
    )
    lockouts.record_rescue_arrival(
        lockout,
        side.technician,
        PASSWORD,
        occurred_at=now - timedelta(minutes=5),
        late_reason="交通拥堵",
    )
    lockouts.record_release(
        lockout, side.technician, PASSWORD, occurred_at=now - timedelta(minutes=2)
    )
    db.session.commit()
    return lockout


def closed_rectification(side: Side) -> tuple[Finding, Record]:
    """A failed patrol item's rectification, then verified; return it and its last step."""
    made = patrol(side, fail="pit_shaft")
    finding = db.session.query(Finding).filter_by(source_record_id=made.id).one()
    for action, user, text in (
        (rectifications.Action.complete, side.officer, "已清理底坑积水"),
        (rectifications.Action.verify, side.director, "复查合格"),
    ):
        step = rectifications.transition(
            finding, action, user, password=PASSWORD, text=text, idempotency_key=token()
        )
        db.session.commit()
    assert isinstance(step, Record)
    return finding, step


def site_registers(side: Side) -> None:
    """Fill every register of the side's site with one entry or more, and commit."""
    site, officer, elevator = side.site, side.officer, side.elevators[0]
    now = now_utc()
    key = SiteKey(site_id=site.id, code="K-01", kind=KeyKind.triangle_key)
    db.session.add(key)
    db.session.flush()
    registers.issue_key(
        site,
        key,
        officer,
        PASSWORD,
        holder=NAMES["technician"],
        certificate_no="T-1234",
        purpose="盘车救援",
        issued_at=now - timedelta(hours=3),
    )
    registers.return_key(
        site, key, officer, PASSWORD, returned_at=now - timedelta(hours=1), note="完好"
    )
    registers.add_shift(
        site,
        officer,
        PASSWORD,
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(hours=6),
        person="刘值班",
        phone="13900000000",
        place="监控室",
    )
    registers.record_video_check(
        site,
        officer,
        PASSWORD,
        checked_at=now - timedelta(hours=1),
        cameras_total=4,
        cameras_working=4,
        oldest_footage=yesterday() - timedelta(days=40),
        note=None,
    )
    registers.record_alarm_test(
        elevator,
        officer,
        PASSWORD,
        tested_at=now - timedelta(hours=1),
        answered=True,
        answered_in_seconds=20,
        answered_by="刘值班",
        talk_clear=True,
        note=None,
    )
    legal.record_addition(
        elevator,
        officer,
        PASSWORD,
        legal.AdditionInput(
            what="advertising",
            description="轿厢广告框",
            location="轿厢左壁",
            installed_on=yesterday(),
            reviewed=True,
            reviewer=NAMES["director"],
            approved=True,
        ),
        now=now,
        idempotency_key=token(),
    )
    legal.record_inspection(
        elevator,
        officer,
        PASSWORD,
        legal.InspectionInput(
            type="inspection",
            inspected_on=yesterday(),
            inspection_body="成都市特种设备检验研究院",
            report_no="JD-2025-0001",
            result="passed",
        ),
        now=now,
        idempotency_key=token(),
    )
    legal.record_plan(
        site,
        officer,
        PASSWORD,
        title="电梯困人应急预案",
        version="V2",
        approved_on=yesterday(),
        approved_by=NAMES["director"],
        summary=None,
        now=now,
    )
    legal.record_drill(
        site,
        officer,
        PASSWORD,
        drill_on=yesterday(),
        done_as_planned=True,
        scenario="困人救援演练",
        participants="物业、维保人员",
        elevators=[elevator],
        lessons=None,
        now=now,
    )
    db.session.commit()


def handed_over(side: Side) -> list[Record]:
    """The side's contractor hands the elevators over to another contractor (the 移交 step)."""
    from elevator_safety.auth.models import OrgKind
    from elevator_safety.handovers import services as handovers
    from elevator_safety.records.models import Handover, HandoverStatus
    from elevator_safety.registry.models import FULL_LEVEL_PLAN
    from tests.factories import make_org

    start = datetime.now(SHANGHAI).date() + timedelta(days=10)
    handover = Handover(
        organisation_id=side.org.id,
        outgoing_contractor_id=side.contractor.id,
        incoming_contractor_id=make_org(OrgKind.contractor, name="新维保电梯工程有限公司").id,
        handover_date=start,
        new_contract_end=start + timedelta(days=364),
        new_level_plan=FULL_LEVEL_PLAN,
        status=HandoverStatus.started,
        checklist={item.code: {"ok": True, "note": "资料齐全"} for item in handovers.CHECKLIST},
        created_by_id=side.admin.id,
        elevators=list(side.elevators),
    )
    db.session.add(handover)
    db.session.flush()
    made = handovers.sign_step(side.manager, handover, handovers.Step.hand_over, PASSWORD)
    db.session.commit()
    return made


def misuse(side: Side) -> Record:
    """A misuse incident seen by the safety officer."""
    act = checklists.prohibited_acts()[0]
    made = legal.record_misuse(
        side.elevators[0],
        side.officer,
        PASSWORD,
        legal.MisuseInput(occurred_at=now_utc(), act=act.code, action="dissuaded", note="乘客扒门"),
        now=now_utc(),
        idempotency_key=token(),
    )
    db.session.commit()
    return made
