"""The documents of a bulk export, rendered and signed here or by a host process and its workers.

A document is named by a ``Document``: what to print (an elevator's archive,
a site's or a district's monthly summary), for which period and as which user;
small enough to send to another process. ``signed_document`` renders one
unsigned PDF into memory and returns it signed, in the current app context.

``signed_documents`` turns the export's documents into signed bytes, in the
order given. With ``EXPORT_PROCESSES`` at 1 it renders them one after the
other in this process. Above 1 it renders them in that many processes, made
so that they share what they can:

* the caller (the scheduler process) starts one host process, a fresh
  interpreter (``HostProcess``, pickles over its pipes): a fork of the
  scheduler would copy its threads' locks half-held. The caller itself
  never renders, and never loads the PDF libraries;
* the host builds an app from the caller's configuration, renders the first
  document itself (which loads the PDF libraries, the font, the signer and
  the SQL caches), closes its database connections, freezes its objects out
  of the garbage collector's reach (``gc.freeze``) and forks one worker
  fewer than the export's processes. The host has only its main thread
  then, so the fork is safe; the workers start at once with everything
  loaded, and share those pages with the host until they write to them;
* the caller hands the host batches of ``BATCH_PER_PROCESS`` documents per
  process. The host queues the head of each in its workers, renders the
  tail itself, and returns the batch before, in order, so the workers are
  never idle between batches. Memory stays bounded whatever the count, and
  the caller still writes and commits one document at a time.

With two processes (the default), the export's processes together, the
scheduler's included, take about 295 MB (PSS): 7 MB more when the host was
a multiprocessing process, which brought multiprocessing's resource tracker
along, about 380 MB when the
scheduler loaded the PDF libraries and the host forked two workers and
rendered nothing, about 450 MB when each worker was spawned with a whole
app of its own (docs/performance.md).

ReportLab is pure Python, so threads would not render in parallel; processes do.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import logging
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import traceback
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import cache, partial
from io import BytesIO
from typing import Any, Literal

from flask import Flask, current_app

from elevator_safety.auth.models import User
from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator, Site

#: prctl's option that has the kernel signal a process when its parent ends (Linux).
PR_SET_PDEATHSIG = 1

#: Documents per worker process in a batch handed to the host (two batches are in flight).
BATCH_PER_PROCESS = 4

logger = logging.getLogger(__name__)

DocumentKind = Literal["archive", "site", "district"]


@dataclass(frozen=True)
class Document:
    """One PDF of an export: what (kind and key), which period, printed for which user."""

    kind: DocumentKind
    key: int | str  # elevator id, site id or district code
    start: date
    end: date
    user_id: int


def _write(document: Document, user: User | None, out: BytesIO) -> bool:
    """Write the unsigned PDF; return False when its elevator or site no longer exists."""
    # Here, not at the top: the scheduler that runs exports never renders (the module's doc).
    from elevator_safety.reports import render

    if document.kind == "archive":
        elevator = db.session.get(Elevator, document.key)
        if elevator is None:
            return False
        render.elevator_archive(elevator, document.start, document.end, user, out)
    elif document.kind == "site":
        site = db.session.get(Site, document.key)
        if site is None:
            return False
        render.site_summary(site, document.start, user, out)
    else:
        render.district_summary(str(document.key), document.start, user, out)
    return True


def signed_document(document: Document) -> bytes | None:
    """Render one document unsigned into memory and return it signed (needs an app context).

    None when its elevator or site was deleted after the export listed it: it is left out.
    """
    from elevator_safety.reports import signing

    user = db.session.get(User, document.user_id)
    with BytesIO() as buffer:
        if not _write(document, user, buffer):
            return None
        unsigned = buffer.getvalue()
    return signing.sign_pdf(unsigned)


# --- the worker processes ------------------------------------------------------------------

_worker_app: Flask | None = None
#: Worker processes the host forks: one fewer than the export's processes (it renders too).
_host_workers = 0
#: The host's pool of forked workers, started with its first batch, shut down by ``host_main``.
_forked: ProcessPoolExecutor | None = None
#: The host's batch in its workers, returned with the next call.
_pending: list[Future[tuple[int, bytes | None]]] = []


def worker_config(app: Flask) -> dict[str, Any]:
    """Return the app's settings that can travel to another process (all plain values do)."""
    config: dict[str, Any] = {}
    for key, value in app.config.items():
        try:
            pickle.dumps(value)
        except Exception:  # noqa: S112 - an object a worker does not need
            continue
        config[key] = value
    return config


