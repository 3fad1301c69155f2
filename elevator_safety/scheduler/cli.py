"""``flask scheduler run`` and ``flask scheduler run-once``: the one scheduler process.

Run exactly one ``flask scheduler run`` next to the web workers; never start
the scheduler inside create_app (every gunicorn worker would run the jobs).
Claims make a second process harmless anyway: it skips what is claimed.
"""

from __future__ import annotations

import logging
import signal
import sys
from datetime import datetime
from types import FrameType
from zoneinfo import ZoneInfo

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app
from flask.cli import with_appcontext

from elevator_safety.scheduler import jobs

log = logging.getLogger(__name__)


def _hour_minute(value: str) -> tuple[int, int]:
    hour, minute = value.split(":")
    return int(hour), int(minute)


def build_scheduler(app: Flask) -> BlockingScheduler:
    """Return the scheduler with its four jobs (not started); the first evaluation runs at once."""
    config = app.config
    zone = ZoneInfo(config["TIMEZONE"])
    scheduler = BlockingScheduler(timezone=zone)
    common = {
        "misfire_grace_time": int(config["SCHEDULER_MISFIRE_GRACE_SECONDS"]),
        "coalesce": True,
        "max_instances": 1,
        "replace_existing": True,
    }
    scheduler.add_job(
        jobs.in_app_context,
        IntervalTrigger(minutes=int(config["COMPLIANCE_EVALUATION_MINUTES"]), timezone=zone),
        args=[app, "evaluate"],
        id="evaluate",
        name="compliance evaluation",
        next_run_time=datetime.now(zone),
        **common,
    )
    scheduler.add_job(
        jobs.in_app_context,
        IntervalTrigger(minutes=1, timezone=zone),
        args=[app, "exports"],
        id="exports",
        name="bulk exports",
        **common,
    )
    for name, key, label in (
        ("patrol_check", "PATROL_CHECK_TIME", "evening patrol check"),
        ("digest", "DIGEST_TIME", "morning digest"),
    ):
        hour, minute = _hour_minute(config[key])
        scheduler.add_job(
            jobs.in_app_context,
            CronTrigger(hour=hour, minute=minute, timezone=zone),
            args=[app, name],
            id=name,
            name=label,
            **common,
        )
    return scheduler


@click.group("scheduler")
def scheduler_cli() -> None:
    """Run the scheduler (evaluation, patrol check, digest)."""


@scheduler_cli.command("run")
@with_appcontext
def run() -> None:
    """Start the one scheduler process (blocks; Ctrl-C or SIGTERM stops it)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    logging.getLogger("elevator_safety").setLevel(logging.INFO)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app)

    def stop(signum: int, _frame: FrameType | None) -> None:
        if scheduler.running:  # Ctrl-C in make run sends SIGINT, then serve.sh SIGTERM
            log.info("scheduler stopping (signal %s)", signum)
            scheduler.shutdown(wait=True)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    log.info(
        "scheduler started in %s: evaluation every %s min, patrol check at %s, digest at %s",
        app.config["TIMEZONE"],
        app.config["COMPLIANCE_EVALUATION_MINUTES"],
        app.config["PATROL_CHECK_TIME"],
        app.config["DIGEST_TIME"],
    )
    scheduler.start()
    log.info("scheduler stopped")


def parse_now(value: str | None) -> datetime | None:
    """Return an aware moment from ISO text (naive text is in the installation's zone)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO date-time: {value}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    return moment


@scheduler_cli.command("run-once")
@click.option("--now", "now_text", metavar="ISO-TIME", help="Run as of this time (default: now).")
@with_appcontext
def run_once(now_text: str | None) -> None:
    """Run every job once (evaluation, patrol check, digest, exports) and print what each did."""
    now = parse_now(now_text)
    failed = False
    for name, job in jobs.JOBS.items():
        result = job(now)
        if result.skipped:
            click.echo(f"{name} {result.period}: skipped (already claimed by {result.holder})")
        elif result.error:
            failed = True
            click.echo(f"{name} {result.period}: FAILED: {result.error}", err=True)
        else:
            counts = ", ".join(f"{k}={v}" for k, v in result.counts.items())
            click.echo(f"{name} {result.period}: {counts}")
    if failed:
        sys.exit(1)
