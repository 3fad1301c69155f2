"""Bulk exports of the regulator's desk: who may ask, the request, the background run, the purge.

A user asks for an export (``create_export``): a regulator its whole district
or one site of it, a property company one of its sites, for a period of at
most one year. The request is a queued ``ExportJob``; the scheduler process
runs the queue (``run_pending_exports``), one job after another.

``run_export`` first claims the job with one ``UPDATE ... WHERE
status='queued'`` in its own short transaction, so two workers never run the
same job. It then writes the ZIP to ``EXPORT_DIR`` (``instance/exports`` when
empty) entry by entry, in this order:

* ``archives/<equipment code>_<from>-<to>.pdf``: each elevator's archive
  (电梯管理档案) for the period;
* ``summaries/site-<site id>_<YYYY-MM>.pdf``: each site's monthly compliance
  summary, for **every month** that the period touches;
* ``summaries/district-<code>_<YYYY-MM>.pdf``: the district summary of each
  such month (district exports only);
* ``manifest.csv``: file name, SHA-256 and size of every entry above, last.

Every PDF is rendered unsigned into memory and signed (``sign_pdf`` needs
the whole document) by ``desk.documents``: in this process, or with
``EXPORT_PROCESSES`` above 1 by that many processes (a host and the workers
it forks), a few documents ahead, their results taken in order. Each is
hashed and written to the ZIP, and the progress (``done_count``) is
committed after each. Memory stays constant whatever the count: a few
documents are in memory at a time, the elevators and sites are read in
keyset pages of ``PAGE_ROWS`` ids, each commit expires the ORM objects a
document loaded (the session only keeps weak references to unchanged
objects), and the manifest's lines go to a temporary file, copied into the
ZIP at the end. The file is written as ``<name>.part`` and renamed when
complete; its size and SHA-256 are computed by reading it back in chunks.
Finished exports are kept ``EXPORT_KEEP_DAYS``; ``purge_expired`` then
deletes the file and marks the job expired.

A worker that dies (killed, out of memory, the machine restarted) cannot mark
its job failed. Each committed step sets ``progress_at``; ``fail_stalled``
marks a running job failed once ``progress_at`` is ``EXPORT_STALE_MINUTES``
old, and deletes its partial file, so the user sees that it stopped and can
ask again instead of waiting on a progress bar that never moves.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from elevator_safety import audit
from elevator_safety.auth.models import OrgKind, User
from elevator_safety.db import now_utc
from elevator_safety.desk.documents import Document, signed_documents
from elevator_safety.desk.models import ExportJob, ExportStatus
from elevator_safety.desk.search import DOWNLOAD_ACTION, EXPORT_OBJECT
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator, Site
from elevator_safety.scoping import scoped_sites

log = logging.getLogger(__name__)

#: The export form's value for "the regulator's whole district".
DISTRICT = "district"
#: Ids read per keyset page while exporting.
PAGE_ROWS = 200
#: Bytes read or copied at a time.
CHUNK_BYTES = 1 << 20
#: Name of the manifest entry and its header row.
MANIFEST = "manifest.csv"
MANIFEST_HEADER = ("file_name", "sha256", "size_bytes")

# --- who may do what ----------------------------------------------------------------


def can_export(user: User) -> bool:
    """Return whether the user may ask for bulk exports (regulators, property companies)."""
    org = user.organisation
    if org.kind == OrgKind.regulator:
        return bool(org.district_code)
    return org.kind == OrgKind.property_company


def can_view_downloads(user: User) -> bool:
    """Return whether the user may see who downloaded the company's documents."""
    return user.organisation.kind == OrgKind.property_company


# --- the request --------------------------------------------------------------------


