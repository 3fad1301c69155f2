"""Factory, configuration, health, headers and error pages."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from elevator_safety import ConfigError, create_app
from elevator_safety.extensions import db
from tests.conftest import ON_POSTGRES, dispose


def test_production_refuses_default_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("ELEVATOR_SAFETY_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})


def test_production_with_a_real_key_starts_with_secure_cookies(tmp_path):
    app = create_app(
        {"SECRET_KEY": "a-real-secret", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_overrides_with_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("ELEVATOR_SAFETY_SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite")


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite pragmas apply to SQLite connections only")
def test_sqlite_pragmas_on_every_connection(app):
    for _ in range(3):
        with db.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert isinstance(raw, sqlite3.Connection)
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        db.engine.dispose()


@pytest.mark.skipif(not ON_POSTGRES, reason="JIT is a PostgreSQL setting")
def test_postgres_connections_run_without_jit_unless_configured(app, app_config, shared_instance):
    for _ in range(2):
        with db.engine.connect() as conn:
            assert conn.execute(text("SHOW jit")).scalar() == "off"
            conn.rollback()  # a rolled-back transaction does not bring it back
            assert conn.execute(text("SHOW jit")).scalar() == "off"
        db.engine.dispose()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        server_default = conn.execute(text("SELECT reset_val FROM pg_settings WHERE name = 'jit'"))
        expected = server_default.scalar()
    with_jit = create_app(app_config | {"DATABASE_JIT": True})
    with with_jit.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("SHOW jit")).scalar() == expected
    dispose(with_jit)


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_unreachable_database(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 1}},
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "error"}


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_over_https(client):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_login_page_speaks_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page
    assert 'lang="zh-CN"' in page


def test_not_found_page_has_no_trace(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)


def test_server_error_page_hides_the_trace(app_config):
    app = create_app(app_config | {"PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    dispose(app)
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in body
    assert "Traceback" not in body


def test_static_files_are_served_locally(client):
    page = client.get("/login").get_data(as_text=True)
    assert "http://" not in page.replace("http://localhost", "")
    assert "https://" not in page
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200


def test_simulated_clock_moves_now_only_inside_its_block():
    from datetime import UTC, datetime

    from elevator_safety.db import now_utc, simulated_clock

    past = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with simulated_clock() as clock:
        assert now_utc() != past
        clock.moment = past
        assert now_utc() == past
    assert now_utc() > past
