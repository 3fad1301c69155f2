"""The inbox: own notifications only, newest first, unread bold, in the reader's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import select

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.notifications import services
from elevator_safety.notifications.models import Notification
from tests.conftest import log_in
from tests.factories import ROLE_ATTR


def _note(user, **params):  # type: ignore[no-untyped-def]
    made = services.notify(
        [user],
        "finding_verified",
        {"id": params.get("id", 7), "place": "Site A", "actor": "Wang"},
        params.get("link", "/rectifications/7"),
    )
    db.session.commit()
    return made[0]


@pytest.mark.parametrize("role", list(ROLE_ATTR))
def test_every_role_has_an_inbox(client, world, role):
    user = getattr(world.own, ROLE_ATTR[role])
    _note(user)
    log_in(client, user)
    page = client.get("/inbox").get_data(as_text=True)
    assert "Rectification #7 at Site A was verified by Wang." in page
    assert "<strong>Rectification #7" in page
    assert 'data-testid="unread-count"' in page


def test_only_own_notifications_are_listed(client, world):
    _note(world.own.director, id=1)
    _note(world.own.officer, id=2)
    log_in(client, world.own.officer)
    page = client.get("/inbox").get_data(as_text=True)
    assert "Rectification #2 " in page
    assert "Rectification #1 " not in page


def test_newest_first_and_paginated(app, client, world):
    app.config["PAGE_SIZE"] = 2
    for n in range(3):
        note = _note(world.own.officer, id=n + 1)
        note.created_at = now_utc() - timedelta(hours=10 - n)
    db.session.commit()
    log_in(client, world.own.officer)
    page = client.get("/inbox").get_data(as_text=True)
    assert page.index("Rectification #3 ") < page.index("Rectification #2 ")
    assert "Rectification #1 " not in page
    assert "Rectification #1 " in client.get("/inbox?page=2").get_data(as_text=True)


def test_mark_one_read_and_open_its_link(client, world):
    note = _note(world.own.officer)
    log_in(client, world.own.officer)
    response = client.post(f"/inbox/{note.id}/read", data={"open": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/rectifications/7")
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None
    page = client.get("/inbox").get_data(as_text=True)
    assert "<strong>Rectification #7" not in page
    assert services.unread_count(world.own.officer) == 0


def test_mark_read_without_open_returns_to_the_inbox(client, world):
    note = _note(world.own.officer)
    log_in(client, world.own.officer)
    response = client.post(f"/inbox/{note.id}/read")
    assert response.headers["Location"].endswith("/inbox")


def test_a_foreign_link_is_never_followed(client, world):
    note = _note(world.own.officer, link="//evil.example/x")
    log_in(client, world.own.officer)
    response = client.post(f"/inbox/{note.id}/read", data={"open": "1"})
    assert response.headers["Location"].endswith("/inbox")


def test_someone_elses_notification_is_404(client, world):
    note = _note(world.own.director)
    log_in(client, world.own.officer)
    assert client.post(f"/inbox/{note.id}/read").status_code == 404
    assert client.post("/inbox/999999/read").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is None


def test_read_all_marks_only_ones_own(client, world):
    _note(world.own.officer, id=1)
    _note(world.own.officer, id=2)
    other = _note(world.own.director, id=3)
    log_in(client, world.own.officer)
    response = client.post("/inbox/read-all")
    assert response.status_code == 302
    assert "2 notifications marked read." in client.get("/inbox").get_data(as_text=True)
    assert services.unread_count(world.own.officer) == 0
    db.session.expire_all()
    assert db.session.get(Notification, other.id).read_at is None


def test_the_message_is_in_the_readers_language(client, world):
    _note(world.own.officer)
    world.own.officer.locale = "zh_Hans_CN"
    db.session.commit()
    log_in(client, world.own.officer)
    page = client.get("/inbox").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    # the text is looked up when read: the stored row holds only the kind and its params
    note = db.session.scalar(select(Notification))
    assert note.kind == "finding_verified"
    assert note.params == {"id": 7, "place": "Site A", "actor": "Wang"}


def test_notify_skips_inactive_and_duplicate_users(world):
    world.own.admin.active = False
    made = services.notify(
        [world.own.officer, world.own.officer, world.own.admin, None],
        "finding_verified",
        {"id": 1, "place": "x", "actor": "y"},
    )
    assert [n.user_id for n in made] == [world.own.officer.id]


def test_unknown_kinds_are_refused_and_kinds_can_be_registered(world):
    with pytest.raises(ValueError, match="unknown notification kind"):
        services.notify([world.own.officer], "no_such_kind", {})
    services.register_message("test_kind", "Hello %(name)s")
    try:
        note = services.notify([world.own.officer], "test_kind", {"name": "Li"})[0]
        assert services.message(note) == "Hello Li"
        note.params = {}
        assert services.message(note) == "Hello %(name)s"
    finally:
        services.MESSAGES.pop("test_kind")


def test_the_nav_badge_global(client, world, app):
    _note(world.own.officer)
    _note(world.own.officer)
    log_in(client, world.own.officer)
    with app.test_request_context():
        from flask_login import login_user

        login_user(world.own.officer)
        assert render_template_string("{{ unread_notifications() }}") == "2"
    with app.test_request_context():
        assert render_template_string("{{ unread_notifications() }}") == "0"
