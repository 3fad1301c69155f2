"""Measure the documents in a fresh process: ``python -m bench.reports_measure WHAT SPEC.json``.

bench/reports.py fills a database, writes a spec (database URL, app settings,
which records, elevators and district to use, the content shapes for the
baseline) and starts one child process per measurement, so that each peak
resident set size (``VmHWM`` of /proc/self/status, bench/memory.py: the whole
process, interpreter and app included) belongs to that measurement alone.
Each child prints one JSON line of figures (seconds, MB, counts).

(The baseline runs in a process of its own too, ``python -m
bench.reportlab_baseline SPEC.json``, which imports ReportLab and nothing of
the app.) WHAT is one of:

* ``sheets``: record sheets (``render.record_sheet`` + ``signing.sign_pdf``)
  of the spec's records, each in a fresh session (loading the record is
  timed too), after a few untimed ones (fonts, signing key); median and p95;
* ``archive``: the one-year elevator archive, rendered and signed once after
  one untimed sheet, with the time its SQL took;
* ``bulk``: one bulk export (``desk.services.run_export``) of the spec's
  district for the month, as the scheduler runs it, with the app's
  ``EXPORT_PROCESSES`` worker processes; the ZIP is checked (every entry a
  PDF, the manifest lists them all) and memory is sampled during the run,
  this process's and that of every process below it (the host and the
  workers it forks): each one's ``VmHWM`` as last
  read, the highest sum of their RSS, which counts the pages they share once
  per process, and the highest sum of their PSS (``smaps_rollup``: each
  shared page divided among the processes sharing it), the memory they take
  together; growth with the count would show;

Instrumentation: SQL time comes from SQLAlchemy's cursor events; in ``bulk``
the render and sign functions the export calls are wrapped with timers in
this process only (nothing in the app changes): with worker processes they
time nothing, and the workers' CPU comes from ``RUSAGE_CHILDREN`` (counted
once the pool has ended).
"""

from __future__ import annotations

import io
import json
import os
import resource
import statistics
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask
from flask_login import login_user
from sqlalchemy import event

from bench.memory import peak_rss_mb
from bench.pages import p95
from elevator_safety import create_app
from elevator_safety.auth.models import User
from elevator_safety.desk import services as desk
from elevator_safety.desk.models import ExportJob, ExportStatus
from elevator_safety.extensions import db
from elevator_safety.records.models import Record, RecordKind
from elevator_safety.registry.models import Elevator
from elevator_safety.scoping import local_today

Figures = dict[str, float]
Spec = dict[str, Any]
#: Untimed sheets before the timed ones (fonts registered, signing key parsed).
WARMUP_SHEETS = 3
#: Seconds between RSS samples during a bulk export.
RSS_EVERY_S = 0.25


def peak_mb() -> float:
    """Return the process's own peak resident set size in MB (bench/memory.py)."""
    return peak_rss_mb()


def rss_mb() -> float:
    """Return the process's current resident set size in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    """Return the CPU seconds (user + system) this process (or its ended children) used so far."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def open_app(spec: Spec) -> Flask:
    """Return the app on the spec's database with the spec's settings."""
    return create_app({"SQLALCHEMY_DATABASE_URI": spec["url"], **spec["config"]})


@dataclass
class SqlClock:
    """Counts the statements executed and the seconds spent in them (cursor events)."""

    queries: int = 0
    seconds: float = 0.0
    _started: list[float] = field(default_factory=list)

    def attach(self) -> None:
        event.listen(db.engine, "before_cursor_execute", self._before)
        event.listen(db.engine, "after_cursor_execute", self._after)

    def _before(self, *_args: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, *_args: Any) -> None:
        self.queries += 1
        self.seconds += time.perf_counter() - self._started.pop()


@dataclass
class Timer:
    """Total seconds and calls of a wrapped function."""

    seconds: float = 0.0
    calls: int = 0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        return timed


