"""Bulk exports rendered by worker processes (EXPORT_PROCESSES above 1).

The workers are real processes: a spawned host with an app of its own on the
test's database and instance folder, and the workers it forks from it. What
they sign must verify against this installation and come back in the
export's order; their errors must fail the job as an error in the export's
own process does, and a worker must not outlive its host.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from datetime import date
from typing import ClassVar

import pytest

from elevator_safety import ConfigError
from elevator_safety import config as default_config
from elevator_safety.desk import documents, services
from elevator_safety.desk.models import ExportStatus
from elevator_safety.extensions import db
from elevator_safety.reports.fonts import FontMissing
from elevator_safety.reports.verifying import check_pdf
from tests.desk.helpers import make_job, read_zip

PERIOD = (date(2026, 9, 20), date(2026, 10, 31))


def _run(app, user, processes: int):  # type: ignore[no-untyped-def]
    app.config["EXPORT_PROCESSES"] = processes
    job = make_job(user, period=PERIOD)
    services.run_export(job.id)
    db.session.expire_all()
    return job


class CountingHost(documents.HostProcess):
    """The real host, counting the batches it is given and remembering its process id."""

    submitted = 0
    pids: ClassVar[set[int]] = set()

    def send(self, batch):  # type: ignore[no-untyped-def]
        CountingHost.submitted += 1
        CountingHost.pids.add(self.process.pid)
        super().send(batch)


def _renderers(caplog) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """Return {process id: documents} of the export's log line on who rendered its documents."""
    (record,) = [r for r in caplog.records if r.getMessage().startswith("export documents")]
    found = re.findall(r"(\d+) \((\d+)\)", record.args[0])  # type: ignore[index]
    return {int(pid): int(count) for pid, count in found}


def test_worker_processes_write_the_zip_one_process_writes(
    app, world, small_district, monkeypatch, caplog
):
    alone = _run(app, world.own.regulator, 1)
    monkeypatch.setattr(documents, "HostProcess", CountingHost)
    monkeypatch.setattr(documents, "BATCH_PER_PROCESS", 1)  # batches of 2: several in flight
    caplog.set_level(logging.INFO, logger=documents.__name__)
    pooled = _run(app, world.own.regulator, 2)
    assert alone.status == pooled.status == ExportStatus.done, pooled.error
    assert pooled.done_count == pooled.total_count == alone.total_count
    # One host process, given the documents two at a time, then asked for the last two.
    assert CountingHost.submitted == math.ceil(pooled.total_count / 2) + 1
    assert len(CountingHost.pids) == 1
    # The host renders the first document and a share of each batch, its forked worker the
    # rest: never this process.
    renderers = _renderers(caplog)
    assert sum(renderers.values()) == pooled.done_count
    assert len(renderers) == 2
    assert os.getpid() not in renderers
    (host,) = CountingHost.pids
    # Batches of two: the first document and the second of each later batch are the host's.
    assert renderers[host] == 1 + (pooled.total_count - 2) // 2
    assert min(renderers.values()) > 0
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


def test_an_error_in_a_forked_worker_reaches_the_caller(app, world, small_district):
    # The host renders the first document itself; a deleted site needs no font, so the
    # second document is the first to need it, and a forked worker is the one that fails.
    app.config["REPORT_FONT_PATH"] = "/nowhere/wqy-microhei.ttc"
    gone = documents.Document("site", 999_999, date(2026, 10, 1), date(2026, 10, 1), 1)
    district = documents.Document("district", "510104", date(2026, 10, 1), date(2026, 10, 1), 1)
    named = [("gone.pdf", gone), ("district.pdf", district)]
    with pytest.raises(FontMissing, match=re.escape("/nowhere/wqy-microhei.ttc")):
        list(documents.signed_documents(named, 2))


class DyingHost(documents.HostProcess):
    """The real host, killed before it is given its second batch."""

    def send(self, batch):  # type: ignore[no-untyped-def]
        self.sent = getattr(self, "sent", 0) + 1
        if self.sent == 2:
            self.process.kill()
            self.process.wait()
        super().send(batch)


def test_a_host_that_dies_fails_the_export_instead_of_hanging(
    app, world, small_district, monkeypatch
):
    monkeypatch.setattr(documents, "HostProcess", DyingHost)
    monkeypatch.setattr(documents, "BATCH_PER_PROCESS", 1)
    with pytest.raises(documents.HostError, match="the export host ended: stopped by SIGKILL"):
        list(documents.signed_documents(_districts(6), 2))


class InterruptedHost(documents.HostProcess):
    """The real host, given Ctrl-C's signal once it has rendered the first batch."""

    def receive(self):  # type: ignore[no-untyped-def]
        self.received = getattr(self, "received", 0) + 1
        if self.received == 2:
            os.kill(self.process.pid, signal.SIGINT)
        return super().receive()


def test_ctrl_c_ends_the_host_quietly_and_fails_the_export(
    app, world, small_district, monkeypatch, capfd
):
    monkeypatch.setattr(documents, "HostProcess", InterruptedHost)
    monkeypatch.setattr(documents, "BATCH_PER_PROCESS", 1)
    with pytest.raises(documents.HostError, match="the export host ended: stopped by SIGINT"):
        list(documents.signed_documents(_districts(12), 2))
    # The host writes to this process's standard error: no traceback there.
    assert "KeyboardInterrupt" not in capfd.readouterr().err


