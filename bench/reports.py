"""Benchmark of the documents (PDF): record sheets, the one-year archive, the bulk export.

The issue's targets, with the 10,000-elevator data set: one record sheet
median ≤ 50 ms; a one-year archive of one elevator (365 patrols, 24
maintenance records, lockouts, rectifications) ≤ 3 s and ≤ 200 MB peak
memory; a bulk export of 1,000 monthly archives at ≥ 10 archives/s with peak
memory ≤ 300 MB whatever the count; each beside the time ReportLab alone
takes to render the same content (the baseline, bench/reportlab_baseline.py,
measured in the same run).

``run_reports(admin_url, elevators)`` makes its own database:
``benchreports_<pid>`` on the PostgreSQL server of ``admin_url``, or a
temporary SQLite file when ``admin_url`` is None. It migrates it and fills it
(``fill``):

* the city: ``generate(elevators, <days of last month>)`` ending on the last
  day of last month, its sites spread over ``elevators // bulk`` districts so
  that one district holds the bulk export's elevators (1,000 of 10,000);
* one more elevator with a year of history (``generate(1, 365, seed=2)``,
  what ``flask bench generate --force`` does on a filled database: ids, codes
  and names do not clash), its site moved to a district of its own, plus two
  lockouts (an entrapment and a fault, every step) and two rectifications
  (one reopened) written through the real services;
* a regulator of the bulk district, and a signing identity in the run's
  temporary folder.

Then it starts one child process per measurement: the baseline first
(bench/reportlab_baseline.py), then the sheets, the archive and the bulk export
(bench/reports_measure.py), printing each figure with its target and its ratio
to the baseline as soon as its measurement is done. It drops the database and
deletes the folder at the end, also after an error or SIGTERM.

Sizes from the environment: BENCH_REPORTS_ELEVATORS (default 10000, 0 skips;
read by ``main``, ``python -m bench.reports``), BENCH_REPORTS_BULK (default 1000
archives), BENCH_REPORTS_LIMIT_S (default 1800: a measurement still running
then is stopped and reported MISSED, and the run goes on). BENCH_EXPORT_PROCESSES
sets the bulk export's EXPORT_PROCESSES (default: the app's, 2).
"""

from __future__ import annotations

import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bench import reportlab_baseline, reports_measure
from bench.pages import p95
from bench.reports_measure import Figures, Spec
from bench.scratch import scratch_postgres
from elevator_safety import create_app
from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.bench.generate import PASSWORD, ZONE, generate
from elevator_safety.db import now_utc
from elevator_safety.desk.services import last_month
from elevator_safety.extensions import db
from elevator_safety.lockouts import services as lockouts
from elevator_safety.lockouts.models import Lockout, LockoutCause, NotifyChannel
from elevator_safety.records.models import FindingSource, Record, RecordKind
from elevator_safety.rectifications import services as rectifications
from elevator_safety.registry.models import Elevator, Site
from elevator_safety.reports.fonts import font_path
from elevator_safety.reports.signing import ensure_signing_identity
from elevator_safety.scoping import local_today

ROOT = Path(__file__).resolve().parent.parent
SHEET_MEDIAN_TARGET_S = 0.050
ARCHIVE_TARGET_S = 3.0
ARCHIVE_RSS_TARGET_MB = 200.0
BULK_RATE_TARGET = 10.0
BULK_RSS_TARGET_MB = 300.0
#: The district the year elevator's site is moved to (outside the bulk export).
YEAR_DISTRICT = ("319999", "基准年档区")
REGULATOR_EMAIL = "bench-reports-regulator@bench.invalid"
PUBLIC_BASE_URL = "https://lifts.bench.invalid"


