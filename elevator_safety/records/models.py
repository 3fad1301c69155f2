"""Records (append-only evidence), signatures, photos, findings and handovers."""

from __future__ import annotations

import enum
import json
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elevator_safety.auth.models import Organisation, User
from elevator_safety.db import UTCDateTime, now_utc
from elevator_safety.extensions import Model, db
from elevator_safety.registry.models import Elevator, Site


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class RecordKind(enum.StrEnum):
    """Kinds of record in an elevator's chain."""

    patrol = "patrol"  # 日常巡查
    maintenance = "maintenance"  # 维护保养记录
    confirmation = "confirmation"  # 现场监督确认 of a maintenance record
    rejection = "rejection"  # 退回 of a maintenance record
    correction = "correction"  # 更正 of any record
    handover = "handover"  # 移交检查: one signing step of a handover
    lockout = "lockout"  # 停用/困人: one step of a fault lockout (D8)
    rectification = "rectification"  # 整改: completion or verification of a rectification (D9)
    alarm_test = "alarm_test"  # 紧急报警装置测试 (D6)
    addition = "addition"  # 加装/广告 with its safety review (D10)
    inspection = "inspection"  # 定期检验 / 自行检测 report (D11)
    misuse = "misuse"  # 违规乘用 incident (D3)


class Meaning(enum.StrEnum):
    """What a signature means."""

    submitted = "submitted"  # 提交
    confirmed = "confirmed"  # 现场监督确认
    rejected = "rejected"  # 退回
    corrected = "corrected"  # 更正
    handed_over = "handed_over"  # 移交
    received = "received"  # 接收
    handover_confirmed = "handover_confirmed"  # 确认移交
    recorded = "recorded"  # 记录: the signer vouches for what the record states
    completed = "completed"  # 整改完成
    verified = "verified"  # 验证 (a rectification's closure)
    reopened = "reopened"  # 重新打开
    returned_to_service = "returned_to_service"  # 恢复使用
    cancelled = "cancelled"  # 撤销
    approved = "approved"  # 审核同意 (a safety review)


MEANING_LABELS = {
    Meaning.submitted: _l("Submitted"),
    Meaning.confirmed: _l("Confirmed on site"),
    Meaning.rejected: _l("Rejected"),
    Meaning.corrected: _l("Corrected"),
    Meaning.handed_over: _l("Handed over"),
    Meaning.received: _l("Received"),
    Meaning.handover_confirmed: _l("Handover confirmed"),
    Meaning.recorded: _l("Recorded"),
    Meaning.completed: _l("Completed"),
    Meaning.verified: _l("Verified"),
    Meaning.reopened: _l("Reopened"),
    Meaning.returned_to_service: _l("Returned to service"),
    Meaning.cancelled: _l("Cancelled"),
    Meaning.approved: _l("Approved"),
}

KIND_LABELS = {
    RecordKind.patrol: _l("Daily patrol"),
    RecordKind.maintenance: _l("Maintenance record"),
    RecordKind.confirmation: _l("On-site confirmation"),
    RecordKind.rejection: _l("Rejection"),
    RecordKind.correction: _l("Correction"),
    RecordKind.handover: _l("Handover inspection"),
    RecordKind.lockout: _l("Fault lockout"),
    RecordKind.rectification: _l("Rectification"),
    RecordKind.alarm_test: _l("Emergency alarm test"),
    RecordKind.addition: _l("Addition or advertising"),
    RecordKind.inspection: _l("Inspection report"),
    RecordKind.misuse: _l("Misuse incident"),
}


