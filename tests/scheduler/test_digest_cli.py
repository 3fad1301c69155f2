"""The digest (outbox, language, SMTP), the scheduler's job table and the CLI."""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from elevator_safety.compliance import digest
from elevator_safety.compliance.models import STATE_LABELS, JobClaim, OutboxMessage, State
from elevator_safety.extensions import db
from elevator_safety.notifications.models import Notification
from elevator_safety.scheduler.cli import build_scheduler, scheduler_cli
from tests.factories import World
from tests.scheduler.conftest import add_alert

NOW = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # 07:30 on the 29th in Shanghai


def test_digest_in_each_users_language_goes_to_the_outbox(app: Flask, world: World, caplog) -> None:
    caplog.set_level(logging.INFO, logger="elevator_safety")
    app.config["PUBLIC_BASE_URL"] = "https://lifts.example.com/"
    own = world.own
    own.officer.locale = "en"
    add_alert(own.elevators[0].id, "D3.patrol", State.overdue)
    add_alert(own.elevators[1].id, "D8.lockout.long", State.overdue)
    add_alert(world.foreign.elevators[0].id, "D3.patrol", State.due_soon, period="x")
    db.session.commit()
    counts = digest.send_digests(NOW)
    assert counts.as_dict() == {"users": 3, "outboxed": 3, "sent": 0, "failed": 0, "no_address": 0}
    rows = {m.user_id: m for m in db.session.scalars(select(OutboxMessage))}
    assert set(rows) == {own.officer.id, own.director.id, world.foreign.officer.id}
    mine = rows[own.officer.id]
    assert mine.to_address == own.officer.email
    assert mine.sent_at is None
    assert mine.subject == "Elevator safety: 2 open alerts on 2026-11-29"
    assert f"https://lifts.example.com/elevators/{own.elevators[0].id}/patrols/new" in mine.body
    assert "[Overdue]" in mine.body
    director = rows[own.director.id]  # installation language (Chinese)
    with force_locale("zh_Hans_CN"):
        chinese = str(STATE_LABELS[State.overdue])
    assert chinese != "Overdue"
    assert f"[{chinese}]" in director.body
    assert "patrols/new" not in director.body  # only the lockout alert escalates
    assert "kept in outbox" in caplog.text


def test_no_digest_without_open_alerts_or_address(app: Flask, world: World) -> None:
    alert = add_alert(world.own.elevators[0].id, "D3.patrol", State.overdue)
    alert.resolved_at = alert.raised_at
    add_alert(world.own.elevators[1].id, "D3.patrol", State.not_applicable)
    db.session.commit()
    assert digest.send_digests(NOW).users == 0
    add_alert(world.own.elevators[0].id, "D3.patrol", State.overdue, period="y")
    world.own.officer.email = None
    world.own.officer.phone = "13800000000"
    db.session.commit()
    counts = digest.send_digests(NOW)
    assert (counts.users, counts.no_address, counts.outboxed) == (1, 1, 0)
    assert db.session.scalars(select(OutboxMessage)).all() == []


class FakeSMTP:
    instances: ClassVar[list[FakeSMTP]] = []
    fail_for: ClassVar[set[str]] = set()

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.sent, self.calls = host, port, [], []
        FakeSMTP.instances.append(self)

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        self.calls.append("quit")

    def starttls(self) -> None:
        self.calls.append("starttls")

    def login(self, user: str, password: str) -> None:
        self.calls.append(f"login {user} {password}")

    def send_message(self, message) -> None:  # type: ignore[no-untyped-def]
        if message["To"] in self.fail_for:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no")})
        self.sent.append(message)


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> type[FakeSMTP]:
    FakeSMTP.instances = []
    FakeSMTP.fail_for = set()
    monkeypatch.setattr(digest.smtplib, "SMTP", FakeSMTP)
    app.config.update(
        MAIL_SERVER="smtp.example.com",
        MAIL_PORT=2525,
        MAIL_USE_TLS=True,
        MAIL_USERNAME="robot",
        MAIL_PASSWORD="pw",
        MAIL_FROM="lifts@example.com",
    )
    return FakeSMTP


def test_smtp_sends_and_marks_sent(app: Flask, world: World, smtp: type[FakeSMTP]) -> None:
    add_alert(world.own.elevators[0].id, "D8.lockout.long", State.overdue)
    db.session.commit()
    smtp.fail_for = {world.own.director.email or ""}
    counts = digest.send_digests(NOW)
    assert (counts.outboxed, counts.sent, counts.failed) == (2, 1, 1)
    [server] = smtp.instances
    assert (server.host, server.port) == ("smtp.example.com", 2525)
    assert server.calls == ["starttls", "login robot pw", "quit"]
    [sent] = server.sent
    assert sent["To"] == world.own.officer.email
    assert sent["From"] == "lifts@example.com"
    rows = {m.user_id: m for m in db.session.scalars(select(OutboxMessage))}
    assert rows[world.own.officer.id].sent_at is not None
    failed = rows[world.own.director.id]
    assert failed.sent_at is None
    assert failed.error


