"""The web app as the HTTP benchmark serves it: the product plus one baseline route.

``gunicorn 'bench.http_app:create_app()'`` serves exactly what production
serves (``elevator_safety.create_app()`` configured from the environment), plus
``POST /bench/insert``: no login, no CSRF token, it inserts one row into
``bench_rows`` and commits. That route is the floor of a write request through
the same stack (gunicorn, Flask, the session and security hooks, SQLAlchemy,
PostgreSQL), so the patrol submission rate can be reported as a ratio to it.

Benchmark only: nothing in ``elevator_safety`` imports this module.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from sqlalchemy import text

from elevator_safety import create_app as create_product_app
from elevator_safety.extensions import csrf, db, limiter

INSERT_PATH = "/bench/insert"
TABLE = "bench_rows"
#: An arbitrary key for pg_advisory_xact_lock: two workers start at once and both create.
_CREATE_LOCK = 0x62656E6368
_CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (id serial PRIMARY KEY, at timestamptz NOT NULL)"
_INSERT = f"INSERT INTO {TABLE} (at) VALUES (now())"  # noqa: S608 - constant table name

bp = Blueprint("bench_http", __name__)


@bp.post(INSERT_PATH)
@limiter.exempt
def insert_row() -> tuple[str, int]:
    """Insert one row and commit: the minimal write request."""
    db.session.execute(text(_INSERT))
    db.session.commit()
    return "", 204


def create_table() -> None:
    """Create the baseline table once, whichever worker comes first (needs an app context)."""
    with db.engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_LOCK})
        conn.execute(text(_CREATE))


def create_app() -> Flask:
    """Return the product app with the baseline route (the table created if missing)."""
    app = create_product_app()
    csrf.exempt(bp)
    app.register_blueprint(bp)
    with app.app_context():
        create_table()
        db.engine.dispose()  # no connection opened here outlives the factory
    return app
