"""The jobs: claims, notification after commit, failure rollback, patrol check, periods."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from elevator_safety.compliance import alerts
from elevator_safety.compliance.models import Alert, JobClaim, State
from elevator_safety.extensions import db
from elevator_safety.notifications.models import Notification
from elevator_safety.records.models import Finding, FindingSource
from elevator_safety.scheduler import jobs
from tests.factories import World

NOW = datetime(2026, 11, 28, 2, 7, tzinfo=UTC)  # 10:07 in Shanghai


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_periods_follow_the_local_clock(app: Flask) -> None:
    assert jobs.evaluation_period(NOW) == "2026-11-28T10:00"
    assert jobs.evaluation_period(datetime(2026, 11, 28, 2, 15, tzinfo=UTC)) == "2026-11-28T10:15"
    assert (
        jobs.evaluation_period(datetime(2026, 11, 28, 2, 14, 59, tzinfo=UTC)) == "2026-11-28T10:00"
    )
    # 16:07 UTC on the 27th is already the 28th in Shanghai.
    evening = datetime(2026, 11, 27, 16, 7, tzinfo=UTC)
    assert jobs.evaluation_period(evening) == "2026-11-28T00:00"
    assert jobs.daily_period(evening) == "2026-11-28"
    assert jobs.daily_period(datetime(2026, 11, 27, 15, 59, tzinfo=UTC)) == "2026-11-27"
    app.config["COMPLIANCE_EVALUATION_MINUTES"] = 60
    assert jobs.evaluation_period(NOW) == "2026-11-28T10:00"


def test_evaluate_notifies_after_the_commit(
    app: Flask, world: World, fake_engine, monkeypatch
) -> None:
    elevator = world.own.elevators[0]
    fake_engine((elevator.id, "D3.patrol", State.overdue, None))
    seen_committed: list[int] = []
    real_notify = alerts.notify_raised

    def spy(ids, now=None):  # type: ignore[no-untyped-def]
        # Another connection already sees the alerts: they were committed before notifying.
        with Session(db.engine) as other:
            seen_committed.append(other.scalar(select(func.count(Alert.id))) or 0)
            assert other.scalar(select(func.count(Notification.id))) == 0
        return real_notify(ids, now)

    monkeypatch.setattr(alerts, "notify_raised", spy)
    result = jobs.evaluate_job(NOW)
    assert not result.skipped
    assert result.error is None
    assert result.period == "2026-11-28T10:00"
    assert result.counts["raised"] == 1
    assert result.counts["notified"] == 1
    assert seen_committed == [1]
    notes = db.session.scalars(select(Notification)).all()
    assert [(n.user_id, n.kind, n.link) for n in notes] == [
        (world.own.officer.id, "alert_overdue", f"/elevators/{elevator.id}/patrols/new")
    ]
    alert = db.session.scalars(select(Alert)).one()
    assert alert.notified_at is not None
    claim = db.session.scalars(select(JobClaim)).one()
    assert (claim.job, claim.period, claim.error) == ("evaluate", "2026-11-28T10:00", None)
    assert claim.finished_at is not None
    assert claim.counts["raised"] == 1


def test_second_run_for_the_same_slot_is_skipped(
    app: Flask, world: World, fake_engine, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="elevator_safety")
    calls = fake_engine()
    assert not jobs.evaluate_job(NOW).skipped
    again = jobs.evaluate_job(datetime(2026, 11, 28, 2, 14, tzinfo=UTC))
    assert again.skipped
    assert again.holder
    assert again.holder.count(":") == 1
    assert "already claimed" in caplog.text
    assert "skipped" in caplog.text
    assert len(calls) == 1
    # The next slot runs.
    assert not jobs.evaluate_job(datetime(2026, 11, 28, 2, 15, tzinfo=UTC)).skipped
    assert len(calls) == 2


def test_failed_evaluation_rolls_back_and_notifies_nobody(
    app: Flask, world: World, fake_engine, caplog
) -> None:
    fake_engine((world.own.elevators[0].id, "D3.patrol", State.overdue, None), fail=True)
    result = jobs.evaluate_job(NOW)
    assert result.error == "RuntimeError: engine broke"
    assert count(Alert) == 0
    assert count(Notification) == 0
    claim = db.session.scalars(select(JobClaim)).one()
    assert claim.error == "RuntimeError: engine broke"
    assert claim.finished_at is not None
    assert "failed" in caplog.text


def test_patrol_check_opens_roster_findings_and_evaluates(
    app: Flask, world: World, fake_engine
) -> None:
    calls = fake_engine()
    result = jobs.patrol_check_job(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    assert result.period == "2026-11-28"
    assert result.error is None
    assert len(calls) == 1
    roster = db.session.scalars(select(Finding).where(Finding.source == FindingSource.roster)).all()
    assert result.counts["roster_findings"] == len(roster)
    assert {f.site_id for f in roster} == {world.own.site.id, world.foreign.site.id}
    assert jobs.patrol_check_job(datetime(2026, 11, 28, 13, 0, tzinfo=UTC)).skipped


def test_in_app_context_runs_a_job_by_name(
    app: Flask, world: World, fake_engine, monkeypatch
) -> None:
    fake_engine()
    moments: list[object] = []
    monkeypatch.setitem(jobs.JOBS, "evaluate", lambda now=None: moments.append(now) or "done")
    assert jobs.in_app_context(app, "evaluate") == "done"
    assert moments == [None]


@pytest.mark.parametrize("name", ["evaluate", "patrol_check", "digest"])
def test_every_job_is_listed(name: str) -> None:
    assert callable(jobs.JOBS[name])
