"""In-app notifications: the inbox of each user."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elevator_safety.auth.models import User
from elevator_safety.db import UTCDateTime, now_utc
from elevator_safety.extensions import Model


class Notification(Model):
    """A message to one user, shown in the user's language when read.

    ``kind`` names the message (its text lives in notifications/services.py),
    ``params`` fills it in, ``link`` is the page that lets the user act.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