def _start_host(config: dict[str, Any], instance_path: str, processes: int, caller: int) -> None:
    """Build the host process's app on the caller's instance folder (``host_main`` starts here).

    The instance folder holds the signing identity: the workers sign as the caller would.
    Its workers (one fewer than ``processes``: it renders too) are forked
    with its first batch (``_forked_pool``).
    The host ends with the caller's thread that started it, which waits for the
    export's last document, so a killed scheduler leaves no host behind.
    """
    from elevator_safety import create_app

    die_with_parent(caller)
    global _worker_app, _host_workers  # one app per host process, inherited by its workers
    _worker_app = create_app(config)
    _worker_app.instance_path = instance_path
    _host_workers = processes - 1


def _in_worker(document: Document) -> tuple[int, bytes | None]:
    """Render and sign one document; return this process's id with it; leave no session behind."""
    if _worker_app is None:
        raise RuntimeError("the export worker has no app")
    with _worker_app.app_context():
        try:
            return os.getpid(), signed_document(document)
        finally:
            db.session.remove()
            _trim_heap()


@cache
def _libc() -> ctypes.CDLL:
    """Return the C library this process runs on, opened once."""
    return ctypes.CDLL(None, use_errno=True)


def _trim_heap() -> None:
    """Hand the freed heap back to the kernel (glibc's ``malloc_trim``; elsewhere nothing).

    After each document: about 15 MB less in all the export's processes
    together (docs/performance.md).
    """
    with contextlib.suppress(OSError, AttributeError):
        _libc().malloc_trim(0)


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent ends (Linux; elsewhere nothing).

    A forked worker holds both ends of its pool's queues, so it would never
    see its host go and would wait for work forever; the host could be in
    the middle of a document when the scheduler goes. If the parent is
    already gone, end now. (The kernel watches the parent's thread that started this
    process.)
    """
    with contextlib.suppress(OSError, AttributeError):
        _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _forked_pool() -> ProcessPoolExecutor:
    """Fork the host's workers: no connection, no thread, and no collectable object is shared.

    A ``fork`` pool starts all its processes with its first submission, before
    its own manager thread, so the host is still single-threaded when it forks.
    """
    global _forked
    if _forked is None:
        if _worker_app is None:
            raise RuntimeError("the export host has no app")
        with _worker_app.app_context():
            db.engine.dispose()
        gc.collect()
        gc.freeze()
        _forked = ProcessPoolExecutor(
            max_workers=_host_workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=partial(die_with_parent, os.getpid()),
        )
    return _forked


def _host_batch(batch: list[Document]) -> list[tuple[int, bytes | None]]:
    """Render a batch in the host and its workers; return the previous batch's results, in order.

    The host renders the very first document alone, then forks. Of each batch
    the workers are given the head and the host renders the tail, its even
    share, itself: the export renders in as many processes as it was given,
    the host among them. Returning the previous batch keeps the workers busy:
    the batch given now is already queued while the previous one's last
    documents finish. The first call returns nothing; a call with an empty
    batch returns the last.
    """
    global _pending
    current: list[Future[tuple[int, bytes | None]]] = []
    if batch and _forked is None:
        current.append(_done(_in_worker(batch[0])))
        batch = batch[1:]
    if batch:
        pool = _forked_pool()
        given = len(batch) - len(batch) // (_host_workers + 1)
        current += [pool.submit(_in_worker, document) for document in batch[:given]]
        current += [_done(_in_worker(document)) for document in batch[given:]]
    previous, _pending = _pending, current
    return [result.result() for result in previous]


def _done(result: tuple[int, bytes | None]) -> Future[tuple[int, bytes | None]]:
    """Return a future that already holds a result (a document the host rendered)."""
    future: Future[tuple[int, bytes | None]] = Future()
    future.set_result(result)
    return future


class HostError(RuntimeError):
    """The export host ended, or failed with an error that could not travel as itself."""


#: What the host runs: the caller's import path first (it may not be the installed one).
_HOST_MAIN = (
    "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
    "from elevator_safety.desk.documents import host_main; host_main()"
)


class HostProcess:
    """The export's host process, seen from the caller: batches in, results out, over pipes.

    A plain child process (``subprocess``) rather than a multiprocessing one:
    a spawned multiprocessing process brings multiprocessing's resource
    tracker along, a third process of about 7 MB (PSS) that an export of
    two rendering processes does not need (docs/performance.md).
    Requests and replies are pickles, one after the other; the caller may
    send a batch before it reads the reply to the one before, since a
    request (a few documents' names) is far smaller than a pipe's buffer.
    """

    def __init__(self, app: Flask, processes: int) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
            [sys.executable, "-c", _HOST_MAIN, json.dumps(sys.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        try:
            self._send((worker_config(app), app.instance_path, processes, os.getpid()))
        except BaseException:
            self.close()  # its pipes too
            raise

    def _send(self, message: Any) -> None:
        pipe = self.process.stdin
        if pipe is None:
            raise HostError("the export host has no input")
        try:
            pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            pipe.flush()
        except BrokenPipeError as error:
            raise self._ended() from error

    def _ended(self) -> HostError:
        """Return the error of a host that ended before it answered: its exit status or signal."""
        status = self.process.wait()
        if status < 0:
            with contextlib.suppress(ValueError):
                return HostError(
                    f"the export host ended: stopped by {signal.Signals(-status).name}"
                )
        return HostError(f"the export host ended (exit status {status})")

    def send(self, batch: list[Document]) -> None:
        """Hand the host a batch (``_host_batch``); its reply is read by ``receive``."""
        self._send(batch)

    def receive(self) -> list[tuple[int, bytes | None]]:
        """Return the host's next reply, or raise the error the host met."""
        if self.process.stdout is None:
            raise HostError("the export host has no output")
        try:
            kind, value, remote = pickle.load(self.process.stdout)  # noqa: S301 - our child
        except EOFError:
            raise self._ended() from None
        if kind == "error":
            raise value from HostError(remote)
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """End the host: it ends when its input does; killed if it has not within a minute.

        Both pipes close first: a host still writing a reply the caller will
        not read (the export stopped early) gets a broken pipe and ends too.
        """
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        try:
            self.process.wait(timeout=HOST_EXIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


#: Seconds the host is given to end, its workers included, once its input has ended.
HOST_EXIT_S = 60.0


def host_main() -> None:
    """Serve the caller's batches until its pipe ends (the host process's main, ``HostProcess``).

    The protocol's pipes move off descriptors 0 and 1 first, so that nothing
    printed, by the host or by a worker it forks, can corrupt a reply.
    """
    # Ctrl-C in a terminal reaches the whole process group: end at once, without a
    # traceback; the caller reports the export failed. The forked workers inherit this.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    os.dup2(2, 1)
    config, instance_path, processes, caller = pickle.load(requests)  # noqa: S301 - parent
    failed: tuple[str, Any, str] | None = None
    try:
        _start_host(config, instance_path, processes, caller)
    except Exception as error:
        failed = ("error", _travelling(error), traceback.format_exc())  # the first reply
    try:
        while True:
            try:
                batch = pickle.load(requests)  # noqa: S301 - from our parent
            except EOFError:
                return
            reply = failed or _reply(batch)
            try:
                pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
                replies.flush()
            except BrokenPipeError:  # the caller stopped reading: the export ended early
                with contextlib.suppress(OSError):
                    replies.close()  # not again, with a warning, when the interpreter ends
                return
    finally:
        if _forked is not None:
            _forked.shutdown(wait=True, cancel_futures=True)


def _reply(batch: list[Document]) -> tuple[str, Any, str]:
    """Return the host's reply to a batch: ("ok", results, "") or ("error", error, traceback)."""
    try:
        return ("ok", _host_batch(batch), "")
    except Exception as error:
        return ("error", _travelling(error), traceback.format_exc())


def _travelling(error: Exception) -> Exception:
    """Return the error itself if it survives pickling, else a HostError with its text."""
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301 - bytes made on the line
    except Exception:
        return HostError(f"{type(error).__name__}: {error}")
    return error


def signed_documents(
    named: Iterable[tuple[str, Document]], processes: int | None = None
) -> Iterator[tuple[str, bytes]]:
    """Yield (name, signed PDF) for every named document that still exists, in order.

    ``processes`` (default ``EXPORT_PROCESSES``) at 1 or less renders here;
    more renders in a host process and ``processes - 1`` workers it forks.
    """
    count = int(current_app.config["EXPORT_PROCESSES"] if processes is None else processes)
    if count <= 1:
        for name, document in named:
            if (data := signed_document(document)) is not None:
                yield name, data
        return
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    host = HostProcess(app, count)
    sent: deque[list[str]] = deque()  # the names of the batches sent, oldest first
    unanswered = 0  # requests whose reply has not been read
    renderers: Counter[int] = Counter()  # documents rendered by each process

    def oldest() -> Iterator[tuple[str, bytes]]:
        nonlocal unanswered
        results = host.receive()
        unanswered -= 1
        if not results:  # the first call: no batch before it
            return
        for name, (pid, data) in zip(sent.popleft(), results, strict=True):
            renderers[pid] += 1
            if data is not None:
                yield name, data

    def send(batch: list[tuple[str, Document]]) -> None:
        nonlocal unanswered
        sent.append([name for name, _document in batch])
        host.send([document for _name, document in batch])
        unanswered += 1

    try:
        batch: list[tuple[str, Document]] = []
        for item in named:
            batch.append(item)
            if len(batch) == count * BATCH_PER_PROCESS:
                send(batch)
                batch = []
                if unanswered >= 2:
                    yield from oldest()
        if batch:
            send(batch)
        if sent:
            host.send([])  # returns the last batch
            unanswered += 1
        while unanswered:
            yield from oldest()
        logger.info(
            "export documents rendered by processes %s",
            ", ".join(f"{pid} ({count})" for pid, count in sorted(renderers.items())),
        )
    finally:
        host.close()
