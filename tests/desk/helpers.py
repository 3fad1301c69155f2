"""Helpers of the desk tests and the desk's access-grid rows: export jobs in any state."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import date, timedelta
from pathlib import Path

from flask import current_app

from elevator_safety.auth.models import User
from elevator_safety.db import now_utc
from elevator_safety.desk import services
from elevator_safety.desk.models import ExportJob, ExportStatus
from elevator_safety.extensions import db
from elevator_safety.registry.models import Site

PERIOD = (date(2026, 10, 1), date(2026, 10, 31))


def use_test_export_dir() -> Path:
    """Point EXPORT_DIR into the test's own folder (beside UPLOAD_FOLDER) and return it."""
    if not current_app.config.get("EXPORT_DIR"):
        upload = Path(current_app.config["UPLOAD_FOLDER"])
        current_app.config["EXPORT_DIR"] = str(upload.parent / "exports")
    return services.export_dir()


def make_job(
    user: User,
    *,
    site: Site | None = None,
    period: tuple[date, date] = PERIOD,
    status: ExportStatus = ExportStatus.queued,
) -> ExportJob:
    """Queue an export for the user's organisation: the district (regulators) or a site."""
    org = user.organisation
    job = ExportJob(
        requested_by=user,
        organisation_id=org.id,
        district_code=None if site is not None else org.district_code,
        site=site,
        period_start=period[0],
        period_end=period[1],
        status=status,
        total_count=0,
        done_count=0,
    )
    db.session.add(job)
    db.session.commit()
    return job


def make_done_job(user: User, *, site: Site | None = None) -> ExportJob:
    """Return a finished export with a small ZIP on disk, kept for EXPORT_KEEP_DAYS."""
    job = make_job(user, site=site)
    folder = use_test_export_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / services.zip_name(job.id)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(services.MANIFEST, ",".join(services.MANIFEST_HEADER) + "\r\n")
    data = path.read_bytes()
    finished = now_utc()
    job.status = ExportStatus.done
    job.file_name = path.name
    job.size_bytes = len(data)
    job.sha256 = hashlib.sha256(data).hexdigest()
    job.total_count = job.done_count = 0
    job.finished_at = finished
    job.expires_at = finished + timedelta(days=7)
    db.session.commit()
    return job


def read_zip(job: ExportJob) -> zipfile.ZipFile:
    """Open a finished export's ZIP."""
    return zipfile.ZipFile(services.export_dir() / job.file_name)