class KeptHost(documents.HostProcess):
    """The real host, kept for the test to look at once the export has ended."""

    made: ClassVar[list[documents.HostProcess]] = []

    def __init__(self, app, processes):  # type: ignore[no-untyped-def]
        super().__init__(app, processes)
        KeptHost.made.append(self)


def _districts(count: int) -> list[tuple[str, documents.Document]]:
    month = date(2026, 10, 1)
    return [
        (f"{n}.pdf", documents.Document("district", "510104", month, month, 1))
        for n in range(count)
    ]


def test_an_export_stopped_early_lets_its_host_end_by_itself(
    app, world, small_district, monkeypatch
):
    KeptHost.made.clear()
    monkeypatch.setattr(documents, "HostProcess", KeptHost)
    monkeypatch.setattr(documents, "BATCH_PER_PROCESS", 1)
    results = documents.signed_documents(_districts(12), 2)
    _name, first = next(results)
    # The replies in flight are larger than a pipe holds: the host is writing when we stop.
    assert len(first) * 2 > 65_536
    results.close()
    (host,) = KeptHost.made
    assert host.process.returncode == 0  # it ended by itself, not killed after a minute


def test_an_error_while_the_host_starts_reaches_the_caller(app, small_district):
    app.config["TESTING"] = False  # production, with the default secret key: refused
    app.config["SECRET_KEY"] = default_config.DEFAULT_SECRET_KEY
    with pytest.raises(ConfigError, match="default SECRET_KEY"):
        list(documents.signed_documents(_districts(3), 2))


class Unpicklable(Exception):
    """An error carrying something pickle cannot take."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.callback = lambda: None


def test_an_error_that_cannot_travel_arrives_as_its_text():
    travelled = documents._travelling(Unpicklable("the font is gone"))
    assert isinstance(travelled, documents.HostError)
    assert str(travelled) == "Unpicklable: the font is gone"
    own = FontMissing("/nowhere/wqy-microhei.ttc")
    assert documents._travelling(own) is own


def test_worker_config_keeps_what_can_travel(app):
    app.config["NOT_PICKLABLE"] = lambda: None
    config = documents.worker_config(app)
    assert "NOT_PICKLABLE" not in config
    assert config["SQLALCHEMY_DATABASE_URI"] == app.config["SQLALCHEMY_DATABASE_URI"]
    assert config["EXPORT_PROCESSES"] == app.config["EXPORT_PROCESSES"]


ORPHAN = """
import os, sys, time
from elevator_safety.desk.documents import die_with_parent
parent = os.getpid()
child = os.fork()
if child == 0:
    die_with_parent(parent)
    time.sleep(60)
    os._exit(0)
print(child, flush=True)
"""


def _alive(pid: int) -> bool:
    """Return whether a process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux's /proc")
def test_a_forked_worker_ends_with_its_host():
    # The host forks, the child asks to die with it, and the host exits at once.
    done = subprocess.run(  # noqa: S603 - this interpreter on the script above
        [sys.executable, "-c", ORPHAN], capture_output=True, text=True, timeout=60, check=True
    )
    child = int(done.stdout)
    deadline = time.monotonic() + 30
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


EXPORTER = """
import os, pickle, sys, time
from datetime import date
from elevator_safety import create_app
from elevator_safety.desk import documents
with open(sys.argv[1], "rb") as handle:
    config, instance = pickle.load(handle)
app = create_app(config)
app.instance_path = instance
with app.app_context():
    month = date(2026, 10, 1)
    named = ((f"{n}.pdf", documents.Document("district", "510104", month, month, 1))
             for n in range(10_000))
    for _result in documents.signed_documents(named, 2):
        print("rendering", flush=True)
        time.sleep(120)  # killed here, with the host and its workers at work
"""


def _command(pid: int) -> str:
    """Return a process's command line, its arguments joined by spaces."""
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().replace(b"\0", b" ").decode()


def _descendants(pid: int) -> list[int]:
    """Return the ids of the processes below one."""
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
            for child in map(int, handle.read().split()):
                found += [child, *_descendants(child)]
    return found


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux's /proc")
def test_a_killed_exporter_leaves_no_host_or_worker_behind(app, small_district, tmp_path):
    spec = tmp_path / "exporter.pickle"
    spec.write_bytes(pickle.dumps((documents.worker_config(app), app.instance_path)))
    with subprocess.Popen(  # noqa: S603 - this interpreter on the script above
        [sys.executable, "-c", EXPORTER, str(spec)], stdout=subprocess.PIPE, text=True
    ) as exporter:
        try:
            assert exporter.stdout is not None
            assert exporter.stdout.readline().strip() == "rendering"
            below = _descendants(exporter.pid)
            assert len(below) == 2  # the host and its worker
            # A plain child process: no multiprocessing resource tracker comes along.
            assert not any("resource_tracker" in _command(pid) for pid in below)
        finally:
            exporter.kill()
    deadline = time.monotonic() + 30
    while any(map(_alive, below)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in below if _alive(pid)] == []