def page_count(data: bytes) -> int:
    """Return the number of pages of a PDF."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(data)).root["/Pages"]["/Count"])


def _sheet(record_id: int) -> tuple[bytes, float, float, RecordKind]:
    """Load, render and sign one record's sheet in a fresh session; return it and its times."""
    from elevator_safety.reports import render, signing

    db.session.remove()
    started = time.perf_counter()
    record = db.session.get(Record, record_id)
    if record is None:
        raise RuntimeError(f"record {record_id} not found")
    buffer = io.BytesIO()
    render.record_sheet(record, None, buffer)
    rendered = time.perf_counter()
    signed = signing.sign_pdf(buffer.getvalue())
    return signed, rendered - started, time.perf_counter() - rendered, record.kind


def measure_sheets(spec: Spec) -> Figures:
    """Time the record sheets of the spec's records (see the module docstring)."""
    folder = Path(spec["folder"])
    app = open_app(spec)
    with app.app_context():
        ids: list[int] = spec["sheet_ids"]
        started = time.perf_counter()
        _sheet(ids[0])
        cold = time.perf_counter() - started
        for record_id in ids[1:WARMUP_SHEETS]:
            _sheet(record_id)
        clock = SqlClock()
        clock.attach()
        totals: list[float] = []
        renders: list[float] = []
        signs: list[float] = []
        by_kind: dict[str, list[float]] = {}
        pages: dict[str, int] = {}
        for record_id in ids:
            data, render_s, sign_s, kind = _sheet(record_id)
            totals.append(render_s + sign_s)
            renders.append(render_s)
            signs.append(sign_s)
            by_kind.setdefault(kind.value, []).append(render_s + sign_s)
            if kind.value not in pages:
                pages[kind.value] = page_count(data)
                (folder / f"sheet-{kind.value}.pdf").write_bytes(data)
        db.session.remove()
        db.engine.dispose()
    figures: Figures = {
        "sheets": float(len(totals)),
        "sheet_median_s": statistics.median(totals),
        "sheet_p95_s": p95(totals),
        "sheet_render_median_s": statistics.median(renders),
        "sheet_sign_median_s": statistics.median(signs),
        "sheet_sql_s": clock.seconds / len(totals),
        "sheet_queries": clock.queries / len(totals),
        "sheet_cold_s": cold,
        "sheet_rss_peak_mb": peak_mb(),
    }
    for name, samples in by_kind.items():
        figures[f"sheet_{name}_median_s"] = statistics.median(samples)
        figures[f"sheet_{name}_pages"] = float(pages[name])
    return figures


def measure_archive(spec: Spec) -> Figures:
    """Time the one-year archive of the spec's elevator, rendered and signed once."""
    from elevator_safety.reports import render, signing

    app = open_app(spec)
    start, end = (date.fromisoformat(d) for d in spec["year_period"])
    with app.app_context():
        _sheet(spec["sheet_ids"][0])  # fonts and signing key, as in a running server
        db.session.remove()
        before = peak_mb()
        clock = SqlClock()
        clock.attach()
        started = time.perf_counter()
        elevator = db.session.get(Elevator, spec["year_elevator_id"])
        if elevator is None:
            raise RuntimeError("the year elevator is missing")
        buffer = io.BytesIO()
        render.elevator_archive(elevator, start, end, None, buffer)
        rendered = time.perf_counter()
        signed = signing.sign_pdf(buffer.getvalue())
        done = time.perf_counter()
        peak = peak_mb()
        db.session.remove()
        db.engine.dispose()
    Path(spec["folder"], "archive-year.pdf").write_bytes(signed)
    return {
        "archive_s": done - started,
        "archive_render_s": rendered - started,
        "archive_sign_s": done - rendered,
        "archive_sql_s": clock.seconds,
        "archive_queries": float(clock.queries),
        "archive_pages": float(page_count(signed)),
        "archive_mb": len(signed) / 1e6,
        "archive_records": float(len(spec["year_shape"]["records"])),
        "archive_rss_before_mb": before,
        "archive_rss_peak_mb": peak,
    }


