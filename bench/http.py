"""Patrol submissions through the real stack: gunicorn, PostgreSQL, load from a second process.

``run_http(admin_url)`` creates the database ``benchhttp_<pid>`` on that
server, migrates it, generates a small city (one safety officer per load
client, 50 elevators each), serves ``bench.http_app:create_app()`` (the product
plus the baseline route) with gunicorn (2 sync workers, as in production: the
worker class of docs/operations.md) on a free loopback port, and runs three
loads with ``python -m bench.http_load`` (see there), each bounded in count and
time:

1. patrols, GET the form + POST it: what a phone does per submission;
2. patrols, POST only: the forms fetched beforehand, only the POSTs timed;
3. the minimal route ``POST /bench/insert`` (one row, commit), the baseline.

A submission counts only when the product answered its success redirect, and
each count is checked against the rows the database gained. It prints the
rates, the target (at least 150 submissions a second), the ratio of each rate
to the baseline, and where the server's CPU goes (CPU time of the workers per
submission; one scrypt check of the signing password, which each worker runs
once per officer: auth/recheck.py remembers it). gunicorn is stopped and the
database dropped at the end, also on an error (and on SIGTERM when the caller
turns it into SystemExit, as bench/run.py and ``python -m bench.http`` do).

Environment: BENCH_HTTP_SUBMISSIONS (default 2000, 0 skips), BENCH_HTTP_SECONDS
(default 60), both per load; BENCH_HTTP_CLIENTS (default 8); BENCH_DAYS (days
of generated history, default 30).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.pool import NullPool

from bench.http_app import INSERT_PATH, TABLE
from bench.http_load import STARTED
from bench.scratch import scratch_postgres
from elevator_safety import create_app
from elevator_safety.auth.models import Role, User
from elevator_safety.bench.generate import ELEVATORS_PER_OFFICER, PASSWORD, _patrol_body, generate
from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator, ElevatorKind, ElevatorStatus

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_S = 150.0
WORKERS = 2
WORKER_CLASS = "sync"
APP_SPEC = "bench.http_app:create_app()"
HOST = "127.0.0.1"
STARTUP_S = 60.0
STOP_S = 30.0
PASSWORD_CHECKS = 5
#: How long a load may run past its time bound (logins, fetched forms, the last answers).
LOAD_GRACE_S = 600.0
PATROL_ROWS = "SELECT count(*) FROM records WHERE kind = 'patrol'"
BASELINE_ROWS = f"SELECT count(*) FROM {TABLE}"  # noqa: S608 - constant table name


@dataclass(frozen=True)
class Settings:
    """Sizes of a run, from the environment."""

    submissions: int
    seconds: float
    clients: int
    days: int

    @classmethod
    def from_env(cls) -> Settings:
        def number(name: str, default: int) -> int:
            return int(os.environ.get(name) or default)

        return cls(
            submissions=number("BENCH_HTTP_SUBMISSIONS", 2000),
            seconds=float(number("BENCH_HTTP_SECONDS", 60)),
            clients=max(1, number("BENCH_HTTP_CLIENTS", 8)),
            days=max(1, number("BENCH_DAYS", 30)),
        )


@dataclass
class City:
    """What the load needs from the generated city."""

    clients: list[dict[str, Any]]  # per client: the officer's login and elevator ids
    typed: dict[str, str]  # the readings an officer types, by field name
    password_check_ms: float  # CPU of one signing password check (scrypt), median


# --- the database ----------------------------------------------------------------


def _readings() -> dict[str, str]:
    """The readings of the generated history (inside the limits), as form fields."""
    items = _patrol_body(ElevatorKind.traction)["items"]
    return {f"{code}__value": entry["value"] for code, entry in items.items() if "value" in entry}


def _password_check_ms(officer: User) -> float:
    """CPU time of one signing password check (scrypt), median of a few."""
    timings = []
    for _ in range(PASSWORD_CHECKS):
        started = time.process_time()
        officer.check_password(PASSWORD)
        timings.append(time.process_time() - started)
    return 1000 * statistics.median(timings)


def prepare(url: str, settings: Settings) -> City:
    """Migrate, generate one officer's 50 elevators per client, and list who patrols what."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        generate(settings.clients * ELEVATORS_PER_OFFICER, settings.days, seed=1)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        officers = db.session.scalars(
            select(User).where(User.role == Role.safety_officer).order_by(User.id)
        ).all()[: settings.clients]
        clients = []
        for officer in officers:
            elevators = db.session.scalars(
                select(Elevator.id)
                .where(
                    Elevator.safety_officer_id == officer.id,
                    Elevator.status == ElevatorStatus.in_service,
                )
                .order_by(Elevator.id)
            ).all()
            clients.append({"login": officer.email, "elevators": list(elevators)})
        city = City(clients, _readings(), _password_check_ms(officers[0]))
        db.session.remove()
        db.engine.dispose()
    return city


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