def last_month(today: date) -> tuple[date, date]:
    """Return the first and last day of the month before ``today``'s."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def latest_end(start: date) -> date:
    """Return the last day a period starting on ``start`` may end: one year, less a day."""
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        anniversary = start.replace(year=start.year + 1, day=28) + timedelta(days=1)
    return anniversary - timedelta(days=1)


def period_problems(start: date, end: date, today: date) -> dict[str, str]:
    """Return what is wrong with an export period, by form field (empty when it is good)."""
    problems: dict[str, str] = {}
    if start > today:
        problems["period_from"] = _("The period cannot start after today.")
    if end < start:
        problems["period_to"] = _("The end must be on or after the start.")
    elif end > today:
        problems["period_to"] = _("The period cannot end after today.")
    elif end > latest_end(start):
        problems["period_to"] = _(
            "The period may be at most one year: end on %(date)s at the latest.",
            date=latest_end(start).isoformat(),
        )
    return problems


def target_choices(user: User) -> list[tuple[str, str]]:
    """Return what the user may export: the district (regulators), then each site in scope."""
    choices: list[tuple[str, str]] = []
    org = user.organisation
    if org.kind == OrgKind.regulator and org.district_code:
        label = _(
            "The whole district: %(name)s (%(code)s)",
            name=org.district_name or "",
            code=org.district_code,
        )
        choices.append((DISTRICT, label))
    rows = db.session.execute(
        scoped_sites(user).with_only_columns(Site.id, Site.name).order_by(Site.name, Site.id)
    )
    choices.extend((str(site_id), name) for site_id, name in rows)
    return choices


@dataclass(frozen=True)
class Target:
    """What an export covers: a district code, or one site."""

    district_code: str | None = None
    site: Site | None = None


def resolve_target(user: User, value: str) -> Target:
    """Return the district or site named by the form's value, if the user may export it."""
    org = user.organisation
    if value == DISTRICT and org.kind == OrgKind.regulator and org.district_code:
        return Target(district_code=org.district_code)
    if value.isdigit():
        site = db.session.scalar(scoped_sites(user).where(Site.id == int(value)))
        if site is not None:
            return Target(site=site)
    raise DomainError(_("Choose your district or one of your sites."), field="target")


def create_export(user: User, target_value: str, start: date, end: date, today: date) -> ExportJob:
    """Queue an export of a district or site for a period; audited. The caller commits."""
    if not can_export(user):
        raise DomainError(_("Your organisation may not start bulk exports."))
    target = resolve_target(user, target_value)
    problems = period_problems(start, end, today)
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field=field)
    job = ExportJob(
        requested_by=user,
        organisation_id=user.organisation_id,
        district_code=target.district_code,
        site=target.site,
        period_start=start,
        period_end=end,
        status=ExportStatus.queued,
        total_count=0,
        done_count=0,
    )
    db.session.add(job)
    db.session.flush()
    _audit(
        "create",
        job,
        changes=audit.snapshot(job, ["district_code", "site_id", "period_start", "period_end"]),
    )
    return job


def _audit(action: str, job: ExportJob, changes: dict[str, Any] | None = None) -> None:
    """Audit an action on an export, with the object type ``export``."""
    entry = audit.record(action, changes=changes, label=download_name(job))
    entry.object_type = EXPORT_OBJECT
    entry.object_id = job.id


def jobs_of(user: User) -> Select[Any]:
    """Return the exports of the user's organisation, newest first."""
    return (
        select(ExportJob)
        .where(ExportJob.organisation_id == user.organisation_id)
        .order_by(ExportJob.created_at.desc(), ExportJob.id.desc())
    )


def get_job_or_404(user: User, job_id: int) -> ExportJob:
    """Load an export of the user's organisation, or answer 404."""
    job = db.session.scalar(jobs_of(user).where(ExportJob.id == job_id))
    if job is None:
        abort(404)
    return job


def download_name(job: ExportJob) -> str:
    """Return the name the ZIP is downloaded as, e.g. ``export-510104_20261001-20261031.zip``."""
    what = job.district_code if job.district_code else f"site-{job.site_id}"
    return f"export-{what}_{job.period_start:%Y%m%d}-{job.period_end:%Y%m%d}.zip"


def export_dir() -> Path:
    """Return the folder of the export files (EXPORT_DIR, else instance/exports)."""
    configured = current_app.config.get("EXPORT_DIR") or ""
    return Path(configured) if configured else Path(current_app.instance_path) / "exports"


def export_file(job: ExportJob) -> Path | None:
    """Return the ZIP of a finished export if it is still on disk."""
    if job.status != ExportStatus.done or not job.file_name:
        return None
    path = export_dir() / job.file_name
    return path if path.is_file() else None


def record_download(job: ExportJob) -> None:
    """Audit the download of an export's ZIP (action ``download``). The caller commits."""
    _audit(DOWNLOAD_ACTION, job)


# --- the background run ---------------------------------------------------------------


def claim(job_id: int) -> bool:
    """Mark a queued job running in one committed UPDATE; False if it was not queued."""
    now = now_utc()
    with Session(bind=db.engine) as session:
        result = session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.status == ExportStatus.queued)
            .values(status=ExportStatus.running, started_at=now, progress_at=now)
        )
        session.commit()
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _months(start: date, end: date) -> Iterator[date]:
    """Yield the first day of every month that the period touches."""
    month = start.replace(day=1)
    while month <= end:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def _safe(text: str) -> str:
    """Return text usable in a ZIP entry name on every system (ASCII letters, digits, -)."""
    return re.sub(r"[^A-Za-z0-9-]", "_", text) or "_"


