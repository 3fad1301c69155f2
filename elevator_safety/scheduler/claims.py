"""Job claims: only one process runs a job for a given period.

Before a job runs it inserts ``JobClaim(job, period)``; the unique key on
(job, period) lets exactly one insert succeed. A second scheduler started by
mistake (or a second ``run-once`` for the same time) loses the race, logs
"already claimed" and skips. Claims are written in their own short
transaction, on their own connection, so they are visible to other processes
at once and never commit the caller's work.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from elevator_safety.compliance.models import JobClaim
from elevator_safety.db import now_utc
from elevator_safety.extensions import db

log = logging.getLogger(__name__)


def worker_name() -> str:
    """Return who is claiming: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _session() -> Session:
    return Session(bind=db.engine, expire_on_commit=False)


def claim(job: str, period: str) -> JobClaim | None:
    """Claim (job, period) and commit; return None when another worker has it."""
    worker = worker_name()
    with _session() as session:
        row = JobClaim(job=job, period=period, worker=worker, claimed_at=now_utc(), counts={})
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            holder = session.scalar(
                select(JobClaim.worker).where(JobClaim.job == job, JobClaim.period == period)
            )
            log.info("job %s for period %s already claimed by %s: skipped", job, period, holder)
            return None
        session.expunge(row)
        return row


def holder(job: str, period: str) -> JobClaim | None:
    """Return the claim on (job, period), if any."""
    with _session() as session:
        row = session.scalar(select(JobClaim).where(JobClaim.job == job, JobClaim.period == period))
        if row is not None:
            session.expunge(row)
        return row


def finish(claim_row: JobClaim, counts: dict[str, Any], error: str | None = None) -> None:
    """Record the end of a claimed run: its counts, or its error (the claim stays)."""
    finished = now_utc()
    with _session() as session:
        session.execute(
            update(JobClaim)
            .where(JobClaim.id == claim_row.id)
            .values(finished_at=finished, counts=counts, error=error)
        )
        session.commit()
    claim_row.finished_at = finished
    claim_row.counts = counts
    claim_row.error = error
