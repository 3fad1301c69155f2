"""Create benchmark databases, fill them, measure the compliance engine and print the figures.

Sizes come from the environment: BENCH_PG_ELEVATORS (default 100000),
BENCH_SQLITE_ELEVATORS (default 10000), BENCH_DAYS (default 30); set one to 0
to skip that database. PostgreSQL is the server of TEST_DATABASE_URL (or the
local one); the run creates ``bench_<pid>`` there and drops it afterwards.

Then, each in databases of its own: patrol submission over HTTP (bench.http),
the dashboard pages at BENCH_PAGES_ELEVATORS (default 20000, bench.pages) and
the PDF documents at BENCH_REPORTS_ELEVATORS (default 10000, bench.reports).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.http import run_http
from bench.pages import run_pages
from bench.reports import run_reports, sizes_from_env
from bench.scratch import scratch_postgres
from elevator_safety import create_app
from elevator_safety.bench.generate import generate
from elevator_safety.compliance.engine import RULES
from elevator_safety.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
EVALUATE_TARGET_S = 3.0  # on PostgreSQL at 100,000 elevators
BASELINE_RATIO_TARGET = 3.0
RSS_TARGET_MB = 300.0


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def fill(url: str, elevators: int, days: int) -> float:
    """Migrate the database at url and generate the city; return the seconds it took."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        started = time.perf_counter()
        summary = generate(elevators, days, seed=1)
        seconds = time.perf_counter() - started
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    print(
        f"  generated {summary.elevators} elevators, {summary.records} records, "
        f"{summary.signatures} signatures in {seconds:.1f} s"
    )
    return seconds


def measure(url: str) -> dict[str, float]:
    """Measure in a fresh process (see bench/measure.py)."""
    out = subprocess.run(  # noqa: S603 - our own module, no shell
        [sys.executable, "-m", "bench.measure", url],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def scheduler_peak(url: str) -> dict[str, Any]:
    """Run the scheduler's evaluation job in a fresh process (see bench/scheduler_peak.py)."""
    out = subprocess.run(  # noqa: S603 - our own module, no shell
        [sys.executable, "-m", "bench.scheduler_peak", url],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def report_scheduler(label: str, elevators: int, figures: dict[str, Any]) -> None:
    """Print the scheduler job's peak memory with its target."""
    peak = float(figures["rss_peak_mb"])
    counts = figures.get("counts") or {}
    print(
        f"scheduler process, evaluate job with notifications ({label}, {elevators} elevators): "
        f"{float(figures['job_s']):.2f} s, raised {counts.get('raised', '?')}, "
        f"notified {counts.get('notified', '?')}; peak RSS {peak:.0f} MB  "
        f"target <= {RSS_TARGET_MB:g} MB  {verdict(peak <= RSS_TARGET_MB and not figures['error'])}"
    )


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def report(label: str, elevators: int, figures: dict[str, float], target_s: float | None) -> None:
    """Print each figure with its target and the ratio to the baseline."""
    where = f"({label}, {elevators} elevators)"
    base = figures["baseline_s"]
    ratio = figures["evaluate_s"] / base if base else float("inf")
    print(f"baseline grouped patrol scan {where}: {base:.3f} s")
    print(
        f"evaluate, first run {where}: {figures['first_s']:.2f} s  "
        f"({int(figures['first_raised'])} alerts raised)"
    )
    if "rules_only_s" in figures:
        print(
            f"the {len(RULES)} rule selects alone {where}: {figures['rules_only_s']:.2f} s  "
            f"({int(figures['violation_rows'])} rows; the rest is keeping the alerts in step)"
        )
    time_part = f"{figures['evaluate_s']:.2f} s"
    ok = ratio <= BASELINE_RATIO_TARGET
    if target_s is not None:
        time_part += f"  target <= {target_s:g} s"
        ok = ok and figures["evaluate_s"] <= target_s
    print(
        f"evaluate, median of 3 {where}: {time_part}  ratio to baseline {ratio:.1f}x  "
        f"target <= {BASELINE_RATIO_TARGET:g}x  {verdict(ok)}"
    )
    peak = figures["rss_peak_mb"]
    print(
        f"peak RSS of the evaluating process {where}: {peak:.0f} MB "
        f"(before evaluating {figures['rss_before_mb']:.0f} MB)  target <= {RSS_TARGET_MB:g} MB  "
        f"{verdict(peak <= RSS_TARGET_MB)}"
    )


def postgres_admin() -> str | None:
    """Return the admin URL of a reachable PostgreSQL server, or None."""
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:
        print(f"PostgreSQL not reachable ({type(error).__name__}): skipped")
        return None
    finally:
        engine.dispose()
    return url


def main() -> int:
    # Ctrl-C or a kill still drops the PostgreSQL database (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    days = _env_int("BENCH_DAYS", 30)
    pg_size = _env_int("BENCH_PG_ELEVATORS", 100_000)
    sqlite_size = _env_int("BENCH_SQLITE_ELEVATORS", 10_000)
    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    results: dict[str, dict[str, float]] = {}
    if pg_size:
        admin_url = postgres_admin()
        if admin_url:
            with scratch_postgres(admin_url, "bench") as url:
                print(f"PostgreSQL: {pg_size} elevators x {days} days")
                fill(url, pg_size, days)
                results["PostgreSQL"] = measure(url)
                target = EVALUATE_TARGET_S if pg_size >= 100_000 else None
                report("PostgreSQL", pg_size, results["PostgreSQL"], target)
                report_scheduler("PostgreSQL", pg_size, scheduler_peak(url))
    if sqlite_size:
        with tempfile.TemporaryDirectory(prefix="bench-") as folder:
            url = f"sqlite:///{folder}/bench.sqlite"
            print(f"SQLite: {sqlite_size} elevators x {days} days")
            fill(url, sqlite_size, days)
            results["SQLite"] = measure(url)
            report("SQLite", sqlite_size, results["SQLite"], None)
            report_scheduler("SQLite", sqlite_size, scheduler_peak(url))
    http_admin = postgres_admin()
    if http_admin:
        results["HTTP"] = run_http(http_admin)
    pages_size = _env_int("BENCH_PAGES_ELEVATORS", 20_000)
    if pages_size and (pages_admin := postgres_admin()):
        results["Dashboard pages"] = run_pages(pages_admin, pages_size, days)
    reports_size = sizes_from_env().elevators
    if reports_size:
        results["Documents"] = run_reports(postgres_admin(), reports_size)
    return 0
