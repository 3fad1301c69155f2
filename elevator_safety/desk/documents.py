"""The documents of a bulk export, rendered and signed here or by a pool of worker processes.

A document is named by a ``Document``: what to print (an elevator's archive,
a site's or a district's monthly summary), for which period and as which user;
small enough to send to another process. ``signed_document`` renders one
unsigned PDF into memory and returns it signed, in the current app context.

``signed_documents`` turns the export's documents into signed bytes, in the
order given. With ``EXPORT_PROCESSES`` at 1 it renders them one after the
other in this process. Above 1 it starts that many worker processes (spawned:
the scheduler process has threads, which a fork would copy half-held), each
with its own app built from this app's configuration and its own database
connection, and keeps at most two documents per worker in flight: results
come back in order, so memory stays bounded whatever the count, and the
caller still writes and commits one document at a time. ReportLab is pure
Python, so threads would not render in parallel; processes do.

An error in a worker (or a worker that died) reaches the caller as the
exception of that document's result; the pool is shut down and the documents
not started yet are cancelled.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial
from io import BytesIO
from typing import Any, Literal

from flask import Flask, current_app

from elevator_safety.auth.models import User
from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator, Site
from elevator_safety.reports import render
from elevator_safety.reports.signing import sign_pdf

#: Documents handed to the pool ahead of the one being written, per worker process.
IN_FLIGHT_PER_PROCESS = 2

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
    user = db.session.get(User, document.user_id)
    with BytesIO() as buffer:
        if not _write(document, user, buffer):
            return None
        unsigned = buffer.getvalue()
    return sign_pdf(unsigned)


# --- the worker processes ------------------------------------------------------------------

_worker_app: Flask | None = None


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


def _start_worker(config: dict[str, Any], instance_path: str) -> None:
    """Build this worker process's app on the caller's instance folder (the pool's initializer).

    The instance folder holds the signing identity: the workers sign as the caller would.
    """
    from elevator_safety import create_app

    global _worker_app  # one app per worker process
    _worker_app = create_app(config)
    _worker_app.instance_path = instance_path


def _in_worker(document: Document) -> bytes | None:
    """Render and sign one document in a worker process; leave no session behind."""
    if _worker_app is None:
        raise RuntimeError("the export worker has no app")
    with _worker_app.app_context():
        try:
            return signed_document(document)
        finally:
            db.session.remove()


def signed_documents(
    named: Iterable[tuple[str, Document]], processes: int | None = None
) -> Iterator[tuple[str, bytes]]:
    """Yield (name, signed PDF) for every named document that still exists, in order.

    ``processes`` (default ``EXPORT_PROCESSES``) at 1 or less renders here;
    more starts that many worker processes for the run.
    """
    count = int(current_app.config["EXPORT_PROCESSES"] if processes is None else processes)
    if count <= 1:
        for name, document in named:
            if (data := signed_document(document)) is not None:
                yield name, data
        return
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=partial(_start_worker, worker_config(app), app.instance_path),
    )
    window: deque[tuple[str, Future[bytes | None]]] = deque()

    def oldest() -> Iterator[tuple[str, bytes]]:
        name, result = window.popleft()
        if (data := result.result()) is not None:
            yield name, data

    try:
        for name, document in named:
            window.append((name, pool.submit(_in_worker, document)))
            if len(window) >= count * IN_FLIGHT_PER_PROCESS:
                yield from oldest()
        while window:
            yield from oldest()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