# --- gunicorn ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _ticks(pid: int) -> int:
    """CPU time (user + system) of a process in clock ticks; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def machine_busy() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class Server:
    """A running gunicorn: its master process, port and log."""

    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]

    def worker_cpu_s(self) -> float:
        """CPU seconds the workers have used so far."""
        ticks = sum(_ticks(pid) for pid in _children(self.process.pid))
        return ticks / os.sysconf("SC_CLK_TCK")

    def log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-3000:]

    def get(self, path: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def _wait_ready(server: Server) -> None:
    """Wait until /healthz answers 200 and both workers have booted."""
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited at start:\n{server.log_tail()}")
        try:
            status, _ = server.get("/healthz")
        except OSError:
            status = 0
        if status == 200 and len(_children(server.process.pid)) >= WORKERS:
            return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz in {STARTUP_S:g} s:\n{server.log_tail()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn gracefully (SIGTERM); kill its process group if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def serve(url: str, app_spec: str = APP_SPEC) -> Iterator[Server]:
    """Run gunicorn on the benchmark app (a gunicorn app spec) against the database at url."""
    env = os.environ | {
        "ELEVATOR_SAFETY_DATABASE_URL": url,
        "ELEVATOR_SAFETY_SQLALCHEMY_DATABASE_URI": url,
        "ELEVATOR_SAFETY_SECRET_KEY": secrets.token_hex(32),
    }
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={WORKERS}",
        f"--worker-class={WORKER_CLASS}",
        f"--bind={HOST}:{port}",
        app_spec,
    ]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        server = Server(process, port, log)
        try:
            _wait_ready(server)
            yield server
        finally:
            _stop(process)


# --- the loads ----------------------------------------------------------------------


def _run_load(
    spec: dict[str, Any], timeout: float, server: Server
) -> tuple[str, float, tuple[int, int]]:
    """Run bench.http_load on a spec; return its output and the CPU figures when it started.

    The CPU is sampled when the load says its timed part started, so the logins
    and the forms fetched beforehand are not counted. A watchdog kills a load
    that outlives the timeout; an exception here (SIGTERM) kills it too.
    """
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(
            [sys.executable, "-m", "bench.http_load"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=ROOT,
        ) as process,
    ):
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            assert process.stdin is not None  # both are pipes: Popen was asked for them
            assert process.stdout is not None
            process.stdin.write(json.dumps(spec))
            process.stdin.close()
            started = process.stdout.readline().strip()
            cpu, busy = server.worker_cpu_s(), machine_busy()
            output = process.stdout.read()
            code = process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
        if code != 0 or started != STARTED:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace")[-3000:]
            raise RuntimeError(f"the load {spec['mode']} failed (exit {code}):\n{tail}")
    return output, cpu, busy


def load(
    server: Server, city: City, settings: Settings, mode: str, limit: int, rows: tuple[Engine, str]
) -> dict[str, Any]:
    """Run one load in a second process; add the rows gained and the CPU it cost."""
    per_client = math.ceil(limit / len(city.clients))
    spec = {
        "host": HOST,
        "port": server.port,
        "mode": mode,
        "limit": limit,
        "seconds": settings.seconds,
        "password": PASSWORD,
        "typed": city.typed,
        "clients": [client | {"prefetch": per_client} for client in city.clients],
    }
    engine, sql = rows
    before_rows = count(engine, sql)
    output, before_cpu, before_busy = _run_load(spec, settings.seconds + LOAD_GRACE_S, server)
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    if figures["client_failures"]:
        raise RuntimeError(f"{mode}: clients failed: {figures['client_failures']}")
    busy = machine_busy()
    figures["rows_added"] = count(engine, sql) - before_rows
    figures["worker_cpu_s"] = server.worker_cpu_s() - before_cpu
    total = busy[1] - before_busy[1]
    figures["machine_busy"] = (busy[0] - before_busy[0]) / total if total else 0.0
    return figures


def _post_only_limit(first: dict[str, Any], settings: Settings) -> int:
    """Forms to fetch for the POST-only load: twice what the first load's rate would use."""
    expected = math.ceil(2 * first["per_s"] * settings.seconds)
    return max(1, min(settings.submissions, expected))


