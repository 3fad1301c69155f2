"""The benchmark's scheduler-process measurement runs the real evaluation job."""

from __future__ import annotations

from sqlalchemy import func, select

from bench.scheduler_peak import main
from elevator_safety.compliance.models import Alert, JobClaim
from elevator_safety.extensions import db
from tests.factories import World


def test_runs_the_evaluate_job_and_reports_its_peak(database_uri: str, world: World) -> None:
    figures = main(database_uri)
    assert figures["skipped"] is False
    assert figures["error"] is None
    counts = figures["counts"]
    assert isinstance(counts, dict)
    assert int(counts["raised"]) > 0
    assert float(figures["rss_peak_mb"]) > 0  # type: ignore[arg-type]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Alert.id))) == int(counts["still_open"])
    assert db.session.scalar(select(JobClaim.job)) == "evaluate"
