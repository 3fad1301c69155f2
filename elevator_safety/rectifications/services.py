"""Rectifications (整改, duty D9): the one place findings are opened.

Every record kind that finds a problem calls ``open_finding``; the state
machine (start, complete, verify, reopen) and the lists are built on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from elevator_safety import audit
from elevator_safety.auth.models import User
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.records.models import (
    Finding,
    FindingSource,
    FindingStatus,
    Record,
    Severity,
    default_deadline,
)
from elevator_safety.registers.models import RegisterEntry
from elevator_safety.registry.models import Elevator, Site


def open_finding(
    *,
    site: Site,
    elevator: Elevator | None,
    source: FindingSource,
    duty: str,
    item_label: str,
    description: str,
    author: User | None,
    severity: Severity = Severity.ordinary,
    owner_organisation_id: int | None = None,
    deadline: datetime | None = None,
    source_record: Record | None = None,
    source_entry: RegisterEntry | None = None,
    source_reference: str | None = None,
    item_code: str | None = None,
    photo_hashes: Sequence[str] = (),
) -> Finding:
    """Open a rectification in the caller's transaction and audit it.

    The owner defaults to the property company of the site; the deadline to
    the severity's default (RECTIFICATION_DEADLINE_HOURS) from now.
    """
    created = now_utc()
    finding = Finding(
        site_id=site.id,
        elevator_id=elevator.id if elevator else None,
        source=source,
        source_record_id=source_record.id if source_record else None,
        source_entry_id=source_entry.id if source_entry else None,
        source_reference=source_reference,
        item_code=item_code,
        item_label=item_label[:300],
        duty=duty,
        severity=severity,
        description=description,
        photo_hashes=list(photo_hashes),
        status=FindingStatus.open,
        owner_organisation_id=owner_organisation_id or site.organisation_id,
        deadline=deadline or default_deadline(severity, created),
        created_by_id=author.id if author else None,
        created_at=created,
        updated_at=created,
    )
    db.session.add(finding)
    db.session.flush()
    audit.record(
        "create",
        finding,
        changes=audit.snapshot(finding, ["source", "duty", "severity", "deadline"]),
        organisation_id=author.organisation_id if author else site.organisation_id,
        user_id=author.id if author else None,
        label=f"{elevator.equipment_code if elevator else site.name} {duty} {item_label[:60]}",
    )
    return finding
