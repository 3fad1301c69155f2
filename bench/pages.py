"""Measure the server time of the two dashboard pages on one district of generated elevators.

The issue's target: the safety director's matrix (``/dashboards/matrix``) and
the regulator's district overview (``/dashboards/district``) for a district of
20,000 elevators answer with a median of at most 150 ms and a 95th percentile
of at most 300 ms of server time.

``run_pages`` creates its own PostgreSQL database, fills it with the bulk
generator (one property company and one district holding every elevator, one
compliance evaluation so that there are alerts, a regulator of that district),
then times GETs of each page through the Flask test client in this process:
``time.perf_counter()`` around ``client.get`` is the whole server time (routing,
queries, template) without any network. ``GET /healthz`` timed the same way in
the same run is the baseline the ratios are given against. The database is
dropped at the end, also after an error or SIGTERM.

Run alone with ``python -m bench.pages``; sizes from BENCH_PAGES_ELEVATORS
(default 20000, 0 skips) and BENCH_DAYS (default 30).
"""

from __future__ import annotations

import gc
import math
import os
import signal
import statistics
import sys
import time
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from bench.scratch import scratch_postgres
from elevator_safety import create_app
from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.bench.generate import ELEVATORS_PER_SITE, PASSWORD, generate
from elevator_safety.compliance import engine
from elevator_safety.compliance.models import Alert
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.registry.models import Site

ROOT = Path(__file__).resolve().parent.parent
#: The pages measured, by the label printed.
PAGES = {"matrix": "/dashboards/matrix", "district": "/dashboards/district"}
BASELINE_PATH = "/healthz"
MEDIAN_TARGET_S = 0.150
P95_TARGET_S = 0.300
#: Requests timed per page, after WARMUP ones (the first of them is reported alone).
RUNS = 30
WARMUP = 3
REGULATOR_EMAIL = "bench-regulator@bench.invalid"


