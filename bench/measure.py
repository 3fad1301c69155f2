"""Measure one database in a fresh process: ``python -m bench.measure URL``.

A fresh process is what the scheduler is, so its peak resident set size
(``VmHWM`` of /proc/self/status, bench/memory.py; the whole process: interpreter,
app and evaluation) is the figure the 300 MB target is about. Prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from sqlalchemy import func, select, text

from bench.memory import peak_rss_mb
from elevator_safety import create_app
from elevator_safety.compliance import engine
from elevator_safety.compliance.base import Context
from elevator_safety.compliance.models import Alert
from elevator_safety.db import now_utc
from elevator_safety.extensions import db

BASELINE = (
    "SELECT elevator_id, max(occurred_on) FROM records WHERE kind = 'patrol' GROUP BY elevator_id"
)
RUNS = 3


def peak_mb() -> float:
    """Return the process's own peak resident set size in MB (bench/memory.py)."""
    return peak_rss_mb()


def measure(url: str) -> dict[str, float | int]:
    """Time the baseline scan and the full evaluation on the database at url."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        db.session.execute(text(BASELINE)).all()  # warm the cache like the evaluation's first run
        baseline = []
        for _ in range(RUNS):
            started = time.perf_counter()
            rows = db.session.execute(text(BASELINE)).all()
            baseline.append(time.perf_counter() - started)
        rss_before = peak_mb()
        now = now_utc()
        started = time.perf_counter()
        result = engine.evaluate(now)
        db.session.commit()
        first = time.perf_counter() - started
        raised = len(result.raised)
        runs = []
        for _ in range(RUNS):
            started = time.perf_counter()
            engine.evaluate(now_utc())
            db.session.commit()
            runs.append(time.perf_counter() - started)
        alerts = db.session.scalar(select(func.count(Alert.id))) or 0
        # The rules' selects alone (what evaluate runs before keeping the alerts in step).
        ctx = Context.current(now_utc())
        started = time.perf_counter()
        violations = sum(len(db.session.execute(rule.query(ctx)).all()) for rule in engine.RULES)
        rules_only = time.perf_counter() - started
        db.engine.dispose()
    return {
        "baseline_s": statistics.median(baseline),
        "baseline_rows": len(rows),
        "first_s": first,
        "first_raised": raised,
        "evaluate_s": statistics.median(runs),
        "rules_only_s": rules_only,
        "violation_rows": violations,
        "open_alerts": result.still_open,
        "alerts": alerts,
        "rss_before_mb": rss_before,
        "rss_peak_mb": peak_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1])))