def _elevator_ids(job: ExportJob) -> Select[Any]:
    """Return a select of (id, equipment code) of the export's elevators."""
    query = select(Elevator.id, Elevator.equipment_code).join(Site, Elevator.site_id == Site.id)
    if job.site_id is not None:
        return query.where(Elevator.site_id == job.site_id)
    return query.where(Site.district_code == job.district_code)


def _site_ids(job: ExportJob) -> Select[Any]:
    """Return a select of the ids of the export's sites."""
    query = select(Site.id)
    if job.site_id is not None:
        return query.where(Site.id == job.site_id)
    return query.where(Site.district_code == job.district_code)


def _keyset(query: Select[Any], key: Any) -> Iterator[Any]:
    """Yield the rows of a select ordered by a unique key (one of its columns), a page at a time."""
    last = None
    while True:
        page = query.order_by(key).limit(PAGE_ROWS)
        if last is not None:
            page = page.where(key > last)
        rows = db.session.execute(page).all()
        yield from rows
        if len(rows) < PAGE_ROWS:
            return
        last = rows[-1]._mapping[key]


def document_count(job: ExportJob) -> int:
    """Return how many PDFs the export holds: archives, site summaries, district summaries."""
    months = len(list(_months(job.period_start, job.period_end)))
    elevators = db.session.scalar(select(func.count()).select_from(_elevator_ids(job).subquery()))
    sites = db.session.scalar(select(func.count()).select_from(_site_ids(job).subquery()))
    districts = 1 if job.district_code else 0
    return int(elevators or 0) + (int(sites or 0) + districts) * months


def _documents(job: ExportJob, user: User) -> Iterator[tuple[str, Document]]:
    """Yield (entry name, document) of every PDF of the export, reading ids a page at a time."""
    start, end = job.period_start, job.period_end
    span = f"{start:%Y%m%d}-{end:%Y%m%d}"
    for elevator_id, code in _keyset(_elevator_ids(job), Elevator.equipment_code):
        document = Document("archive", elevator_id, start, end, user.id)
        yield f"archives/{_safe(code)}_{span}.pdf", document
    for (site_id,) in _keyset(_site_ids(job), Site.id):
        for month in _months(start, end):
            document = Document("site", site_id, month, month, user.id)
            yield f"summaries/site-{site_id}_{month:%Y-%m}.pdf", document
    if job.district_code:
        for month in _months(start, end):
            document = Document("district", job.district_code, month, month, user.id)
            yield f"summaries/district-{_safe(job.district_code)}_{month:%Y-%m}.pdf", document


class _ZipOut:
    """The ZIP being written, and its manifest lines kept in a temporary file until the end."""

    def __init__(self, path: Path, stamp: datetime) -> None:
        self.stamp = stamp.timetuple()[:6]
        self.zip = zipfile.ZipFile(path, "w", allowZip64=True)
        self.lines = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115
        self.manifest = csv.writer(self.lines)
        self.manifest.writerow(MANIFEST_HEADER)

    def _info(self, name: str, compress: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.stamp)  # type: ignore[arg-type]
        info.compress_type = compress
        return info

    def add(self, name: str, data: bytes) -> None:
        """Write one PDF (stored: it is compressed already) and its manifest line."""
        self.zip.writestr(self._info(name, zipfile.ZIP_STORED), data)
        self.manifest.writerow((name, hashlib.sha256(data).hexdigest(), len(data)))

    def finish(self) -> None:
        """Copy the manifest into the ZIP as its last entry, then close both."""
        self.lines.seek(0)
        with self.zip.open(self._info(MANIFEST, zipfile.ZIP_DEFLATED), "w") as entry:
            while chunk := self.lines.read(CHUNK_BYTES):
                entry.write(chunk.encode("utf-8"))
        self.close()

    def close(self) -> None:
        """Close the ZIP and drop the manifest's temporary file."""
        self.zip.close()
        self.lines.close()


def file_digest(path: Path) -> tuple[int, str]:
    """Return the size and SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _write_zip(job: ExportJob, user: User, path: Path) -> None:
    """Write every document of the export to ``path``, committing the progress after each."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    out = _ZipOut(path, now_utc().astimezone(zone))
    try:
        for name, data in signed_documents(_documents(job, user)):
            out.add(name, data)
            job.done_count += 1
            job.progress_at = now_utc()
            db.session.commit()
        out.finish()
    except BaseException:
        out.close()
        raise