def measure_all(server: Server, url: str, city: City, settings: Settings) -> dict[str, Any]:
    """Run the three loads and return their figures by mode."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        patrols = (engine, PATROL_ROWS)
        results = {"patrol": load(server, city, settings, "patrol", settings.submissions, patrols)}
        if results["patrol"]["ok"]:
            limit = _post_only_limit(results["patrol"], settings)
            results["patrol-post"] = load(server, city, settings, "patrol-post", limit, patrols)
        results["insert"] = load(
            server, city, settings, "insert", settings.submissions, (engine, BASELINE_ROWS)
        )
    finally:
        engine.dispose()
    return results


# --- the report ---------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def _ratio(rate: float, baseline: float) -> float:
    return rate / baseline if baseline else 0.0


def _checked(figures: dict[str, Any]) -> str:
    counted, added = figures["ok"], figures["rows_added"]
    state = "verified" if counted == added else "MISMATCH"
    return f"{counted} counted, {added} rows added: {state}"


def _latencies(figures: dict[str, Any]) -> str:
    """Client-side latencies (queueing included: more clients than workers)."""
    text = f"POST median {figures['post_ms_median']:.0f} ms, p95 {figures['post_ms_p95']:.0f} ms"
    if figures["get_ms_median"]:
        text = f"GET form median {figures['get_ms_median']:.0f} ms, {text}"
    return text


def _line(label: str, figures: dict[str, Any], baseline: float) -> str:
    rate = figures["per_s"]
    return (
        f"{label}: {figures['ok']} in {figures['wall_s']:.1f} s = {rate:.1f}/s  "
        f"target >= {TARGET_PER_S:g}/s  {verdict(rate >= TARGET_PER_S)}  "
        f"ratio to the minimal route {_ratio(rate, baseline):.3f} "
        f"({_latencies(figures)}; "
        f"{_checked(figures)})"
    )


def _cpu_ms(figures: dict[str, Any]) -> float:
    return 1000 * figures["worker_cpu_s"] / figures["ok"] if figures["ok"] else 0.0


def _ceiling(figures: dict[str, Any]) -> float:
    """Submissions a second the machine's CPUs could serve at the measured CPU cost."""
    cost = _cpu_ms(figures)
    return (os.cpu_count() or 1) * 1000 / cost if cost else 0.0


def report(results: dict[str, Any], city: City, settings: Settings) -> dict[str, float]:
    """Print the figures with the target and the ratios; return them flat."""
    base = results["insert"]
    baseline = base["per_s"]
    figures: dict[str, float] = {
        "insert_per_s": baseline,
        "insert_ok": base["ok"],
        "insert_rows": base["rows_added"],
        "password_check_ms": city.password_check_ms,
        "clients": len(city.clients),
    }
    labels = {
        "patrol": ("patrol", "patrol submissions, GET form + POST (a phone's round)"),
        "patrol-post": ("patrol_post", "patrol submissions, POST only (forms fetched before)"),
    }
    for mode, (key, label) in labels.items():
        if mode not in results:
            continue
        found = results[mode]
        print(_line(label, found, baseline))
        print(
            f"  server CPU per submission (gunicorn workers, user+sys): {_cpu_ms(found):.0f} ms, "
            f"so at most {_ceiling(found):.0f}/s if the workers had all {os.cpu_count()} CPUs; "
            f"machine CPUs busy {100 * found['machine_busy']:.0f} %; answers {found['statuses']}"
            + (f"; errors {found['errors']}" if found["errors"] else "")
        )
        figures |= {
            f"{key}_per_s": found["per_s"],
            f"{key}_ok": found["ok"],
            f"{key}_rows": found["rows_added"],
            f"{key}_ratio": _ratio(found["per_s"], baseline),
            f"{key}_cpu_ms": _cpu_ms(found),
        }
    print(
        f"  one scrypt check of a signing password (timed here): {city.password_check_ms:.0f} ms "
        f"CPU; each worker runs it once per officer, then for SIGNING_RECHECK_SECONDS checks "
        f"the same password against a derived key (auth/recheck.py)"
    )
    print(
        f"minimal route (POST {INSERT_PATH}: one row, commit): {base['ok']} in "
        f"{base['wall_s']:.1f} s = {baseline:.1f}/s  (server CPU per insert "
        f"{_cpu_ms(base):.1f} ms; {_checked(base)})"
    )
    return figures


def run_http(admin_url: str) -> dict[str, float]:
    """Measure patrol submissions through gunicorn on the server of admin_url; print and return."""
    settings = Settings.from_env()
    if settings.submissions <= 0:
        print("HTTP: BENCH_HTTP_SUBMISSIONS=0: skipped")
        return {}
    print(
        f"HTTP: patrol submission through gunicorn ({WORKERS} {WORKER_CLASS} workers, "
        f"PostgreSQL), {settings.clients} clients in a second process, at most "
        f"{settings.submissions} submissions and {settings.seconds:g} s per load"
    )
    with scratch_postgres(admin_url, "benchhttp") as url:
        city = prepare(url, settings)
        elevators = sum(len(client["elevators"]) for client in city.clients)
        print(
            f"  city: {elevators} elevators x {settings.days} days, "
            f"{len(city.clients)} safety officers (one per client)"
        )
        with serve(url) as server:
            results = measure_all(server, url, city, settings)
    return report(results, city, settings)


def main() -> int:
    """``python -m bench.http``: this benchmark alone, on TEST_DATABASE_URL or the local server."""
    from bench.run import postgres_admin

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    admin_url = postgres_admin()
    if admin_url:
        run_http(admin_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
