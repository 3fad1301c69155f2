"""The HTTP benchmark: its phone fills the real forms, and a small run counts what it wrote.

The first test drives the load generator's form handling (bench/http_load.py)
against the app's own login and patrol pages, with CSRF on, so a change of the
forms that would make the benchmark count nothing fails here. The second runs
the whole benchmark (gunicorn, PostgreSQL, a second process) at a tiny size; it
needs PostgreSQL, as gunicorn serves a database that several processes share.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from bench.http import _children, _readings, run_http
from bench.http_load import RECORD_LOCATION, encode, fill, find_form
from elevator_safety.extensions import db
from elevator_safety.records.models import Record, RecordKind
from tests.factories import PASSWORD

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
SUBMISSIONS = 20


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """CSRF on, as in production: the phone must send the form's token."""
    return app_config | {"WTF_CSRF_ENABLED": True}


def patrol_count() -> int:
    return (
        db.session.scalar(select(func.count(Record.id)).where(Record.kind == RecordKind.patrol))
        or 0
    )


def test_phone_logs_in_and_submits_the_real_patrol_form(client, world):
    officer = world.own.officer
    page = client.get("/login").get_data(as_text=True)
    login = find_form(page, "login")
    body, kind = encode(login, fill(login, {"login": officer.email, "password": PASSWORD}))
    assert kind == "application/x-www-form-urlencoded"
    assert client.post("/login", data=body, content_type=kind).status_code == 302

    path = f"/elevators/{world.own.elevators[0].id}/patrols/new"
    form = find_form(client.get(path).get_data(as_text=True), "idempotency_key")
    parts = dict(fill(form, _readings() | {"password": PASSWORD}))
    assert parts["csrf_token"]
    assert parts["doors__result"] == "pass"
    assert parts["doors__photo"] is None  # an empty file input, as a browser sends it
    assert "doors__serious" not in parts  # an unticked checkbox is not sent
    assert parts["misuse_act"] == ""
    before = patrol_count()
    body, kind = encode(form, list(parts.items()))
    assert kind.startswith("multipart/form-data; boundary=")
    response = client.post(path, data=body, content_type=kind)
    assert response.status_code == 302
    assert RECORD_LOCATION.match(response.headers["Location"])
    assert patrol_count() == before + 1


@pytest.mark.skipif(
    not TEST_DATABASE_URL,
    reason="needs PostgreSQL (TEST_DATABASE_URL): gunicorn's workers share the database",
)
def test_small_run_counts_exactly_what_it_wrote(monkeypatch, capsys):
    assert TEST_DATABASE_URL is not None
    monkeypatch.setenv("BENCH_HTTP_SUBMISSIONS", str(SUBMISSIONS))
    monkeypatch.setenv("BENCH_HTTP_SECONDS", "300")
    monkeypatch.setenv("BENCH_HTTP_CLIENTS", "2")
    monkeypatch.setenv("BENCH_DAYS", "2")
    figures = run_http(TEST_DATABASE_URL)
    for key in ("patrol", "patrol_post", "insert"):
        assert 0 < figures[f"{key}_ok"] <= SUBMISSIONS
        assert figures[f"{key}_ok"] == figures[f"{key}_rows"]
        assert figures[f"{key}_per_s"] > 0
    assert figures["patrol_ratio"] > 0
    assert figures["patrol_cpu_ms"] > 0
    assert figures["password_check_ms"] > 0
    assert figures["clients"] == 2
    printed = capsys.readouterr().out
    assert "target >= 150/s" in printed
    assert "verified" in printed
    assert "MISMATCH" not in printed
    # gunicorn stopped, the database dropped.
    assert _children(os.getpid()) == []
    admin = create_engine(TEST_DATABASE_URL, poolclass=NullPool)
    with admin.connect() as conn:
        left = conn.execute(
            text("SELECT count(*) FROM pg_database WHERE datname = :name"),
            {"name": f"benchhttp_{os.getpid()}"},
        ).scalar_one()
    admin.dispose()
    assert left == 0


def test_zero_submissions_skips(monkeypatch, capsys):
    monkeypatch.setenv("BENCH_HTTP_SUBMISSIONS", "0")
    assert run_http("postgresql+psycopg://nobody@127.0.0.1:1/none") == {}
    assert "skipped" in capsys.readouterr().out