class Record(Model):
    """One piece of evidence in an elevator's hash chain. Never updated or deleted.

    ``content`` is the canonical JSON text (records/canonical.py) and is the
    evidence; the typed columns beside it are copies for querying.
    """

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("elevator_id", "seq"),
        # The compliance rules' grouped scans (last visit of a level, last patrol per
        # elevator) read this index alone, without visiting the table.
        Index(
            "ix_records_kind_level_elevator", "kind", "level", "elevator_id", "occurred_on", "id"
        ),
        # Reviews (confirmations, rejections) of a record, found by kind.
        Index("ix_records_kind_subject", "kind", "subject_id"),
        # The patrols of one day (the daily patrol rule), whatever the history's length.
        Index("ix_records_kind_occurred_elevator", "kind", "occurred_on", "elevator_id"),
        # Visits submitted before a time, read from the index alone (D1.maintenance.unconfirmed).
        Index("ix_records_kind_created", "kind", "created_at", "elevator_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    elevator_id: Mapped[int] = mapped_column(ForeignKey("elevators.id"), index=True)
    #: Position in the elevator's chain: 1, 2, 3...
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[RecordKind] = mapped_column(_enum(RecordKind), index=True)
    #: The record this one acts on (confirmation, rejection, correction).
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    #: Maintenance level of a maintenance record.
    level: Mapped[str | None] = mapped_column(String(32))
    #: When the recorded event happened (patrol time, maintenance arrival...).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The calendar day of occurred_at in the site's time zone (the daily duty's day).
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    #: SHA-256 of ``content``.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: chain_hash of the previous record of the elevator (GENESIS for the first).
    prev_hash: Mapped[str] = mapped_column(String(64))
    #: sha256("elevator_id:seq:prev_hash:content_hash"); the next record's prev_hash.
    chain_hash: Mapped[str] = mapped_column(String(64), index=True)
    #: Form token: a resubmitted form finds its record instead of writing a second one.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    elevator: Mapped[Elevator] = relationship()
    author: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()
    subject: Mapped[Record | None] = relationship(remote_side=[id])

    @property
    def data(self) -> dict[str, Any]:
        """Return the content as a dict."""
        return json.loads(self.content)

    @property
    def kind_label(self) -> str:
        """Return the kind in the user's language."""
        return str(KIND_LABELS[self.kind])


class Signature(Model):
    """A signature: who signed what, meaning what, when. Never updated or deleted.

    The signature travels in the content of ``record`` (the record that carries
    it in the chain); ``subject`` is the record signed, and ``content_hash`` the
    hash of the subject's content at signing, so a signature moved to another
    record no longer verifies.
    """

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    printed_name: Mapped[str] = mapped_column(String(100))
    organisation_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[Meaning] = mapped_column(_enum(Meaning))
    #: Reason given with a rejection or a correction.
    reason: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    content_hash: Mapped[str] = mapped_column(String(64))

    record: Mapped[Record] = relationship(foreign_keys=[record_id])
    subject: Mapped[Record] = relationship(foreign_keys=[subject_id])
    signer: Mapped[User] = relationship()

    @property
    def meaning_label(self) -> str:
        """Return the meaning in the user's language."""
        return str(MEANING_LABELS[self.meaning])


class Photo(Model):
    """An evidence photo, stored under instance/uploads by content hash. Never updated."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the stored bytes (after EXIF location was stripped).
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    #: The elevator the photo was taken for: its scope decides who may see it.
    elevator_id: Mapped[int] = mapped_column(ForeignKey("elevators.id"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)


class Severity(enum.StrEnum):
    """Hazard severity (隐患)."""

    ordinary = "ordinary"  # 一般
    serious = "serious"  # 重大


class FindingStatus(enum.StrEnum):
    """Where a rectification (整改) is: open -> in progress -> completed -> verified.

    ``reopened`` behaves like ``open`` (the owner works on it again) and keeps
    the history visible; the allowed moves live in rectifications/services.py.
    """

    open = "open"
    in_progress = "in_progress"
    completed = "completed"
    verified = "verified"
    reopened = "reopened"


FINDING_STATUS_LABELS = {
    FindingStatus.open: _lp("rectification state", "Open"),
    FindingStatus.in_progress: _l("In progress"),
    FindingStatus.completed: _l("Completed"),
    FindingStatus.verified: _l("Verified"),
    FindingStatus.reopened: _l("Reopened"),
}


class FindingSource(enum.StrEnum):
    """Where a rectification came from."""

    patrol = "patrol"  # a failed patrol item
    maintenance = "maintenance"  # a problem in a maintenance record
    handover = "handover"  # an open item of a handover inspection
    inspection = "inspection"  # periodic inspection / self-test report item
    regulator_notice = "regulator_notice"  # 监督检查指令书
    public_report = "public_report"  # a passenger's report
    video_check = "video_check"  # footage kept too briefly (D7)
    roster = "roster"  # a gap in the duty roster (D6)
    alarm_test = "alarm_test"  # an alarm test that failed (D6)
    addition = "addition"  # an addition refused by its safety review (D10)
    manual = "manual"  # entered by the safety officer


FINDING_SOURCE_LABELS = {
    FindingSource.patrol: _l("Daily patrol"),
    FindingSource.maintenance: _l("Maintenance record"),
    FindingSource.handover: _l("Handover inspection"),
    FindingSource.inspection: _l("Inspection report"),
    FindingSource.regulator_notice: _l("Regulator's notice"),
    FindingSource.public_report: _l("Public report"),
    FindingSource.video_check: _l("Video retention check"),
    FindingSource.roster: _l("Duty roster"),
    FindingSource.alarm_test: _l("Emergency alarm test"),
    FindingSource.addition: _l("Addition or advertising"),
    FindingSource.manual: _l("Entered by hand"),
}

SEVERITY_LABELS = {Severity.ordinary: _l("Ordinary"), Severity.serious: _l("Serious")}


class Finding(Model):
    """A rectification (整改): something found wrong, its owner, deadline and state.

    Findings are opened by the records that find problems (a failed patrol
    item, a maintenance problem, an inspection report's item...) or by hand;
    the evidence of the finding stays in its source. The state moves through
    ``FindingStatus`` (rectifications/services.py); completion and verification
    each append a signed record. ``site_id`` is always set; ``elevator_id`` is
    empty for site-wide findings (a roster gap, video kept too briefly).
    ``deadline`` is filled from the severity when the creator gives none
    (RECTIFICATION_DEADLINE_HOURS).
    """

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    elevator_id: Mapped[int | None] = mapped_column(ForeignKey("elevators.id"), index=True)
    source: Mapped[FindingSource] = mapped_column(
        _enum(FindingSource), default=FindingSource.manual
    )
    #: The record in an elevator's chain that found it (patrol, maintenance, inspection...).
    source_record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    #: The site-register entry that found it (video check, roster...).
    source_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("register_entries.id"), index=True
    )
    #: A reference outside the system (a regulator's notice number...).
    source_reference: Mapped[str | None] = mapped_column(String(100))
    #: Checklist item code or maintenance item (e.g. ``D5.machine_room_temperature``).
    item_code: Mapped[str | None] = mapped_column(String(64))
    item_label: Mapped[str] = mapped_column(String(300))
    #: Duty code D1..D11.
    duty: Mapped[str] = mapped_column(String(4))
    severity: Mapped[Severity] = mapped_column(_enum(Severity), default=Severity.ordinary)
    description: Mapped[str] = mapped_column(Text)
    #: SHA-256 of photos attached to the finding.
    photo_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[FindingStatus] = mapped_column(_enum(FindingStatus), default=FindingStatus.open)
    #: Organisation that owns the fix (property company or contractor).
    owner_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: When the fix is due (UTC).
    deadline: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    #: The lockout opened for a serious hazard (Order No. 74: stop and report).
    lockout_id: Mapped[int | None] = mapped_column(ForeignKey("lockouts.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, onupdate=now_utc)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    site: Mapped[Site] = relationship()
    elevator: Mapped[Elevator | None] = relationship()
    source_record: Mapped[Record | None] = relationship()
    owner_organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def status_label(self) -> str:
        """Return the state in the user's language."""
        return str(FINDING_STATUS_LABELS[self.status])

    @property
    def severity_label(self) -> str:
        """Return the severity in the user's language."""
        return str(SEVERITY_LABELS[self.severity])

    @property
    def source_label(self) -> str:
        """Return the source in the user's language."""
        return str(FINDING_SOURCE_LABELS[self.source])

    @property
    def is_closed(self) -> bool:
        """Return whether nothing is left to do (verified)."""
        return self.status == FindingStatus.verified


def default_deadline(severity: Severity | str | None, created_at: datetime) -> datetime:
    """Return the deadline a finding gets from its severity (RECTIFICATION_DEADLINE_HOURS)."""
    hours = current_app.config["RECTIFICATION_DEADLINE_HOURS"][
        Severity(severity or Severity.ordinary).value
    ]
    return created_at + timedelta(hours=int(hours))


@event.listens_for(Finding, "before_insert")
def _fill_defaults(_mapper: Any, _connection: Any, target: Finding) -> None:
    """Give every new finding its site (from its elevator) and a deadline."""
    if target.created_at is None:
        target.created_at = now_utc()
    if target.site_id is None and target.elevator_id is not None:
        elevator = target.elevator or db.session.get(Elevator, target.elevator_id)
        if elevator is not None:
            target.site_id = elevator.site_id
    if target.deadline is None:
        target.deadline = default_deadline(target.severity, target.created_at)


class HandoverStatus(enum.StrEnum):
    """Steps of a contractor handover (移交检查)."""

    started = "started"
    handed_over = "handed_over"  # outgoing contractor signed 移交
    received = "received"  # incoming contractor signed 接收
    confirmed = "confirmed"  # property company confirmed: contracts switched
    cancelled = "cancelled"


handover_elevators = Table(
    "handover_elevators",
    Model.metadata,
    Column("handover_id", ForeignKey("handovers.id"), primary_key=True),
    Column("elevator_id", ForeignKey("elevators.id"), primary_key=True),
)


class Handover(Model):
    """A change of maintenance contractor for one or more elevators of a property company.

    The workflow row moves through HandoverStatus; each signing step also
    appends a ``handover`` record, with its signature, to every elevator's chain.
    """

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    outgoing_contractor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    incoming_contractor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    #: The day the incoming contractor takes over (the old contract ends the day before).
    handover_date: Mapped[date] = mapped_column(Date)
    #: End date of the new contract created on confirmation.
    new_contract_end: Mapped[date] = mapped_column(Date)
    #: Maintenance levels of the new contract (comma-separated, see MaintenanceLevel).
    new_level_plan: Mapped[str] = mapped_column(String(100))
    status: Mapped[HandoverStatus] = mapped_column(
        _enum(HandoverStatus), default=HandoverStatus.started
    )
    #: The handover inspection checklist answers: {item: {"ok": bool, "note": str}}.
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, onupdate=now_utc)

    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    outgoing: Mapped[Organisation] = relationship(foreign_keys=[outgoing_contractor_id])
    incoming: Mapped[Organisation] = relationship(foreign_keys=[incoming_contractor_id])
    elevators: Mapped[list[Elevator]] = relationship(secondary=handover_elevators)
