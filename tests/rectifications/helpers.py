"""Helpers of the rectification tests: findings in every state."""

from __future__ import annotations

from datetime import datetime, timedelta

from elevator_safety.auth.models import User
from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.records.models import Finding, FindingSource, FindingStatus, Severity
from elevator_safety.rectifications.services import open_finding
from elevator_safety.registry.models import Elevator, Site
from tests.factories import Side


def make_finding(
    side: Side,
    *,
    elevator: Elevator | bool | None = True,
    owner: str = "company",
    status: FindingStatus = FindingStatus.open,
    severity: Severity = Severity.ordinary,
    deadline: datetime | None = None,
    author: User | None = None,
    site: Site | None = None,
    commit: bool = True,
) -> Finding:
    """Open a finding on the side's first elevator (or site-wide), forced into a state."""
    chosen = side.elevators[0] if elevator is True else (elevator or None)
    finding = open_finding(
        site=site or side.site,
        elevator=chosen,
        source=FindingSource.manual,
        duty="D5",
        item_label="Pit lighting broken",
        description="The pit lamp does not light.",
        author=author or side.officer,
        severity=severity,
        owner_organisation_id=side.contractor.id if owner == "contractor" else None,
        deadline=deadline,
    )
    if status != FindingStatus.open:
        finding.status = status
        if status in (FindingStatus.completed, FindingStatus.verified):
            finding.completed_at = now_utc()
    if commit:
        db.session.commit()
    return finding


def past(hours: int = 1) -> datetime:
    return now_utc() - timedelta(hours=hours)