def _build(job: ExportJob) -> None:
    """Count, write and finish a claimed job's ZIP; the partial file never survives an error."""
    folder = export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = zip_name(job.id)
    final = folder / name
    part = folder / f"{name}.part"
    user = job.requested_by
    job.total_count = document_count(job)
    job.done_count = 0
    job.progress_at = now_utc()
    db.session.commit()
    try:
        _write_zip(job, user, part)
        os.replace(part, final)
    finally:
        part.unlink(missing_ok=True)
    size, sha256 = file_digest(final)
    finished = now_utc()
    job.file_name = name
    job.size_bytes = size
    job.sha256 = sha256
    job.status = ExportStatus.done
    job.finished_at = finished
    job.expires_at = finished + timedelta(days=int(current_app.config["EXPORT_KEEP_DAYS"]))
    db.session.commit()


def zip_name(job_id: int) -> str:
    """Return the file name of an export's ZIP inside the export folder."""
    return f"export-{job_id}.zip"


def _fail(job_id: int, error: Exception) -> None:
    """Mark a job failed with a message a user can read; remove what it wrote."""
    db.session.rollback()
    (export_dir() / zip_name(job_id)).unlink(missing_ok=True)
    if isinstance(error, DomainError):
        message = error.message
    else:
        message = f"{type(error).__name__}: {error}"
    db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id)
        .values(status=ExportStatus.failed, error=message[:2000], finished_at=now_utc())
    )
    db.session.commit()


def _run(job_id: int) -> bool:
    """Claim and run one job; return whether this process ran it."""
    if not claim(job_id):
        log.info("export %s is not queued (claimed by another worker or finished): skipped", job_id)
        return False
    job = db.session.get(ExportJob, job_id, populate_existing=True)
    if job is None:
        return False
    log.info("export %s started: %s", job_id, download_name(job))
    try:
        _build(job)
    except Exception as error:
        log.exception("export %s failed", job_id)
        _fail(job_id, error)
    else:
        log.info("export %s done: %s documents", job_id, job.done_count)
    return True


def run_export(job_id: int) -> None:
    """Claim a queued export and build its ZIP (nothing when it is not queued). Commits."""
    _run(job_id)


def _next_queued() -> int | None:
    """Return the oldest queued job's id, read in a fresh transaction."""
    with Session(bind=db.engine) as session:
        return session.scalar(
            select(ExportJob.id)
            .where(ExportJob.status == ExportStatus.queued)
            .order_by(ExportJob.created_at, ExportJob.id)
            .limit(1)
        )


def run_pending_exports() -> int:
    """Run the queued exports one after another, oldest first; return how many this ran."""
    ran = 0
    while (job_id := _next_queued()) is not None:
        ran += _run(job_id)
    return ran


def fail_stalled(now: datetime) -> int:
    """Mark failed the running exports whose progress stopped, delete their files; return how many.

    A job is stalled when its ``progress_at`` (or ``started_at``) is
    ``EXPORT_STALE_MINUTES`` before ``now``: a live worker commits after every
    document, so only a dead one leaves it that old.
    """
    limit = now - timedelta(minutes=int(current_app.config["EXPORT_STALE_MINUTES"]))
    last_sign = func.coalesce(ExportJob.progress_at, ExportJob.started_at)
    message = _("The export stopped before it was finished (its worker ended). Ask for it again.")
    stalled = db.session.scalars(
        update(ExportJob)
        .where(ExportJob.status == ExportStatus.running, last_sign <= limit)
        .values(status=ExportStatus.failed, error=message, finished_at=now)
        .returning(ExportJob.id)
    ).all()
    db.session.commit()
    folder = export_dir()
    for job_id in stalled:
        (folder / f"{zip_name(job_id)}.part").unlink(missing_ok=True)
        log.warning("export %s had made no progress since %s: marked failed", job_id, limit)
    return len(stalled)


def purge_expired(now: datetime) -> int:
    """Mark finished exports past their expiry expired, then delete their files; return how many."""
    jobs = db.session.scalars(
        select(ExportJob).where(ExportJob.status == ExportStatus.done, ExportJob.expires_at <= now)
    ).all()
    paths = [export_dir() / job.file_name for job in jobs if job.file_name]
    for job in jobs:
        job.status = ExportStatus.expired
    db.session.commit()
    for path in paths:
        path.unlink(missing_ok=True)
    if jobs:
        log.info("purged %d expired exports", len(jobs))
    return len(jobs)
