"""The scheduler's evaluation job in a fresh process: ``python -m bench.scheduler_peak URL``.

Runs ``scheduler.jobs.evaluate_job`` (claim, evaluation of every rule, commit,
notifications of the raised alerts) as the scheduler process does, and prints
one JSON line with its duration, its counts and the process's peak resident
set size (``VmHWM``, bench/memory.py: interpreter, app, evaluation and notifications).
"""

from __future__ import annotations

import json
import sys
import time

from bench.memory import peak_rss_mb
from elevator_safety import create_app
from elevator_safety.extensions import db
from elevator_safety.scheduler import jobs


def main(url: str) -> dict[str, object]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        started = time.perf_counter()
        result = jobs.evaluate_job()
        seconds = time.perf_counter() - started
        db.engine.dispose()
    return {
        "job_s": seconds,
        "skipped": result.skipped,
        "error": result.error,
        "counts": result.counts,
        "rss_peak_mb": peak_rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), default=str))
