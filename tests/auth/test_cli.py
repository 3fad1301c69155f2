"""The operator's account commands."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import Organisation, User
from elevator_safety.extensions import db


@pytest.fixture
def app_config(app_config):
    """Run these commands in English so that the messages can be compared."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"}


def test_orgs_and_users_create(runner, app):
    result = runner.invoke(
        args=[
            "orgs",
            "create",
            "--name",
            "锦江区市场监管局",
            "--kind",
            "regulator",
            "--district-code",
            "510104",
            "--district-name",
            "锦江区",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--org",
            "锦江区市场监管局",
            "--name",
            "王监管",
            "--role",
            "regulator",
            "--email",
            "Wang@Example.com",
        ],
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "wang@example.com"))
    assert user is not None
    assert user.check_password("long-enough-pw")
    assert user.organisation.district_code == "510104"


def test_users_create_refuses_a_role_the_org_cannot_hold(runner, app):
    db.session.add(Organisation(name="Lifts Co", kind="contractor"))
    db.session.commit()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--org",
            "Lifts Co",
            "--name",
            "X",
            "--role",
            "admin",
            "--email",
            "x@example.com",
        ],
        input="long-enough-pw\nlong-enough-pw\n",
    )
    assert result.exit_code != 0
    assert "cannot hold" in result.output
    assert db.session.scalar(select(User).where(User.email == "x@example.com")) is None


def test_regulator_without_district_refused(runner, app):
    result = runner.invoke(args=["orgs", "create", "--name", "R", "--kind", "regulator"])
    assert result.exit_code != 0
    assert "district" in result.output


def test_set_password_ends_sessions(runner, world):
    user = world.own.officer
    version = user.session_version
    result = runner.invoke(
        args=["users", "set-password", user.email], input="brand-new-pw\nbrand-new-pw\n"
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(user)
    assert user.check_password("brand-new-pw")
    assert user.session_version == version + 1
    assert db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "password_reset", AuditEntry.object_id == user.id
        )
    )


def test_set_password_refuses_short_one(runner, world):
    result = runner.invoke(
        args=["users", "set-password", world.own.officer.email], input="short\nshort\n"
    )
    assert result.exit_code != 0
    assert "at least 8" in result.output


def test_deactivate_and_activate_regulator(runner, world, client):
    from tests.conftest import log_in

    regulator = world.own.regulator
    log_in(client, regulator)
    assert client.get("/").status_code == 200
    assert runner.invoke(args=["users", "deactivate", regulator.email]).exit_code == 0
    db.session.refresh(regulator)
    assert regulator.active is False
    assert client.get("/").status_code == 302  # old session refused
    assert runner.invoke(args=["users", "activate", regulator.email]).exit_code == 0
    db.session.refresh(regulator)
    assert regulator.active is True


def test_unknown_login(runner, app):
    result = runner.invoke(args=["users", "deactivate", "nobody@example.com"])
    assert result.exit_code != 0
    assert "No user" in result.output
