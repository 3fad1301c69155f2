"""Login, logout, rate limits, sessions, CSRF, invitations and the language switch."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import Invitation, User
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from tests.conftest import log_in
from tests.factories import PASSWORD

NEW_PASSWORD = "a-new-password-42"


@pytest.fixture
def app_config(app_config, request):
    """Speak English (the assertions read English messages); a test may add settings."""
    return app_config | {"BABEL_DEFAULT_LOCALE": "en"} | getattr(request, "param", {})


def count(model, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def path_of(response) -> str:  # type: ignore[no-untyped-def]
    return urlsplit(response.headers["Location"]).path


def login(client, login: str, password: str = PASSWORD, **kw):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"login": login, "password": password}, **kw)


def is_logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    response = client.get("/")
    if response.status_code == 302:
        assert path_of(response) == "/login"
        return False
    assert response.status_code == 200
    return True


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "the page carries a CSRF token"
    return match.group(1)


# --- login and logout ---------------------------------------------------------


def test_login_by_email_goes_home(client, world):
    officer = world.own.officer
    response = login(client, officer.email.upper())
    assert response.status_code == 302
    assert path_of(response) == "/"
    assert is_logged_in(client)
    db.session.refresh(officer)
    assert officer.last_login_at is not None
    assert count(AuditEntry, AuditEntry.action == "login", AuditEntry.user_id == officer.id) == 1


def test_login_by_phone(client, world):
    technician = world.own.technician
    technician.phone = "13800138000"
    db.session.commit()
    response = login(client, "138-0013-8000")
    assert response.status_code == 302
    assert path_of(response) == "/"
    assert technician.name in client.get("/").text


def test_login_follows_a_local_next_only(client, world):
    response = client.post(
        "/login?next=/admin/users", data={"login": world.own.admin.email, "password": PASSWORD}
    )
    assert path_of(response) == "/admin/users"
    client.post("/logout")
    response = client.post(
        "/login?next=//evil.example/x", data={"login": world.own.admin.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_wrong_password_shows_an_error_and_is_audited(client, world):
    director = world.own.director
    response = login(client, director.email, "not-the-password")
    assert response.status_code == 200
    assert "Wrong e-mail/phone or password." in response.text
    assert not is_logged_in(client)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login_failed"))
    assert entry is not None
    assert (entry.user_id, entry.organisation_id) == (director.id, world.own.org.id)
    assert entry.object_label == director.email


def test_unknown_login_is_audited_without_a_user(client, world):
    response = login(client, "nobody@example.com")
    assert "Wrong e-mail/phone or password." in response.text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login_failed"))
    assert (entry.user_id, entry.object_label) == (None, "nobody@example.com")


def test_deactivated_user_cannot_log_in(client, world):
    officer = world.own.officer
    officer.active = False
    db.session.commit()
    response = login(client, officer.email)
    assert response.status_code == 200
    assert not is_logged_in(client)


def test_logout_is_a_post(client, world):
    log_in(client, world.own.officer)
    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)
    response = client.post("/logout")
    assert response.status_code == 302
    assert path_of(response) == "/login"
    assert not is_logged_in(client)


# --- rate limits ----------------------------------------------------------------


def test_sixth_failed_attempt_on_an_account_within_a_minute_is_refused(client, world):
    email = world.own.officer.email
    for _ in range(5):
        assert login(client, email, "wrong-password").status_code == 200
    response = login(client, email, "wrong-password")
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert "<html" in response.text  # the readable page, not a bare message
    # Even the right password waits now, and other spellings of the login count the same.
    assert login(client, email.upper()).status_code == 429
    assert not is_logged_in(client)
    # Another account from the same address is not blocked.
    assert login(client, world.own.director.email).status_code == 302


def test_successful_logins_do_not_count_towards_the_limit(client, world):
    email = world.own.officer.email
    for _ in range(5):
        assert login(client, email).status_code == 302
        client.post("/logout")
    for _ in range(5):
        assert login(client, email, "wrong-password").status_code == 200
    assert login(client, email, "wrong-password").status_code == 429


@pytest.mark.parametrize("app_config", [{"LOGIN_LIMIT_PER_IP": "3 per minute"}], indirect=True)
def test_failed_attempts_from_one_address_are_limited(client, world):
    for n in range(3):
        assert login(client, f"guess{n}@example.com", "wrong").status_code == 200
    response = login(client, world.own.officer.email)
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    elsewhere = {"REMOTE_ADDR": "10.9.9.9"}
    assert login(client, world.own.officer.email, environ_base=elsewhere).status_code == 302


# --- sessions -----------------------------------------------------------------


def test_deactivated_users_session_is_refused(app, client, world):
    technician = world.own.technician
    log_in(client, technician)
    assert is_logged_in(client)

    manager = app.test_client()
    log_in(manager, world.own.manager)
    assert manager.post(f"/admin/users/{technician.id}/deactivate").status_code == 302

    response = client.get("/")
    assert response.status_code == 302
    assert path_of(response) == "/login"


def test_password_change_ends_other_sessions(app, world):
    officer = world.own.officer
    phone, laptop = app.test_client(), app.test_client()
    assert login(phone, officer.email).status_code == 302
    assert login(laptop, officer.email).status_code == 302

    response = laptop.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert is_logged_in(laptop)
    assert not is_logged_in(phone)
    db.session.refresh(officer)
    assert officer.check_password(NEW_PASSWORD)
    assert count(AuditEntry, AuditEntry.action == "password_change") == 1
    # The new password works and the old one no longer does.
    assert login(phone, officer.email, PASSWORD).status_code == 200
    assert login(phone, officer.email, NEW_PASSWORD).status_code == 302


def test_wrong_current_password_writes_nothing(client, world):
    officer = world.own.officer
    log_in(client, officer)
    before = (officer.password_hash, officer.session_version, count(AuditEntry))
    response = client.post(
        "/account/password",
        data={"current_password": "not-it", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "The current password is wrong." in response.text
    db.session.refresh(officer)
    assert (officer.password_hash, officer.session_version, count(AuditEntry)) == before
    assert is_logged_in(client)


# --- CSRF ---------------------------------------------------------------------

CSRF_ON = pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True)


@CSRF_ON
def test_login_without_csrf_token_is_refused(client, world):
    response = login(client, world.own.officer.email)
    assert response.status_code == 400
    assert count(AuditEntry) == 0
    assert not is_logged_in(client)
    # With the page's token the same login works.
    token = csrf_token(client.get("/login").text)
    response = client.post(
        "/login",
        data={"login": world.own.officer.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


@CSRF_ON
def test_state_change_without_csrf_token_is_refused(client, world):
    director = world.own.director
    log_in(client, world.own.admin)
    response = client.post(f"/admin/users/{director.id}/deactivate")
    assert response.status_code == 400
    db.session.refresh(director)
    assert director.active is True
    assert count(AuditEntry) == 0
    # The token from the user page lets the same request through.
    token = csrf_token(client.get(f"/admin/users/{director.id}/edit").text)
    client.post(f"/admin/users/{director.id}/deactivate", data={"csrf_token": token})
    db.session.refresh(director)
    assert director.active is False


# --- invitations --------------------------------------------------------------


def invite(client, **data: str) -> str:  # type: ignore[no-untyped-def]
    response = client.post("/admin/users/invite", data=data)
    assert response.status_code == 200
    match = re.search(r'data-copy="([^"]+)"', response.text)
    assert match
    return urlsplit(match.group(1)).path


def test_invitation_flow_end_to_end(app, client, world):
    log_in(client, world.own.admin)
    link = invite(client, name="Chen Officer", email="chen@example.com", role="safety_officer")

    invitee = app.test_client()
    page = invitee.get(link)
    assert page.status_code == 200
    assert "Chen Officer" in page.text
    assert world.own.org.name in page.text

    too_short = invitee.post(link, data={"new_password": "short", "confirm": "short"})
    assert too_short.status_code == 200
    response = invitee.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert path_of(response) == "/"
    home = invitee.get("/")
    assert home.status_code == 200
    assert "Chen Officer" in home.text

    user = db.session.scalar(select(User).where(User.email == "chen@example.com"))
    assert user.check_password(NEW_PASSWORD)
    assert count(AuditEntry, AuditEntry.action == "invitation_accepted") == 1

    # The link works once.
    assert app.test_client().get(link).status_code == 404
    assert (
        app.test_client()
        .post(link, data={"new_password": "x" * 12, "confirm": "x" * 12})
        .status_code
        == 404
    )
    db.session.refresh(user)
    assert user.check_password(NEW_PASSWORD)
    # And the chosen password logs in.
    invitee.post("/logout")
    assert login(invitee, "chen@example.com", NEW_PASSWORD).status_code == 302


def test_expired_invitation_link_is_not_found(app, client, world):
    log_in(client, world.own.admin)
    link = invite(client, name="Late Comer", phone="13500000000", role="safety_director")
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = now_utc() - timedelta(minutes=1)
    db.session.commit()
    invitee = app.test_client()
    assert invitee.get(link).status_code == 404
    response = invitee.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 404
    user = db.session.scalar(select(User).where(User.phone == "13500000000"))
    assert user.password_hash is None


# --- language -----------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{"BABEL_DEFAULT_LOCALE": "zh_Hans_CN"}], indirect=True)
def test_language_choice_is_remembered_for_the_user(app, client, world):
    officer = world.own.officer
    assert 'lang="zh-CN"' in client.get("/login").text
    assert login(client, officer.email).status_code == 302
    assert 'lang="zh-CN"' in client.get("/").text

    response = client.post("/language", data={"locale": "en", "next": "/"})
    assert response.status_code == 302
    assert path_of(response) == "/"
    db.session.refresh(officer)
    assert officer.locale == "en"
    assert 'lang="en"' in client.get("/").text

    # The choice follows the user to a new device.
    other = app.test_client()
    assert login(other, officer.email).status_code == 302
    assert 'lang="en"' in other.get("/").text
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update"))
    assert entry.changes_dict == {"locale": [None, "en"]}


def test_the_session_user_comes_with_its_organisation_in_one_query(app, world):
    """Nearly every page reads the user's organisation: loading the user brings it along."""
    from sqlalchemy import event

    from elevator_safety.security import load_user

    identity = world.own.officer.get_id()
    name = world.own.org.name
    db.session.expunge_all()
    statements: list[str] = []

    def keep(conn, cursor, sql, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(sql)

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        user = load_user(identity)
        assert user is not None
        assert user.organisation.name == name
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert len(statements) == 1
