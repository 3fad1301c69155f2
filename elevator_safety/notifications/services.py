"""In-app notifications (站内消息): write them, count them, render them in the reader's language.

A notification stores a ``kind`` and its ``params``; the text is looked up
here when the reader opens the inbox, so each reader sees it in their own
language. Packages add their own kinds with ``register_message`` at import
time (the text is a ``lazy_gettext`` string with ``%(name)s`` placeholders).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from elevator_safety.auth.models import Role, User
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.notifications.models import Notification

#: kind -> message with %(name)s placeholders, translated when shown.
MESSAGES: dict[str, LazyString | str] = {
    "serious_finding": _l(
        "Serious hazard at %(place)s: %(item)s. Stop the elevator and report it "
        "(SAMR Order No. 74). Rectify by %(deadline)s."
    ),
    "finding_assigned": _l(
        "New rectification for %(owner)s at %(place)s: %(item)s. Due %(deadline)s."
    ),
    "finding_completed": _l(
        "Rectification #%(id)s at %(place)s was completed by %(actor)s: please verify it."
    ),
    "finding_reopened": _l(
        "Rectification #%(id)s at %(place)s was reopened by %(actor)s: %(reason)s"
    ),
    "finding_verified": _l("Rectification #%(id)s at %(place)s was verified by %(actor)s."),
}


def register_message(kind: str, message: LazyString | str) -> None:
    """Add (or replace) the text of a notification kind."""
    MESSAGES[kind] = message


def notify(
    users: Iterable[User | None],
    kind: str,
    params: dict[str, Any] | None = None,
    link: str | None = None,
) -> list[Notification]:
    """Add one notification per distinct active user to the caller's transaction."""
    if kind not in MESSAGES:
        raise ValueError(f"unknown notification kind {kind!r}")
    made = []
    seen: set[int] = set()
    for user in users:
        if user is None or not user.active or user.id in seen:
            continue
        seen.add(user.id)
        note = Notification(
            user_id=user.id,
            kind=kind,
            params={k: _plain(v) for k, v in (params or {}).items()},
            link=link[:300] if link else None,
            created_at=now_utc(),
        )
        db.session.add(note)
        made.append(note)
    if made:
        db.session.flush()
    return made


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def message(note: Notification) -> str:
    """Return the notification's text in the current (reader's) language."""
    template = MESSAGES.get(note.kind)
    if template is None:
        return note.kind
    params = {k: ("" if v is None else v) for k, v in (note.params or {}).items()}
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(template)


def unread_count(user: User) -> int:
    """Return how many of the user's notifications are unread."""
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def inbox_query(user: User):  # type: ignore[no-untyped-def]
    """Return a select() of the user's notifications, newest first."""
    return (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def mark_read(user: User, note: Notification) -> None:
    """Mark one of the user's notifications read (once)."""
    if note.user_id != user.id:
        raise ValueError("not the reader's notification")
    if note.read_at is None:
        note.read_at = now_utc()


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; return how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now_utc())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def active_users(organisation_id: int, *roles: Role) -> list[User]:
    """Return the active users of an organisation having one of the roles."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.organisation_id == organisation_id,
                User.active.is_(True),
                User.role.in_(roles),
            )
            .order_by(User.id)
        )
    )