def sites_per_company(elevators: int) -> int:
    """Return the sites per company that put every elevator into one company."""
    return max(1, -(-elevators // ELEVATORS_PER_SITE))


def vacuum_analyze(tables: list[str] | None = None) -> None:
    """On PostgreSQL, VACUUM ANALYZE the named tables (None: every table)."""
    if db.engine.dialect.name != "postgresql":
        return
    names = ", ".join(f'"{name}"' for name in tables or [])
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM ANALYZE {names}"))


def fill(elevators: int, days: int) -> str:
    """Generate one company and one district of elevators, evaluate once; return the district.

    Runs in an app context on a migrated database; commits. The rules run on
    analysed tables, but the alerts table is analysed only after the evaluation:
    analysed while empty, PostgreSQL plans the first evaluation's insert of
    every alert as a nested loop over the growing table (quadratic).
    """
    started = time.perf_counter()
    summary = generate(
        elevators, days, seed=1, districts=1, sites_per_company=sites_per_company(elevators)
    )
    generated = time.perf_counter() - started
    db.session.commit()
    vacuum_analyze([name for name in db.metadata.tables if name != Alert.__tablename__])
    started = time.perf_counter()
    engine.evaluate(now_utc())
    db.session.commit()
    evaluated = time.perf_counter() - started
    vacuum_analyze()
    alerts = db.session.scalar(select(func.count(Alert.id)).where(Alert.resolved_at.is_(None)))
    print(
        f"  generated {summary.elevators} elevators, {summary.records} records in "
        f"{generated:.1f} s; evaluated in {evaluated:.1f} s ({alerts} open alerts)"
    )
    district = db.session.scalar(select(Site.district_code).limit(1))
    if district is None:
        raise RuntimeError("the generator wrote no site")
    return district


def add_regulator(district_code: str) -> str:
    """Create a regulator organisation of the district and a regulator; return their e-mail."""
    org = Organisation(
        name=f"基准监管 {district_code}", kind=OrgKind.regulator, district_code=district_code
    )
    user = User(organisation=org, name="基准监管员", email=REGULATOR_EMAIL, role=Role.regulator)
    user.set_password(PASSWORD)
    db.session.add_all([org, user])
    db.session.commit()
    return REGULATOR_EMAIL


def director_email() -> str:
    """Return the e-mail of the generated company's safety director."""
    email = db.session.scalar(
        select(User.email).where(User.role == Role.safety_director).order_by(User.id).limit(1)
    )
    if email is None:
        raise RuntimeError("the generator wrote no safety director")
    return email


def logged_in(app: Flask, email: str) -> FlaskClient:
    """Return a test client logged in through the login form."""
    client = app.test_client()
    response = client.post("/login", data={"login": email, "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"login of {email} answered {response.status_code}")
    return client


def _backend_pids() -> list[int]:
    """Return the process ids of the server processes connected to this database.

    Asked through the app's pool, so the connection the pages use is among them.
    """
    if db.engine.dialect.name != "postgresql":
        return []  # SQLite works inside this process
    query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    with db.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def _process_cpu(pid: int) -> float:
    """Return the CPU seconds (user + system) a process of this host used, 0 if unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(app: Flask) -> float:
    """Return the CPU seconds used so far by this process and the database's server processes.

    The server processes count when they run on this host (their /proc
    entries are read); PostgreSQL elsewhere counts as 0.
    """
    with app.app_context():
        pids = _backend_pids()
    return time.process_time() + sum(_process_cpu(pid) for pid in pids)


def timed_gets(
    app: Flask, client: FlaskClient, path: str, runs: int, warmup: int
) -> tuple[list[float], float, float]:
    """GET path ``warmup`` times (at least once), then ``runs`` times timed; each must answer 200.

    Returns the seconds of each timed GET, the mean CPU seconds a GET used
    (this process and the database's server processes), which other work on
    the same CPUs does not inflate the way it inflates the elapsed times, and
    the seconds of the first GET (the first of the warm-up: what the app
    computes once and keeps, such as the matrix's past trend, is in it).
    """

    def get() -> float:
        started = time.perf_counter()
        response = client.get(path)
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
        return seconds

    first = get()
    for _ in range(warmup - 1):
        get()
    cpu_before = cpu_seconds(app)
    samples = [get() for _ in range(runs)]
    return samples, (cpu_seconds(app) - cpu_before) / runs, first


def p95(samples: list[float]) -> float:
    """Return the 95th percentile by nearest rank (the 29th of 30 sorted samples)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure_pages(
    url: str,
    elevators: int,
    days: int,
    *,
    runs: int = RUNS,
    warmup: int = WARMUP,
) -> dict[str, float]:
    """Migrate and fill the database at url, then time the pages and the baseline.

    Returns ``elevators``, ``days``, ``baseline_s`` (median of GET /healthz),
    per page label ``<page>_median_s``, ``<page>_p95_s``, ``<page>_ratio``
    (median / baseline) and ``<page>_cpu_s`` (mean CPU seconds of a GET, this
    process and the database server's), and ``load_avg``: the machine's
    1-minute load average when the timing ended (other work on the same CPUs
    lengthens every elapsed time).
    """
    from flask_migrate import upgrade

    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
    }
    app = create_app(config)
    try:
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            district = fill(elevators, days)
            regulator = add_regulator(district)
            director = director_email()
        gc.collect()
        figures = {"elevators": float(elevators), "days": float(days)}
        baseline, _, _ = timed_gets(app, app.test_client(), BASELINE_PATH, runs, warmup)
        figures["baseline_s"] = statistics.median(baseline)
        clients = {"matrix": logged_in(app, director), "district": logged_in(app, regulator)}
        for label, path in PAGES.items():
            samples, cpu, first = timed_gets(app, clients[label], path, runs, warmup)
            figures[f"{label}_first_s"] = first
            median = statistics.median(samples)
            figures[f"{label}_cpu_s"] = cpu
            figures[f"{label}_median_s"] = median
            figures[f"{label}_p95_s"] = p95(samples)
            base = figures["baseline_s"]
            figures[f"{label}_ratio"] = median / base if base else math.inf
        figures["load_avg"] = os.getloadavg()[0]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return figures


def report_pages(figures: dict[str, float]) -> None:
    """Print each page's median and p95 with their targets and the ratio to the baseline."""
    from bench.run import verdict  # here, not at the top: bench.run imports this module

    where = f"(PostgreSQL, one district of {int(figures['elevators'])} elevators)"
    print(
        f"  1-minute load average when measured: {figures['load_avg']:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"baseline GET {BASELINE_PATH} {where}: {figures['baseline_s'] * 1000:.1f} ms")
    for label, path in PAGES.items():
        median, high = figures[f"{label}_median_s"], figures[f"{label}_p95_s"]
        ok = median <= MEDIAN_TARGET_S and high <= P95_TARGET_S
        print(
            f"GET {path} {where}: median {median * 1000:.0f} ms  target <= "
            f"{MEDIAN_TARGET_S * 1000:g} ms, p95 {high * 1000:.0f} ms  target <= "
            f"{P95_TARGET_S * 1000:g} ms  ratio to baseline {figures[f'{label}_ratio']:.0f}x  "
            f"{verdict(ok)}"
        )
        print(
            f"  CPU per GET of {path} (this process and the PostgreSQL server processes): "
            f"{figures[f'{label}_cpu_s'] * 1000:.0f} ms; the first GET of the run "
            f"{figures[f'{label}_first_s'] * 1000:.0f} ms"
        )


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit (so the finally blocks drop the database), unless handled."""
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


def run_pages(admin_url: str, elevators: int, days: int) -> dict[str, float]:
    """Measure the dashboard pages on a fresh PostgreSQL database of the server; print them."""
    _exit_on_sigterm()
    print(f"Dashboard pages: {elevators} elevators (one company, one district) x {days} days")
    with scratch_postgres(admin_url, "benchpages") as url:
        figures = measure_pages(url, elevators, days)
    report_pages(figures)
    return figures


def main() -> int:
    """Run the page benchmark alone with the sizes of the environment."""
    from bench.run import _env_int, postgres_admin

    elevators = _env_int("BENCH_PAGES_ELEVATORS", 20_000)
    days = _env_int("BENCH_DAYS", 30)
    if elevators:
        admin_url = postgres_admin()
        if admin_url:
            run_pages(admin_url, elevators, days)
    return 0


if __name__ == "__main__":
    sys.exit(main())