def descendant_pids(pid: int | str = "self") -> list[int]:
    """Return the ids of the processes below one (the export's host and its workers)."""
    pids: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return pids
    for task in tasks:
        try:
            children = [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
        for child in children:
            pids += [child, *descendant_pids(child)]
    return pids


def _proc_mb(pid: int | str, file: str, key: str) -> float:
    """Return a ``key: N kB`` line of /proc/PID/FILE in MB (0 once the process has ended).

    ``status`` holds ``VmRSS`` and ``VmHWM``; ``smaps_rollup`` holds ``Pss``.
    """
    try:
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class RssSamples:
    """RSS samples of this process, RSS and PSS sums over it and those below, each one's peak."""

    own: list[tuple[float, float]] = field(default_factory=list)
    total_peak_mb: float = 0.0
    total_pss_peak_mb: float = 0.0
    child_peaks_mb: dict[int, float] = field(default_factory=dict)

    def take(self, at: float) -> None:
        own = rss_mb()
        self.own.append((at, own))
        total, pss = own, _proc_mb("self", "smaps_rollup", "Pss")
        for pid in descendant_pids():
            total += _proc_mb(pid, "status", "VmRSS")
            pss += _proc_mb(pid, "smaps_rollup", "Pss")
            peak = _proc_mb(pid, "status", "VmHWM")
            self.child_peaks_mb[pid] = max(peak, self.child_peaks_mb.get(pid, 0.0))
        self.total_peak_mb = max(self.total_peak_mb, total)
        self.total_pss_peak_mb = max(self.total_pss_peak_mb, pss)


@contextmanager
def rss_sampler() -> Iterator[RssSamples]:
    """Yield samples that a thread takes every RSS_EVERY_S until the block ends."""
    samples = RssSamples()
    stop = threading.Event()
    started = time.perf_counter()

    def sample() -> None:
        while not stop.wait(RSS_EVERY_S):
            samples.take(time.perf_counter() - started)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def rss_at(samples: list[tuple[float, float]], share: float) -> float:
    """Return the highest RSS sampled in the first ``share`` of the run (at least the first)."""
    if not samples:
        return rss_mb()
    limit = samples[-1][0] * share
    return max([mb for at, mb in samples if at <= limit] or [samples[0][1]])


def check_zip(path: Path) -> dict[str, float]:
    """Check the export's ZIP: every entry but the manifest a PDF, the manifest listing them."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n != desk.MANIFEST]
        manifest = archive.read(desk.MANIFEST).decode("utf-8").splitlines()[1:]
        listed = {line.split(",")[0] for line in manifest}
        pdfs = 0
        for name in names:
            with archive.open(name) as entry:
                pdfs += entry.read(5) == b"%PDF-"
        archives = [n for n in names if n.startswith("archives/")]
        pages = page_count(archive.read(archives[0])) if archives else 0
    return {
        "bulk_archives": float(len(archives)),
        "bulk_first_archive_pages": float(pages),
        "zip_entries": float(len(names)),
        "zip_pdfs": float(pdfs),
        "manifest_ok": float(listed == set(names) and len(manifest) == len(names)),
        "zip_mb": path.stat().st_size / 1e6,
    }


def _queue(app: Flask, spec: Spec) -> int:
    """Queue the district export for the month as the regulator would; return the job's id.

    Through ``desk.create_export`` in a request where the regulator is logged
    in: the same checks (scope, period) and audit entry as the desk's form.
    """
    user = db.session.get(User, spec["regulator_id"])
    if user is None:
        raise RuntimeError("the regulator is missing")
    start, end = (date.fromisoformat(d) for d in spec["month_period"])
    with app.test_request_context():
        login_user(user)
        job = desk.create_export(user, desk.DISTRICT, start, end, local_today())
        db.session.commit()
        return job.id


@contextmanager
def timed_calls(processes: int) -> Iterator[dict[str, Timer]]:
    """Wrap the render and sign functions the export calls with timers; restore them after.

    Only when this process renders (``processes`` at 1): otherwise the workers
    render, and importing the modules here would add the PDF libraries to the
    memory of a process that, as the scheduler, never loads them.
    """
    timers = {name: Timer() for name in ("archive", "site", "district", "sign")}
    if processes > 1:
        yield timers
        return
    from elevator_safety.reports import render, signing

    patches = [
        (render, "elevator_archive", "archive"),
        (render, "site_summary", "site"),
        (render, "district_summary", "district"),
        (signing, "sign_pdf", "sign"),
    ]
    originals = [(module, name, getattr(module, name)) for module, name, _ in patches]
    for module, name, key in patches:
        setattr(module, name, timers[key].wrap(getattr(module, name)))
    try:
        yield timers
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def measure_bulk(spec: Spec) -> Figures:
    """Run one bulk export of the district for the month and time it (see the docstring)."""
    app = open_app(spec)
    processes = int(app.config["EXPORT_PROCESSES"])
    with app.app_context(), timed_calls(processes) as timers:
        job_id = _queue(app, spec)
        db.session.remove()
        before = peak_mb()
        clock = SqlClock()
        clock.attach()
        cpu, workers_cpu = cpu_s(), cpu_s(resource.RUSAGE_CHILDREN)
        with rss_sampler() as samples:
            started = time.perf_counter()
            desk.run_export(job_id)
            wall = time.perf_counter() - started
        peak = peak_mb()  # before the ZIP's check, which loads a PDF reader
        cpu, workers_cpu = cpu_s() - cpu, cpu_s(resource.RUSAGE_CHILDREN) - workers_cpu
        job = db.session.get(ExportJob, job_id, populate_existing=True)
        if job is None or job.status != ExportStatus.done or not job.file_name:
            raise RuntimeError(f"the export did not finish: {job.error if job else 'no job'}")
        figures = check_zip(desk.export_dir() / job.file_name)
        documents = job.done_count
        db.session.remove()
        db.engine.dispose()
    own = samples.own
    workers = sorted(samples.child_peaks_mb.values())
    return figures | {
        "bulk_processes": float(processes),
        "bulk_s": wall,
        "bulk_cpu_s": cpu,
        "bulk_workers_cpu_s": workers_cpu,
        "bulk_documents": float(documents),
        "bulk_archives_per_s": figures["bulk_archives"] / wall,
        # Timed in this process: with worker processes the rendering and signing are theirs.
        "bulk_archive_render_s": timers["archive"].seconds,
        "bulk_summary_render_s": timers["site"].seconds + timers["district"].seconds,
        "bulk_site_summaries": float(timers["site"].calls),
        "bulk_sign_s": timers["sign"].seconds,
        "bulk_sql_s": clock.seconds,
        "bulk_queries": float(clock.queries),
        "bulk_rss_before_mb": before,
        "bulk_rss_tenth_mb": rss_at(own, 0.1),
        "bulk_rss_end_mb": own[-1][1] if own else rss_mb(),
        "bulk_rss_peak_mb": peak,
        "bulk_worker_rss_peak_mb": workers[-1] if workers else 0.0,
        "bulk_workers_seen": float(len(workers)),
        "bulk_total_rss_peak_mb": samples.total_peak_mb,
        "bulk_total_pss_peak_mb": samples.total_pss_peak_mb,
    }


MEASURES: dict[str, Callable[[Spec], Figures]] = {
    "sheets": measure_sheets,
    "archive": measure_archive,
    "bulk": measure_bulk,
}


def main(argv: list[str]) -> int:
    """Run one measurement of a spec file and print its figures as one JSON line."""
    what, spec_path = argv
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    print(json.dumps(MEASURES[what](spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
