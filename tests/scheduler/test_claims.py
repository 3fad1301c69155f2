"""Claims: one winner per (job, period), also when two workers race."""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import select

from elevator_safety.compliance.models import JobClaim
from elevator_safety.extensions import db
from elevator_safety.scheduler import claims


def test_second_claim_of_a_period_loses(app: Flask) -> None:
    first = claims.claim("evaluate", "2026-11-28T10:00")
    assert first is not None
    assert first.worker == claims.worker_name()
    assert claims.claim("evaluate", "2026-11-28T10:00") is None
    # Another job or another period is free.
    assert claims.claim("digest", "2026-11-28T10:00") is not None
    assert claims.claim("evaluate", "2026-11-28T10:15") is not None
    assert db.session.scalar(select(JobClaim.worker).where(JobClaim.id == first.id))


def test_claim_commits_on_its_own_and_finish_records_counts(app: Flask) -> None:
    row = claims.claim("digest", "2026-11-28")
    assert row is not None
    db.session.rollback()  # the caller's rollback does not undo a claim
    claims.finish(row, {"users": 2})
    stored = claims.holder("digest", "2026-11-28")
    assert stored is not None
    assert stored.counts == {"users": 2}
    assert stored.finished_at is not None
    assert stored.error is None
    claims.finish(row, {}, error="boom")
    stored = claims.holder("digest", "2026-11-28")
    assert stored is not None
    assert stored.error == "boom"
    assert claims.holder("digest", "2026-11-29") is None


def test_two_concurrent_claims_one_wins(app: Flask) -> None:
    barrier = threading.Barrier(2)
    results: list[object] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait()
                results.append(claims.claim("evaluate", "2026-11-28T10:30"))
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 2
    assert sum(r is not None for r in results) == 1
    assert len(db.session.scalars(select(JobClaim)).all()) == 1
