"""The audit log: who changed what, when and from where, in the same transaction."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import ForeignKey, Integer, String, Text, inspect
from sqlalchemy.orm import Mapped, mapped_column

from elevator_safety.db import UTCDateTime, now_utc
from elevator_safety.extensions import Model, db


class AuditEntry(Model):
    """One audited action. Never updated."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Organisation the entry belongs to (whose admins see it).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    #: e.g. ``login``, ``login_failed``, ``create``, ``update``, ``deactivate``.
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    #: Short human description of the object (code or name) at the time.
    object_label: Mapped[str | None] = mapped_column(String(200))
    #: JSON object {field: [old, new]}.
    changes: Mapped[str | None] = mapped_column(Text)

    @property
    def changes_dict(self) -> dict[str, Any]:
        """Return the changed fields as a dict."""
        return json.loads(self.changes) if self.changes else {}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def changed_fields(obj: Any) -> dict[str, list[Any]]:
    """Return {attribute: [old, new]} for the pending column changes of an ORM object."""
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old != new:
                changes[attr.key] = [_plain(old), _plain(new)]
    return changes


def snapshot(obj: Any, fields: list[str] | None = None) -> dict[str, list[Any]]:
    """Return {attribute: [None, value]} for a newly created object."""
    state = inspect(obj)
    keys = fields or [a.key for a in state.mapper.column_attrs if a.key not in ("id",)]
    return {k: [None, _plain(getattr(obj, k))] for k in keys if getattr(obj, k) is not None}


def record(
    action: str,
    obj: Any = None,
    *,
    changes: dict[str, Any] | None = None,
    organisation_id: int | None = None,
    user_id: int | None = None,
    label: str | None = None,
) -> AuditEntry:
    """Add an audit entry to the current session (committed with the change)."""
    actor = current_user if has_request_context() and current_user.is_authenticated else None
    entry = AuditEntry(
        at=now_utc(),
        user_id=user_id if user_id is not None else (actor.id if actor else None),
        organisation_id=organisation_id
        if organisation_id is not None
        else (actor.organisation_id if actor else None),
        ip=request.remote_addr if has_request_context() else None,
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        object_label=label,
        changes=json.dumps(changes, ensure_ascii=False, sort_keys=True) if changes else None,
    )
    db.session.add(entry)
    return entry