def test_unreachable_smtp_keeps_the_outbox(app: Flask, world: World, smtp, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def refuse(*args: object, **kw: object) -> None:
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(digest.smtplib, "SMTP", refuse)
    add_alert(world.own.elevators[0].id, "D3.patrol", State.overdue)
    db.session.commit()
    counts = digest.send_digests(NOW)
    assert (counts.outboxed, counts.sent, counts.failed) == (1, 0, 1)
    row = db.session.scalars(select(OutboxMessage)).one()
    assert row.sent_at is None
    assert "refused" in (row.error or "")


def test_job_table(app: Flask) -> None:
    app.config.update(
        COMPLIANCE_EVALUATION_MINUTES=10,
        PATROL_CHECK_TIME="19:45",
        DIGEST_TIME="07:30",
        SCHEDULER_MISFIRE_GRACE_SECONDS=900,
    )
    scheduler = build_scheduler(app)
    assert str(scheduler.timezone) == "Asia/Shanghai"
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"evaluate", "patrol_check", "digest", "exports"}
    for job in jobs.values():
        assert job.misfire_grace_time == 900
        assert job.coalesce
        assert job.max_instances == 1
        assert job.args[0] is app
        assert job.args[1] == job.id
    evaluate = jobs["evaluate"]
    assert isinstance(evaluate.trigger, IntervalTrigger)
    assert evaluate.trigger.interval.total_seconds() == 600
    assert evaluate.next_run_time is not None  # the first evaluation runs at once
    exports = jobs["exports"].trigger
    assert isinstance(exports, IntervalTrigger)
    assert exports.interval.total_seconds() == 60
    for name, (hour, minute) in (("patrol_check", ("19", "45")), ("digest", ("7", "30"))):
        trigger = jobs[name].trigger
        assert isinstance(trigger, CronTrigger)
        assert str(trigger.timezone) == "Asia/Shanghai"
        fields = {f.name: str(f) for f in trigger.fields}
        assert (fields["hour"], fields["minute"]) == (hour, minute)
    assert not scheduler.running


def test_run_once_end_to_end_and_again_skipped(cli_app: Flask, world: World) -> None:
    """A real evaluation: an elevator without today's patrol gets an alert, a note, a digest."""
    cli_app.config["ALERT_NOTIFY_INDIVIDUAL_MAX"] = 1000  # one note per alert, to follow its link
    world.own.officer.locale = "en"
    for registered in world.own.elevators:  # registered before the evaluated day, whatever today is
        registered.created_at = datetime(2026, 11, 1, tzinfo=UTC)
    db.session.commit()
    runner = cli_app.test_cli_runner()
    result = runner.invoke(args=["scheduler", "run-once", "--now", "2026-11-29T21:00"])
    assert result.exit_code == 0, result.output
    assert "evaluate 2026-11-29T21:00: raised=" in result.output
    assert "patrol_check 2026-11-29: " in result.output
    assert "digest 2026-11-29: users=" in result.output
    elevator = world.own.elevators[0]
    from elevator_safety.compliance.models import Alert

    patrol = db.session.scalars(
        select(Alert).where(
            Alert.elevator_id == elevator.id,
            Alert.rule == "D3.patrol",
            Alert.period == "2026-11-29",
        )
    ).one()
    assert patrol.state == State.due_soon  # 21:00 local: after the due hour, the day not over
    assert patrol.is_open
    assert patrol.notified_at is not None
    notes = db.session.scalars(
        select(Notification).where(Notification.user_id == world.own.officer.id)
    ).all()
    assert any(n.link == f"/elevators/{elevator.id}/patrols/new" for n in notes)
    mail = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.user_id == world.own.officer.id)
    ).one()
    assert mail.subject.startswith("Elevator safety: ")
    assert "2026-11-29" in mail.subject
    assert f"/elevators/{elevator.id}/patrols/new" in mail.body

    again = runner.invoke(args=["scheduler", "run-once", "--now", "2026-11-29T21:05+08:00"])
    assert again.exit_code == 0, again.output
    assert again.output.count("skipped (already claimed by ") == 3
    claims = db.session.scalars(select(JobClaim).order_by(JobClaim.id)).all()
    assert [(c.job, c.period) for c in claims] == [
        ("evaluate", "2026-11-29T21:00"),
        ("patrol_check", "2026-11-29"),
        ("digest", "2026-11-29"),
    ]


def test_run_once_refuses_a_bad_time(cli_app: Flask) -> None:
    result = cli_app.test_cli_runner().invoke(args=["scheduler", "run-once", "--now", "yesterday"])
    assert result.exit_code == 2
    assert "not an ISO date-time" in result.output
    assert db.session.scalars(select(JobClaim)).all() == []


def test_run_once_reports_a_failure(cli_app: Flask, world: World, fake_engine) -> None:
    fake_engine(fail=True)
    result = cli_app.test_cli_runner().invoke(
        scheduler_cli, ["run-once", "--now", "2026-11-29T08:00+08:00"]
    )
    assert result.exit_code == 1
    assert "evaluate 2026-11-29T08:00: FAILED: RuntimeError: engine broke" in result.output


def test_exports_job_builds_queued_exports_and_purges_expired(
    app: Flask, world: World, tmp_path: Path
) -> None:
    """The scheduler's exports job builds a queued export, and deletes it once expired."""
    from elevator_safety.desk.models import ExportJob, ExportStatus
    from elevator_safety.scheduler.jobs import exports_job

    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    site = world.own.site
    job = ExportJob(
        requested_by_id=world.own.director.id,
        organisation_id=world.own.org.id,
        site_id=site.id,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
    )
    db.session.add(job)
    db.session.commit()
    first = exports_job(NOW)
    assert first.counts == {"stalled": 0, "purged": 0, "built": 1}
    db.session.refresh(job)
    assert job.status == ExportStatus.done
    assert job.file_name
    assert (tmp_path / "exports" / job.file_name).exists()
    assert job.expires_at is not None
    later = exports_job(job.expires_at + timedelta(minutes=1))
    assert later.counts == {"stalled": 0, "purged": 1, "built": 0}
    db.session.refresh(job)
    assert job.status == ExportStatus.expired
    assert not (tmp_path / "exports" / job.file_name).exists()
