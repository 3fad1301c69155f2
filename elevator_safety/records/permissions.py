"""Who may correct records and see photos (scope itself is decided in scoping.py)."""

from __future__ import annotations

from elevator_safety.auth.models import Role, User
from elevator_safety.records.models import Record, RecordKind

#: Roles that write evidence and so may correct their organisation's records.
WRITER_ROLES = (Role.safety_officer, Role.safety_director, Role.technician, Role.contractor_manager)


def can_correct(user: User, record: Record) -> bool:
    """The author's organisation corrects its own records (never a regulator)."""
    return (
        user.role in WRITER_ROLES
        and user.organisation_id == record.organisation_id
        and record.kind
        not in (RecordKind.correction, RecordKind.confirmation, RecordKind.rejection)
    )
