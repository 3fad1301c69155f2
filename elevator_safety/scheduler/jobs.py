"""The scheduler's jobs: module-level, idempotent, each claiming its (job, period) first.

* ``evaluate`` (every COMPLIANCE_EVALUATION_MINUTES): period = the local
  time slot, e.g. ``2026-11-28T10:15``; runs the compliance engine, commits,
  THEN notifies the people concerned by the alerts it raised.
* ``patrol_check`` (daily at PATROL_CHECK_TIME): period = the local date;
  evaluates too (the evening pass that raises "no patrol today"), opens D6
  roster-gap rectifications for every site, commits, then notifies.
* ``digest`` (daily at DIGEST_TIME): period = the local date; one e-mail (or
  outbox row) per user with open alerts.

* ``exports`` (every minute): marks failed the running exports whose worker
  died (no progress for EXPORT_STALE_MINUTES), deletes expired bulk exports,
  then builds the queued ones oldest first (desk/services.py). It takes no (job, period)
  claim: each export is claimed by its own atomic update, so two schedulers
  never build the same one.

A job whose (job, period) is already claimed logs "already claimed" and is
skipped. Each run logs its start, duration and counts and records them on its
claim. The jobs run inside the caller's app context; the scheduler process
wraps them with ``in_app_context``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import select

from elevator_safety.compliance import alerts, digest
from elevator_safety.db import now_utc
from elevator_safety.desk import services as desk_services
from elevator_safety.extensions import db
from elevator_safety.registers.services import record_roster_gap_findings
from elevator_safety.registry.models import Site
from elevator_safety.scheduler import claims

log = logging.getLogger(__name__)


@dataclass
class JobResult:
    """What one job run did (or that it was skipped)."""

    job: str
    period: str
    skipped: bool = False
    #: Who holds the claim when skipped.
    holder: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def evaluation_period(now: datetime) -> str:
    """Return the evaluation slot of a moment: local time floored to the interval."""
    minutes = int(current_app.config["COMPLIANCE_EVALUATION_MINUTES"])
    local = now.astimezone(_zone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = int((local - midnight).total_seconds() // 60)
    slot = midnight + timedelta(minutes=elapsed - elapsed % minutes)
    return slot.strftime("%Y-%m-%dT%H:%M")


def daily_period(now: datetime) -> str:
    """Return the local date of a moment, the period of a daily job."""
    return now.astimezone(_zone()).date().isoformat()


def run_evaluation(now: datetime) -> tuple[list[int], dict[str, Any]]:
    """Run the compliance engine in the session (no commit); return raised ids and counts."""
    from elevator_safety.compliance import engine

    result = engine.evaluate(now)
    return list(result.raised), {
        "raised": len(result.raised),
        "resolved": len(result.resolved),
        "still_open": result.still_open,
        "rules": result.rules,
    }


def _run(job: str, period: str, body: Callable[[], dict[str, Any]]) -> JobResult:
    """Claim (job, period), run the body, record its counts or error on the claim."""
    claim = claims.claim(job, period)
    if claim is None:
        held = claims.holder(job, period)
        return JobResult(job, period, skipped=True, holder=held.worker if held else None)
    log.info("job %s for period %s started by %s", job, period, claim.worker)
    started = time.monotonic()
    try:
        counts = body()
    except Exception as exc:
        db.session.rollback()
        error = f"{type(exc).__name__}: {exc}"
        claims.finish(claim, {}, error=error[:2000])
        log.exception(
            "job %s for period %s failed after %.2f s", job, period, time.monotonic() - started
        )
        return JobResult(job, period, error=error)
    seconds = round(time.monotonic() - started, 3)
    claims.finish(claim, counts | {"seconds": str(seconds)})
    log.info("job %s for period %s done in %.2f s: %s", job, period, seconds, counts)
    return JobResult(job, period, counts=counts)


def _evaluate_and_notify(now: datetime) -> dict[str, Any]:
    raised, counts = run_evaluation(now)
    db.session.commit()  # notifications only after the commit that raised them
    counts["notified"] = alerts.notify_raised(raised, now)
    return counts


def evaluate_job(now: datetime | None = None) -> JobResult:
    """Evaluate every rule for the current slot, commit, then notify."""
    moment = now or now_utc()
    return _run("evaluate", evaluation_period(moment), lambda: _evaluate_and_notify(moment))


def _patrol_check(now: datetime) -> dict[str, Any]:
    gaps = 0
    for site in db.session.scalars(select(Site).order_by(Site.id)):
        gaps += len(record_roster_gap_findings(site, now, None))
    raised, counts = run_evaluation(now)
    db.session.commit()
    counts["roster_findings"] = gaps
    counts["notified"] = alerts.notify_raised(raised, now)
    return counts


def patrol_check_job(now: datetime | None = None) -> JobResult:
    """The evening check: roster-gap findings for every site, an evaluation, notifications."""
    moment = now or now_utc()
    return _run("patrol_check", daily_period(moment), lambda: _patrol_check(moment))


def digest_job(now: datetime | None = None) -> JobResult:
    """The morning digest: one message per user with open alerts."""
    moment = now or now_utc()
    return _run("digest", daily_period(moment), lambda: digest.send_digests(moment).as_dict())


def exports_job(now: datetime | None = None) -> JobResult:
    """Delete the expired bulk exports, then build every queued one."""
    moment = now or now_utc()
    started = time.monotonic()
    try:
        stalled = desk_services.fail_stalled(moment)
        purged = desk_services.purge_expired(moment)
        built = desk_services.run_pending_exports()
    except Exception as exc:
        db.session.rollback()
        log.exception("job exports failed")
        return JobResult("exports", moment.isoformat(), error=f"{type(exc).__name__}: {exc}")
    counts = {"stalled": stalled, "purged": purged, "built": built}
    if stalled or purged or built:
        log.info("job exports done in %.2f s: %s", time.monotonic() - started, counts)
    return JobResult("exports", moment.isoformat(), counts=counts)


#: The jobs by name, in the order ``run-once`` runs them.
JOBS: dict[str, Callable[..., JobResult]] = {
    "evaluate": evaluate_job,
    "patrol_check": patrol_check_job,
    "digest": digest_job,
    "exports": exports_job,
}


def in_app_context(app: Flask, name: str) -> JobResult:
    """Run a job by name inside its own app context (what the scheduler calls)."""
    with app.app_context():
        try:
            return JOBS[name]()
        finally:
            db.session.remove()
