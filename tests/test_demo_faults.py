"""The demo's faults, rectifications and duty registers (demo/faults.py)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from elevator_safety.auth.models import User
from elevator_safety.demo import data, faults, history
from elevator_safety.extensions import db
from elevator_safety.legal.services import certificates_expiring
from elevator_safety.lockouts import services as lockouts
from elevator_safety.lockouts.models import Lockout, LockoutStatus
from elevator_safety.public.models import PublicReport, ReportStatus
from elevator_safety.records.models import Finding, FindingSource, FindingStatus, RecordKind
from elevator_safety.records.services import verify
from elevator_safety.registers import services as registers
from elevator_safety.registers.chain import verify_sites
from elevator_safety.registers.models import RegisterEntry, RegisterKind
from elevator_safety.registry.models import ElevatorStatus, Site
from elevator_safety.scoping import local_today
from tests.test_demo_history import elevator, of_kind


def load_at_hour(app, hour: int) -> datetime:  # type: ignore[no-untyped-def]
    today = local_today()
    now = datetime.combine(today, time(hour), history.ZONE).astimezone(UTC)
    password = app.config["DEMO_PASSWORD"]
    data.load(today, password)
    history.load(today, now, password)
    db.session.commit()
    return now


def test_lockouts_entrapments_and_rectifications(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output

    (still_open,) = db.session.scalars(select(Lockout).where(Lockout.status == "open"))
    key, _day = faults.OPEN_LOCKOUT
    assert still_open.elevator_id == elevator(key).id
    assert still_open.elevator.status == ElevatorStatus.out_of_service
    assert still_open.notice_posted_at
    assert still_open.notified_at
    assert still_open.repaired_at is None  # waiting for a part: no return to service yet

    trapped = db.session.scalars(select(Lockout).where(Lockout.entrapment.is_(True))).all()
    assert {t.status for t in trapped} == {LockoutStatus.returned}
    late = {t.elevator_id: lockouts.rescue_late(t) for t in trapped}
    city, county = elevator(faults.LATE_ENTRAPMENT[0]), elevator(faults.COUNTY_ENTRAPMENT[0])
    assert late == {city.id: True, county.id: False}
    assert {t.elevator_id: t.rescue_limit_minutes for t in trapped} == {city.id: 30, county.id: 60}
    for lockout in trapped:
        assert lockout.elevator.status == ElevatorStatus.in_service

    states = set(db.session.scalars(select(Finding.status).distinct()))
    assert states == set(FindingStatus)
    from_report = db.session.scalars(
        select(Finding).where(Finding.source == FindingSource.inspection)
    ).all()
    assert len(from_report) == 2
    (report,) = of_kind(RecordKind.inspection)
    assert [i["description"] for i in report.data["body"]["items"]] == [
        f.description for f in sorted(from_report, key=lambda f: f.id)
    ]

    reports = {r.status for r in db.session.scalars(select(PublicReport))}
    assert reports == {ReportStatus.pending, ReportStatus.dismissed}
    assert of_kind(RecordKind.addition)
    assert of_kind(RecordKind.misuse)
    assert len(of_kind(RecordKind.alarm_test)) >= 5
    assert verify().ok
    assert verify_sites().ok


def test_keys_roster_video_and_certificates(app):
    now = load_at_hour(app, 10)
    donghu = db.session.scalar(select(Site).where(Site.name == "东湖花园"))
    issues = db.session.scalars(
        select(RegisterEntry).where(RegisterEntry.kind == RegisterKind.key_issue)
    ).all()
    assert len(issues) == 4
    (out,) = registers.keys_not_returned([donghu.id], now)
    assert out.key.code == "SJ-02"

    gaps = [(day, g) for day, g in registers.site_roster_gaps(donghu, 7, now) if g]
    assert len(gaps) == 1
    day, (gap,) = gaps[0]
    assert day == local_today(now) + timedelta(days=2)
    local = [moment.astimezone(history.ZONE).time() for moment in gap]
    assert local == [time(8), time(16)]

    video = db.session.scalars(
        select(Finding).where(Finding.source == FindingSource.video_check)
    ).all()
    assert [f.site_id for f in video] == [donghu.id]

    manager = db.session.scalar(select(User).where(User.email == "manager@anshun.demo"))
    expiring = certificates_expiring(manager, today=local_today(now))
    assert [c.user.email for c in expiring] == ["tech2@anshun.demo"]
    officer = db.session.scalar(select(User).where(User.email == "admin@rongcheng.demo"))
    assert certificates_expiring(officer, today=local_today(now)) == []