@dataclass(frozen=True)
class Sizes:
    """How big a run is."""

    elevators: int
    bulk: int = 1000
    #: Days of history of the one elevator whose archive is timed.
    year_days: int = 365
    #: Record sheets timed (half patrols, half maintenance records).
    sheets: int = 50
    #: Monthly archives ReportLab alone renders for the bulk export's baseline.
    month_samples: int = 10
    #: Seconds a measurement's process may run before it is stopped (reported MISSED).
    limit_s: float = 1800.0

    @property
    def districts(self) -> int:
        """Return the districts the city's sites are spread over: one holds ``bulk`` elevators."""
        return max(1, self.elevators // max(1, self.bulk))


def sizes_from_env() -> Sizes:
    """Return the sizes of BENCH_REPORTS_ELEVATORS, BENCH_REPORTS_BULK, BENCH_REPORTS_LIMIT_S."""
    from bench.run import _env_int  # here: bench.run imports this module

    return Sizes(
        elevators=_env_int("BENCH_REPORTS_ELEVATORS", 10_000),
        bulk=_env_int("BENCH_REPORTS_BULK", 1000),
        limit_s=float(_env_int("BENCH_REPORTS_LIMIT_S", 1800)),
    )


# --- the database --------------------------------------------------------------------------


@contextmanager
def scratch_database(admin_url: str | None, folder: Path) -> Iterator[str]:
    """Yield the URL of an empty database: ``benchreports_<pid>`` on the server, else SQLite.

    The PostgreSQL database is dropped afterwards; the SQLite file lives in ``folder``.
    """
    if admin_url is None:
        yield f"sqlite:///{folder / 'bench.sqlite'}"
        return
    with scratch_postgres(admin_url, "benchreports") as url:
        yield url


def app_config(folder: Path) -> dict[str, Any]:
    """Return the settings of every app of the run (the children's include the signing files)."""
    config: dict[str, Any] = {
        "SECRET_KEY": "bench",
        "TESTING": True,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "EXPORT_DIR": str(folder / "exports"),
        "UPLOAD_FOLDER": str(folder / "uploads"),
    }
    if processes := os.environ.get("BENCH_EXPORT_PROCESSES"):
        config["EXPORT_PROCESSES"] = int(processes)
    return config


# --- the year elevator's lockouts and rectifications ------------------------------------------


@dataclass
class People:
    """Who acts on the year elevator: its safety officer, the director, a contracted technician."""

    officer: User
    director: User
    technician: User

    @classmethod
    def of(cls, elevator: Elevator) -> People:
        contract = elevator.active_contract(local_today())
        if contract is None:
            raise RuntimeError("the year elevator has no contract in force")
        technician = db.session.scalar(
            select(User)
            .where(User.organisation_id == contract.contractor_id, User.role == Role.technician)
            .order_by(User.id)
            .limit(1)
        )
        director = db.session.scalar(
            select(User).where(
                User.organisation_id == elevator.site.organisation_id,
                User.role == Role.safety_director,
            )
        )
        if technician is None or director is None:
            raise RuntimeError("the generator wrote no technician or director")
        return cls(elevator.safety_officer, director, technician)


def entrapment(elevator: Elevator, who: People, at: datetime) -> None:
    """An entrapment lockout with every step: rescue in time, repair, return to service."""
    lockout = lockouts.open_lockout(
        elevator,
        who.officer,
        PASSWORD,
        cause=LockoutCause.alarm,
        description="轿厢停在 5 层与 6 层之间，困人两名",
        occurred_at=at,
        entrapment=lockouts.EntrapmentInput(trapped_count=2, alarm_at=at - timedelta(minutes=1)),
    )
    minutes = iter(range(2, 200, 7))

    def after() -> datetime:
        return at + timedelta(minutes=next(minutes))

    lockouts.post_notice(lockout, who.officer, PASSWORD, occurred_at=after(), note="已张贴")
    lockouts.notify_contractor(
        lockout,
        who.officer,
        PASSWORD,
        channel=NotifyChannel.phone,
        party=f"{who.technician.name} 13800000000",
        occurred_at=after(),
    )
    lockouts.record_rescue_arrival(lockout, who.technician, PASSWORD, occurred_at=after())
    lockouts.record_release(lockout, who.technician, PASSWORD, occurred_at=after())
    _repair_and_return(lockout, who, after)


def _repair_and_return(lockout: Lockout, who: People, after: Callable[[], datetime]) -> None:
    """The contractor's arrival and repair, then the officer's return to service."""
    lockouts.record_arrival(lockout, who.technician, PASSWORD, occurred_at=after())
    lockouts.record_repair(
        lockout,
        who.technician,
        PASSWORD,
        found="门机皮带磨损，已更换",
        parts_replaced=["门机皮带"],
        occurred_at=after(),
    )
    lockouts.return_to_service(
        lockout, who.officer, PASSWORD, occurred_at=after(), note="试运行正常"
    )


def fault(elevator: Elevator, who: People, at: datetime) -> None:
    """A fault lockout without entrapment, every step to the return to service."""
    lockout = lockouts.open_lockout(
        elevator,
        who.officer,
        PASSWORD,
        cause=LockoutCause.fault,
        description="开关门异常，停梯检修",
        occurred_at=at,
    )
    minutes = iter(range(3, 300, 11))

    def after() -> datetime:
        return at + timedelta(minutes=next(minutes))

    lockouts.post_notice(lockout, who.officer, PASSWORD, occurred_at=after())
    lockouts.notify_contractor(
        lockout,
        who.officer,
        PASSWORD,
        channel=NotifyChannel.app,
        party=who.technician.name,
        occurred_at=after(),
    )
    _repair_and_return(lockout, who, after)


def rectification(elevator: Elevator, who: People, *, reopen: bool) -> None:
    """A rectification opened, completed and verified (reopened once first if asked)."""
    finding = rectifications.open_finding(
        site=elevator.site,
        elevator=elevator,
        source=FindingSource.regulator_notice,
        duty="D5",
        item_label="底坑有积水",
        description="底坑积水约 3 厘米，需排水并查明渗水原因",
        author=who.officer,
    )
    steps = [(rectifications.Action.complete, who.officer, "已排水并封堵渗水点")]
    if reopen:
        steps += [
            (rectifications.Action.reopen, who.director, "复查仍有渗水"),
            (rectifications.Action.complete, who.officer, "重新封堵，复查无渗水"),
        ]
    steps.append((rectifications.Action.verify, who.director, "复查合格"))
    for action, user, words in steps:
        rectifications.transition(finding, action, user, password=PASSWORD, text=words)


def year_events(elevator: Elevator) -> None:
    """Give the year elevator two lockouts and two rectifications through the services."""
    who = People.of(elevator)
    now = now_utc().replace(microsecond=0)
    fault(elevator, who, now - timedelta(days=2))
    entrapment(elevator, who, now - timedelta(hours=20))
    rectification(elevator, who, reopen=False)
    rectification(elevator, who, reopen=True)
    db.session.commit()


# --- filling -------------------------------------------------------------------------------


def _city_end(month_end: date) -> datetime:
    """Return the moment the city's history ends: late on the last day of last month."""
    return datetime.combine(month_end, clock_time(22, 0), ZoneInfo(ZONE)).astimezone(UTC)


def _year_elevator(sizes: Sizes) -> Elevator:
    """Generate the one elevator with a year of history, in a district of its own."""
    generate(1, sizes.year_days, seed=2)
    elevator = db.session.scalar(select(Elevator).order_by(Elevator.id.desc()).limit(1))
    if elevator is None:
        raise RuntimeError("the generator wrote no elevator")
    elevator.site.district_code, elevator.site.district_name = YEAR_DISTRICT
    db.session.commit()
    year_events(elevator)
    return elevator


def _bulk_district() -> str:
    """Return the city's district with the most elevators."""
    count = func.count(Elevator.id)
    code = db.session.scalar(
        select(Site.district_code)
        .join(Elevator, Elevator.site_id == Site.id)
        .where(Site.district_code != YEAR_DISTRICT[0])
        .group_by(Site.district_code)
        .order_by(count.desc(), Site.district_code)
        .limit(1)
    )
    if code is None:
        raise RuntimeError("the generator wrote no site")
    return code


def add_regulator(district_code: str) -> int:
    """Create a regulator of the district; return the user's id."""
    org = Organisation(
        name=f"基准监管 {district_code}",
        kind=OrgKind.regulator,
        district_code=district_code,
        district_name=f"区 {district_code}",
    )
    user = User(organisation=org, name="基准监管员", email=REGULATOR_EMAIL, role=Role.regulator)
    user.set_password(PASSWORD)
    db.session.add_all([org, user])
    db.session.commit()
    return user.id


def record_shape(record: Record) -> dict[str, Any]:
    """Return a record as the baseline's plain shape: kind, table rows, fields, month."""
    body = record.data.get("body") or {}
    items = body.get("items")
    tabled = record.kind in (RecordKind.patrol, RecordKind.maintenance)
    return {
        "kind": record.kind.value,
        "rows": len(items) if tabled and isinstance(items, dict | list) else 0,
        "fields": len(body),
        "month": record.occurred_on.strftime("%Y-%m"),
    }


def archive_shape(elevator_id: int, start: date, end: date) -> dict[str, Any]:
    """Return the baseline shape of an elevator's archive for a period."""
    records = [
        record_shape(r)
        for r in db.session.scalars(
            select(Record)
            .where(
                Record.elevator_id == elevator_id,
                Record.occurred_on >= start,
                Record.occurred_on <= end,
            )
            .order_by(Record.seq)
        )
    ]
    months: dict[str, int] = {}
    for shape in records:
        months[shape["month"]] = months.get(shape["month"], 0) + 1
    db.session.expunge_all()
    return {"months": sorted(months.items()), "records": records}


def _spread(ids: list[int], count: int) -> list[int]:
    """Return ``count`` ids evenly spread over the list (all of them when it is shorter)."""
    if len(ids) <= count:
        return ids
    step = len(ids) / count
    return [ids[int(n * step)] for n in range(count)]


def sample_sheets(elevator_ids: list[int], count: int) -> list[int]:
    """Return ``count`` record ids: patrols and maintenance records of elevators spread out.

    With fewer elevators than sheets, older records of the same elevators are taken.
    """
    chosen: list[int] = []
    kinds = (RecordKind.patrol, RecordKind.maintenance)
    spread = _spread(elevator_ids, count)
    for n in range(count):
        found = db.session.scalar(
            select(Record.id)
            .where(Record.elevator_id == spread[n % len(spread)], Record.kind == kinds[n % 2])
            .order_by(Record.seq.desc())
            .offset(n // (2 * len(spread)) if len(spread) > 1 else n // 2)
            .limit(1)
        )
        if found is not None:
            chosen.append(found)
    return chosen


def qr_rows(text: str) -> list[str]:
    """Return the module matrix of the QR code of a text, as rows of "0" and "1"."""
    return [
        "".join("1" if dark else "0" for dark in row) for row in segno.make(text, error="m").matrix
    ]


def _sheet_shapes(ids: list[int]) -> list[dict[str, Any]]:
    """Return the baseline shapes of the sheets' records, each with its QR code's matrix."""
    shapes = [
        record_shape(r) | {"qr": qr_rows(f"{PUBLIC_BASE_URL}/verify/{r.content_hash}")}
        for r in db.session.scalars(select(Record).where(Record.id.in_(ids)))
    ]
    db.session.expunge_all()
    return shapes


def fill(url: str, sizes: Sizes, folder: Path) -> Spec:
    """Migrate and fill the database at url; return the spec of the measurements."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **app_config(folder)})
    app.instance_path = str(folder)  # the signing identity is made in the run's folder
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        spec = _fill_city(app, sizes, folder)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        db.session.remove()
        db.engine.dispose()
    return spec


def _fill_city(app: Flask, sizes: Sizes, folder: Path) -> Spec:
    today = datetime.now(ZoneInfo(ZONE)).date()
    month = last_month(today)
    started = time.perf_counter()
    city = generate(
        sizes.elevators,
        (month[1] - month[0]).days + 1,
        seed=1,
        now=_city_end(month[1]),
        districts=sizes.districts,
    )
    year = _year_elevator(sizes)
    year_id = year.id
    year_period = (today - timedelta(days=sizes.year_days - 1), today)
    district = _bulk_district()
    city_ids = list(
        db.session.scalars(
            select(Elevator.id)
            .join(Site, Elevator.site_id == Site.id)
            .where(Site.district_code != YEAR_DISTRICT[0])
            .order_by(Elevator.id)
        )
    )
    district_ids = list(
        db.session.scalars(
            select(Elevator.id)
            .join(Site, Elevator.site_id == Site.id)
            .where(Site.district_code == district)
            .order_by(Elevator.id)
        )
    )
    sheet_ids = sample_sheets(city_ids, sizes.sheets)
    key, cert = ensure_signing_identity()
    spec: Spec = {
        "url": app.config["SQLALCHEMY_DATABASE_URI"],
        "folder": str(folder),
        "config": app_config(folder)
        | {"REPORT_SIGNING_KEY": str(key), "REPORT_SIGNING_CERT": str(cert)},
        "font_path": str(font_path()),
        "sheet_ids": sheet_ids,
        "sheet_shapes": _sheet_shapes(sheet_ids),
        "year_elevator_id": year_id,
        "year_period": [d.isoformat() for d in year_period],
        "year_shape": archive_shape(year_id, *year_period),
        "district_code": district,
        "district_elevators": len(district_ids),
        "regulator_id": add_regulator(district),
        "month_period": [d.isoformat() for d in month],
        "month_shapes": [
            archive_shape(e, *month) for e in _spread(district_ids, sizes.month_samples)
        ],
    }
    print(
        f"  generated {city.elevators} elevators and {city.records} records "
        f"({month[0]} to {month[1]}, {sizes.districts} districts) and one elevator with "
        f"{len(spec['year_shape']['records'])} records over {sizes.year_days} days "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return spec


# --- measuring -----------------------------------------------------------------------------


class TimeLimit(Exception):
    """A measurement ran longer than its limit (its child process was killed)."""


def _child(module: str, *args: str, limit_s: float | None = None) -> Any:
    """Run ``python -m module args`` in a fresh process; return the JSON of its last line."""
    try:
        done = subprocess.run(  # noqa: S603 - our own modules, no shell
            [sys.executable, "-m", module, *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            timeout=limit_s,
        )
    except subprocess.TimeoutExpired as error:
        raise TimeLimit(f"{module} {args[0]}") from error
    if done.returncode != 0:
        raise RuntimeError(f"{module} {args[0]} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cancel_queries(url: str) -> None:
    """Cancel what a killed child left running on the PostgreSQL server (the server goes on).

    PostgreSQL does not notice that a client went away while a query runs, so a
    stopped measurement's query would keep the CPUs busy for the next ones.
    """
    if make_url(url).get_backend_name() != "postgresql":
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        engine.dispose()


def baseline_figures(raw: dict[str, Any]) -> Figures:
    """Return the baseline's figures from its samples (bench.reportlab_baseline.measure)."""
    return {
        "baseline_sheet_median_s": statistics.median(raw["sheet_s"]),
        "baseline_sheet_p95_s": p95(raw["sheet_s"]),
        "baseline_archive_s": raw["archive_s"],
        "baseline_archive_pages": float(raw["archive_pages"]),
        "baseline_month_s": statistics.mean(raw["month_s"]),
        "baseline_month_pages": statistics.mean(raw["month_pages"]),
        "baseline_rss_peak_mb": raw["rss_peak_mb"],
    }


def measure_all(
    url: str,
    sizes: Sizes,
    folder: Path,
    *,
    spawn: bool = True,
    label: str | None = None,
) -> Figures:
    """Fill the database at url, then run the baseline and every measurement; return the figures.

    Each measurement runs in a fresh process, killed after ``sizes.limit_s``
    (its figures are then ``<what>_limit_s``); ``spawn=False`` runs them in this
    process instead (the tests: the peak RSS figures are then this process's).
    With a ``label``, each measurement's lines are printed as soon as it is done.
    """
    spec = fill(url, sizes, folder)
    spec_path = folder / "spec.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    if spawn:
        raw = _child("bench.reportlab_baseline", str(spec_path), limit_s=sizes.limit_s)
    else:
        raw = reportlab_baseline.measure(spec)
    figures: Figures = baseline_figures(raw) | {
        "elevators": float(sizes.elevators),
        "district_elevators": float(spec["district_elevators"]),
        "year_records": float(len(spec["year_shape"]["records"])),
    }
    for what, function in reports_measure.MEASURES.items():
        try:
            if spawn:
                limit = sizes.limit_s
                figures |= _child("bench.reports_measure", what, str(spec_path), limit_s=limit)
            else:
                figures |= function(spec)
        except TimeLimit:
            figures[f"{what}_limit_s"] = sizes.limit_s
            cancel_queries(url)
        if label is not None:
            REPORTS[what](figures, where(figures, label))
    return figures


# --- reporting -----------------------------------------------------------------------------


def _ratio(value: float, base: float) -> float:
    return value / base if base else math.inf


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def where(figures: Figures, label: str) -> str:
    """Return the "(database, size)" printed after each figure."""
    return f"({label}, {int(figures['elevators'])} elevators)"


def report(figures: Figures, label: str) -> None:
    """Print each figure with its target, OK or MISSED, and its ratio to the baseline."""
    for print_lines in REPORTS.values():
        print_lines(figures, where(figures, label))


def _verdict(ok: bool) -> str:
    from bench.run import verdict  # here: bench.run imports this module

    return verdict(ok)


def _over_limit(figures: Figures, what: str, title: str, where: str) -> bool:
    """Print that a measurement was stopped at its time limit; return whether it was."""
    limit = figures.get(f"{what}_limit_s")
    if limit is None:
        return False
    print(f"{title} {where}: did not finish within {limit:.0f} s (stopped)  {_verdict(False)}")
    return True


def _report_sheets(figures: Figures, where: str) -> None:
    if _over_limit(figures, "sheets", "record sheets", where):
        return
    base, median = figures["baseline_sheet_median_s"], figures["sheet_median_s"]
    print(f"baseline ReportLab alone, record sheet of the same shape {where}: median {_ms(base)}")
    print(
        f"record sheet, load + render + sign, {int(figures['sheets'])} records {where}: "
        f"median {_ms(median)}  target <= {_ms(SHEET_MEDIAN_TARGET_S)}, "
        f"p95 {_ms(figures['sheet_p95_s'])}  ratio to baseline {_ratio(median, base):.1f}x  "
        f"{_verdict(median <= SHEET_MEDIAN_TARGET_S)}"
    )
    kinds = ", ".join(
        f"{kind} {_ms(figures[f'sheet_{kind}_median_s'])} "
        f"({int(figures[f'sheet_{kind}_pages'])} p.)"
        for kind in ("patrol", "maintenance")
        if f"sheet_{kind}_median_s" in figures
    )
    print(
        f"  medians: render {_ms(figures['sheet_render_median_s'])} (SQL "
        f"{_ms(figures['sheet_sql_s'])} in {figures['sheet_queries']:.0f} queries), sign "
        f"{_ms(figures['sheet_sign_median_s'])}; by kind: {kinds}; first sheet of a fresh "
        f"process {_ms(figures['sheet_cold_s'])} (font and key loading)"
    )


def _report_archive(figures: Figures, where: str) -> None:
    if _over_limit(figures, "archive", "one-year archive", where):
        return
    base, took = figures["baseline_archive_s"], figures["archive_s"]
    print(
        f"baseline ReportLab alone, the year archive's shape {where}: {base:.2f} s, "
        f"{int(figures['baseline_archive_pages'])} pages, peak RSS "
        f"{figures['baseline_rss_peak_mb']:.0f} MB"
    )
    print(
        f"one-year archive, {int(figures['archive_records'])} records, "
        f"{int(figures['archive_pages'])} pages {where}: {took:.2f} s  target <= "
        f"{ARCHIVE_TARGET_S:g} s  ratio to baseline {_ratio(took, base):.1f}x  "
        f"{_verdict(took <= ARCHIVE_TARGET_S)}"
    )
    print(
        f"  render {figures['archive_render_s']:.2f} s (SQL {figures['archive_sql_s']:.2f} s in "
        f"{figures['archive_queries']:.0f} queries), sign {figures['archive_sign_s']:.2f} s, "
        f"{figures['archive_mb']:.1f} MB"
    )
    peak = figures["archive_rss_peak_mb"]
    print(
        f"peak RSS of the archive's process {where}: {peak:.0f} MB (before the archive "
        f"{figures['archive_rss_before_mb']:.0f} MB)  target <= {ARCHIVE_RSS_TARGET_MB:g} MB  "
        f"{_verdict(peak <= ARCHIVE_RSS_TARGET_MB)}"
    )


def _report_bulk(figures: Figures, where: str) -> None:
    if _over_limit(figures, "bulk", "bulk export", where):
        return
    base_rate = _ratio(1.0, figures["baseline_month_s"])
    rate = figures["bulk_archives_per_s"]
    print(
        f"baseline ReportLab alone, monthly archives of the same shape {where}: "
        f"{base_rate:.1f} archives/s ({figures['baseline_month_pages']:.0f} pages each)"
    )
    print(
        f"bulk export, {int(figures['bulk_archives'])} monthly archives + "
        f"{int(figures['bulk_documents'] - figures['bulk_archives'])} summaries {where}: "
        f"{rate:.2f} archives/s ({figures['bulk_s']:.0f} s; the first archive "
        f"{figures['bulk_first_archive_pages']:.0f} pages)  target >= {BULK_RATE_TARGET:g}/s  "
        f"ratio to baseline {_ratio(base_rate, rate):.1f}x  {_verdict(rate >= BULK_RATE_TARGET)}"
    )
    processes = int(figures.get("bulk_processes", 1))
    check = (
        f"ZIP {figures['zip_mb']:.0f} MB, {int(figures['zip_pdfs'])} PDFs, manifest "
        f"{'matches' if figures['manifest_ok'] else 'DOES NOT match'}"
    )
    if processes <= 1:
        print(
            f"  in the exporting process: archives rendered in "
            f"{figures['bulk_archive_render_s']:.0f} s, summaries in "
            f"{figures['bulk_summary_render_s']:.0f} s, signing {figures['bulk_sign_s']:.0f} s, "
            f"SQL {figures['bulk_sql_s']:.0f} s in {figures['bulk_queries']:.0f} queries; CPU "
            f"{figures['bulk_cpu_s']:.0f} s; {check}"
        )
    else:
        print(
            f"  rendered and signed by {processes} processes (EXPORT_PROCESSES: a host and the "
            f"{processes - 1} it forks): their CPU {figures['bulk_workers_cpu_s']:.0f} s; the "
            f"exporting process's CPU "
            f"{figures['bulk_cpu_s']:.0f} s, its SQL {figures['bulk_sql_s']:.1f} s in "
            f"{figures['bulk_queries']:.0f} queries; {check}"
        )
    peak = figures["bulk_rss_peak_mb"]
    print(
        f"peak RSS of the exporting process {where}: {peak:.0f} MB (RSS after the first tenth "
        f"{figures['bulk_rss_tenth_mb']:.0f} MB, at the end {figures['bulk_rss_end_mb']:.0f} MB)"
        f"  target <= {BULK_RSS_TARGET_MB:g} MB  {_verdict(peak <= BULK_RSS_TARGET_MB)}"
    )
    if processes > 1:
        worker = figures["bulk_worker_rss_peak_mb"]
        total = figures["bulk_total_rss_peak_mb"]
        pss = figures["bulk_total_pss_peak_mb"]
        print(
            f"peak RSS of a rendering process {where}: {worker:.0f} MB (the highest of the "
            f"{int(figures['bulk_workers_seen'])} processes below the exporting one)  "
            f"target <= {BULK_RSS_TARGET_MB:g} MB  {_verdict(worker <= BULK_RSS_TARGET_MB)}"
        )
        print(
            f"peak memory of the exporting process and all below it {where}: {pss:.0f} MB "
            f"(highest sampled sum of PSS, shared pages counted once; sum of RSS {total:.0f} MB)"
            f"  target <= {BULK_RSS_TARGET_MB:g} MB  {_verdict(pss <= BULK_RSS_TARGET_MB)}"
        )


REPORTS: dict[str, Callable[[Figures, str], None]] = {
    "sheets": _report_sheets,
    "archive": _report_archive,
    "bulk": _report_bulk,
}


# --- running -------------------------------------------------------------------------------


def _exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit (so the finally blocks drop the database), unless handled."""
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


def run_reports(admin_url: str | None, elevators: int) -> dict[str, float]:
    """Measure the documents on a fresh database (PostgreSQL at admin_url, else SQLite); print."""
    _exit_on_sigterm()
    sizes = replace(sizes_from_env(), elevators=elevators)
    label = "PostgreSQL" if admin_url else "SQLite"
    print(
        f"Documents (PDF): {label}, {elevators} elevators, bulk export of {sizes.bulk} "
        f"archives; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="benchreports-") as name:
        folder = Path(name)
        with scratch_database(admin_url, folder) as url:
            figures = measure_all(url, sizes, folder, label=label)
    print(f"  load average at the end {os.getloadavg()[0]:.1f}")
    return figures


def main() -> int:
    """Run the document benchmark alone with the sizes of the environment."""
    from bench.run import postgres_admin

    sizes = sizes_from_env()
    if not sizes.elevators:
        return 0
    print(
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    run_reports(postgres_admin(), sizes.elevators)
    return 0


if __name__ == "__main__":
    sys.exit(main())
