"""A signer's password is remembered for a few minutes after a correct scrypt check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from elevator_safety.auth import recheck
from elevator_safety.auth.models import User
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records.services import check_signing_password
from tests.factories import PASSWORD

WRONG = "密码错误"  # "Wrong password: the signature was not made." in the default language


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    recheck.forget_all()
    yield
    recheck.forget_all()


@pytest.fixture
def scrypt_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count the checks against the stored hash (each one is a scrypt run)."""
    calls: list[str] = []
    real = User.check_password

    def counted(self: User, password: str) -> bool:
        calls.append(password)
        return real(self, password)

    monkeypatch.setattr(User, "check_password", counted)
    return calls


def test_the_second_signature_with_the_same_password_skips_scrypt(world, scrypt_checks):
    officer = world.own.officer
    check_signing_password(officer, PASSWORD)
    check_signing_password(officer, PASSWORD)
    check_signing_password(officer, PASSWORD)
    assert scrypt_checks == [PASSWORD]


def test_a_wrong_password_is_always_checked_in_full_and_refused(world, scrypt_checks):
    officer = world.own.officer
    check_signing_password(officer, PASSWORD)
    for _ in range(2):
        with pytest.raises(DomainError, match=WRONG):
            check_signing_password(officer, PASSWORD + "x")
    assert scrypt_checks == [PASSWORD, PASSWORD + "x", PASSWORD + "x"]
    check_signing_password(officer, PASSWORD)
    assert len(scrypt_checks) == 3


def test_a_remembered_password_belongs_to_its_user_only(world, scrypt_checks):
    check_signing_password(world.own.officer, PASSWORD)
    check_signing_password(world.own.director, PASSWORD)
    assert len(scrypt_checks) == 2


def test_a_password_change_forgets_the_old_password(world, scrypt_checks):
    officer = world.own.officer
    check_signing_password(officer, PASSWORD)
    officer.set_password("a-new-password-1")
    db.session.commit()
    with pytest.raises(DomainError, match=WRONG):
        check_signing_password(officer, PASSWORD)
    check_signing_password(officer, "a-new-password-1")
    assert scrypt_checks == [PASSWORD, PASSWORD, "a-new-password-1"]


def test_a_new_session_version_forgets_the_password(world, scrypt_checks):
    officer = world.own.officer
    check_signing_password(officer, PASSWORD)
    officer.session_version += 1  # deactivation and logout everywhere bump it
    db.session.commit()
    check_signing_password(officer, PASSWORD)
    assert len(scrypt_checks) == 2


def test_after_the_time_the_password_is_checked_again(world, scrypt_checks, monkeypatch):
    officer = world.own.officer
    clock = [1000.0]
    monkeypatch.setattr(recheck.time, "monotonic", lambda: clock[0])
    check_signing_password(officer, PASSWORD)
    clock[0] += 600
    check_signing_password(officer, PASSWORD)
    assert len(scrypt_checks) == 1
    clock[0] += 0.5
    check_signing_password(officer, PASSWORD)
    assert len(scrypt_checks) == 2


def test_zero_seconds_turns_it_off(app, world, scrypt_checks):
    app.config["SIGNING_RECHECK_SECONDS"] = 0
    officer = world.own.officer
    check_signing_password(officer, PASSWORD)
    check_signing_password(officer, PASSWORD)
    assert len(scrypt_checks) == 2


def test_an_empty_password_is_refused_without_a_check(world, scrypt_checks):
    with pytest.raises(DomainError, match=WRONG):
        check_signing_password(world.own.officer, "")
    assert scrypt_checks == []


def test_logging_in_always_checks_scrypt(client, world, scrypt_checks):
    officer = world.own.officer
    check_signing_password(officer, PASSWORD)
    response = client.post("/login", data={"login": officer.email, "password": PASSWORD})
    assert response.status_code == 302
    assert scrypt_checks == [PASSWORD, PASSWORD]


def test_at_most_max_entries_are_kept(world, monkeypatch):
    monkeypatch.setattr(recheck, "MAX_ENTRIES", 1)
    check_signing_password(world.own.officer, PASSWORD)
    check_signing_password(world.own.director, PASSWORD)
    assert len(recheck._entries) == 1
