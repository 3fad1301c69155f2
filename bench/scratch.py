"""A throw-away PostgreSQL database for one benchmark, dropped whatever happens."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


@contextmanager
def scratch_postgres(admin_url: str, prefix: str) -> Iterator[str]:
    """Create ``<prefix>_<pid>`` on the server of admin_url, yield its URL, drop it afterwards.

    The drop (``WITH (FORCE)``, closing the connections left) also runs after
    an error, or after SIGTERM turned into SystemExit by the caller.
    """
    name = f"{prefix}_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
