"""Shared fixtures: app, client, runner, world, login_as.

Each test gets its own database, copied from a template migrated once per run
(the schema comes from the migrations, as in production). With
TEST_DATABASE_URL set the suite runs on PostgreSQL: the run creates its own
databases on that server and drops them afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from elevator_safety import create_app
from elevator_safety.extensions import db
from tests.factories import ROLE_ATTR, World, make_world

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL)


def base_config(uri: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": uri,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        "UPLOAD_FOLDER": str(instance / "uploads"),
        "EXPORT_DIR": str(instance / "exports"),
        # Exports render in the test's process; tests/desk/test_export_processes.py runs workers.
        "EXPORT_PROCESSES": 1,
    }


def migrate_to_head(uri: str, instance: Path) -> None:
    """Run the migrations into an empty database."""
    from flask_migrate import upgrade

    app = create_app(base_config(uri, instance))
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        db.engine.dispose()


class PostgresDatabases:
    """Create and drop databases on the server named by TEST_DATABASE_URL."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self.engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.prefix = f"es_test_{uuid.uuid4().hex[:8]}"

    def url_for(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        with self.engine.connect() as conn:
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Migrate one template database per run."""
    instance = tmp_path_factory.mktemp("instance")
    if ON_POSTGRES:
        assert TEST_DATABASE_URL is not None
        pg = PostgresDatabases(TEST_DATABASE_URL)
        name = f"{pg.prefix}_template"
        uri = pg.create(name)
        migrate_to_head(uri, instance)
        yield {"kind": "postgres", "pg": pg, "name": name, "uri": uri}
        pg.drop(name)
        pg.engine.dispose()
    else:
        path = instance / "template.sqlite"
        migrate_to_head(f"sqlite:///{path}", instance)
        yield {"kind": "sqlite", "path": path}


@pytest.fixture
def database_uri(template_database: dict, tmp_path: Path) -> Iterator[str]:
    """Give the test a fresh copy of the migrated template."""
    if template_database["kind"] == "sqlite":
        path = tmp_path / "test.sqlite"
        shutil.copyfile(template_database["path"], path)
        yield f"sqlite:///{path}"
    else:
        pg: PostgresDatabases = template_database["pg"]
        name = f"{pg.prefix}_{uuid.uuid4().hex[:10]}"
        yield pg.create(name, template=template_database["name"])
        pg.drop(name)


@pytest.fixture
def app_config(database_uri: str, tmp_path: Path) -> dict:
    """Return the configuration of the test app (override to change it)."""
    return base_config(database_uri, tmp_path)


@pytest.fixture(scope="session")
def shared_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder shared by the session's apps (its signing key is made once)."""
    return tmp_path_factory.mktemp("shared-instance")


@pytest.fixture
def app(app_config: dict, shared_instance: Path) -> Iterator[Flask]:
    app = create_app(app_config)
    # Never write into the repository's instance/ (the PDF signing identity lives there).
    app.instance_path = str(shared_instance)

    @app.teardown_request
    def _fresh_globals(_exc: BaseException | None) -> None:
        # Requests reuse the test's app context; keep g (current user, locale) from leaking.
        g.__dict__.clear()

    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def world(app: Flask) -> World:
    """Two property companies in two districts, each with every role."""
    return make_world()


def dispose(app: Flask) -> None:
    """Close an extra app's database connections (PostgreSQL warns about leaked ones)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def log_in(client: FlaskClient, user) -> None:  # type: ignore[no-untyped-def]
    """Put the user in the client's session, as Flask-Login does after a login."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    g.pop("_login_user", None)  # forget a user Flask-Login cached in the test's context


@pytest.fixture
def login_as(client: FlaskClient, world: World):  # type: ignore[no-untyped-def]
    """Log the client in as the 'own' side's user of a role; return that user."""

    def _login(role: str, side: str = "own"):  # type: ignore[no-untyped-def]
        user = getattr(getattr(world, side), ROLE_ATTR[role])
        log_in(client, user)
        return user

    return _login
