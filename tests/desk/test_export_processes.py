"""Bulk exports rendered by worker processes (EXPORT_PROCESSES above 1).

The workers are real spawned processes with apps of their own on the test's
database and instance folder: what they sign must verify against this
installation, come back in the export's order, and their errors must fail the
job as an error in the export's own process does.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from typing import ClassVar

from elevator_safety.desk import documents, services
from elevator_safety.desk.models import ExportStatus
from elevator_safety.extensions import db
from elevator_safety.reports.verifying import check_pdf
from tests.desk.helpers import make_job, read_zip

PERIOD = (date(2026, 9, 20), date(2026, 10, 31))


def _run(app, user, processes: int):  # type: ignore[no-untyped-def]
    app.config["EXPORT_PROCESSES"] = processes
    job = make_job(user, period=PERIOD)
    services.run_export(job.id)
    db.session.expire_all()
    return job


class CountingPool(ProcessPoolExecutor):
    """The real pool, counting what it is given and remembering its processes' ids."""

    submitted = 0
    pids: ClassVar[set[int]] = set()

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        CountingPool.submitted += 1
        future = super().submit(fn, *args, **kwargs)
        CountingPool.pids |= set(self._processes or {})
        return future


def test_worker_processes_write_the_zip_one_process_writes(app, world, small_district, monkeypatch):
    alone = _run(app, world.own.regulator, 1)
    monkeypatch.setattr(documents, "ProcessPoolExecutor", CountingPool)
    pooled = _run(app, world.own.regulator, 2)
    assert alone.status == pooled.status == ExportStatus.done, pooled.error
    assert pooled.done_count == pooled.total_count == alone.total_count
    assert CountingPool.submitted == pooled.total_count
    assert len(CountingPool.pids) == 2
    assert os.getpid() not in CountingPool.pids
    with read_zip(alone) as one, read_zip(pooled) as two:
        names = two.namelist()
        assert names == one.namelist()  # same documents, same order
        manifest = two.read(services.MANIFEST).decode("utf-8").splitlines()
        assert [line.split(",")[0] for line in manifest[1:]] == names[:-1]
        archive = next(name for name in names if name.startswith("archives/"))
        worker_copy = check_pdf(two.read(archive))
        own_copy = check_pdf(one.read(archive))
    # Signed with this installation's identity (the workers use the caller's instance folder).
    assert worker_copy.ok, (worker_copy.signature_detail, worker_copy.failures)
    assert worker_copy.signer == own_copy.signer
    assert worker_copy.hashes == own_copy.hashes != []


def test_an_error_in_a_worker_fails_the_export_with_its_message(app, world, small_district):
    app.config["REPORT_FONT_PATH"] = "/nowhere/wqy-microhei.ttc"
    job = _run(app, world.own.regulator, 2)
    assert job.status == ExportStatus.failed
    assert "/nowhere/wqy-microhei.ttc" in job.error
    assert job.done_count == 0
    assert list(services.export_dir().iterdir()) == []


def test_documents_of_a_deleted_site_are_left_out_in_both_modes(app, world, small_district):
    gone = documents.Document("site", 999_999, date(2026, 10, 1), date(2026, 10, 1), 1)
    kept = documents.Document("district", "510104", date(2026, 10, 1), date(2026, 10, 1), 1)
    named = [("gone.pdf", gone), ("kept.pdf", kept)]
    for processes in (1, 2):
        written = list(documents.signed_documents(named, processes))
        assert [name for name, _data in written] == ["kept.pdf"], processes
        assert written[0][1].startswith(b"%PDF")


def test_worker_config_keeps_what_can_travel(app):
    app.config["NOT_PICKLABLE"] = lambda: None
    config = documents.worker_config(app)
    assert "NOT_PICKLABLE" not in config
    assert config["SQLALCHEMY_DATABASE_URI"] == app.config["SQLALCHEMY_DATABASE_URI"]
    assert config["EXPORT_PROCESSES"] == app.config["EXPORT_PROCESSES"]
