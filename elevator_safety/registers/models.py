"""Site registers (keys, duty roster, video checks, emergency plans, drills) and certificates.

Site-wide evidence has no elevator, so it is kept in a chain of its own per
site: ``RegisterEntry`` rows are append-only (database triggers), signed and
hash-chained like records (registers/chain.py), with typed columns copied
from the signed content for querying. Keys and certificates are registry
data (edited, audited), not evidence.
"""

from __future__ import annotations

import enum
import json
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elevator_safety.auth.models import Organisation, User
from elevator_safety.db import UTCDateTime, now_utc
from elevator_safety.extensions import Model
from elevator_safety.registry.models import Site


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class RegisterKind(enum.StrEnum):
    """Kinds of entry in a site's chain."""

    key_issue = "key_issue"  # 钥匙/工具领用 (D4)
    key_return = "key_return"  # 钥匙/工具归还 (D4)
    roster_shift = "roster_shift"  # 值班安排 (D6)
    roster_withdrawal = "roster_withdrawal"  # 值班安排撤销 (D6)
    video_check = "video_check"  # 视频监控检查 (D7)
    emergency_plan = "emergency_plan"  # 应急预案 (D11)
    drill = "drill"  # 应急演练 (D11)
    rectification = "rectification"  # completion/verification of a site-wide rectification
    weekly_check = "weekly_check"  # 周排查: the safety director's weekly check (Order No. 74)
    monthly_review = "monthly_review"  # 月调度: the monthly review (Order No. 74)


REGISTER_KIND_LABELS = {
    RegisterKind.key_issue: _l("Key issued"),
    RegisterKind.key_return: _l("Key returned"),
    RegisterKind.roster_shift: _l("Duty shift"),
    RegisterKind.roster_withdrawal: _l("Duty shift withdrawn"),
    RegisterKind.video_check: _l("Video retention check"),
    RegisterKind.emergency_plan: _l("Emergency plan"),
    RegisterKind.drill: _l("Emergency drill"),
    RegisterKind.rectification: _l("Rectification"),
    RegisterKind.weekly_check: _l("Weekly check"),
    RegisterKind.monthly_review: _l("Monthly review"),
}


class RegisterEntry(Model):
    """One signed entry in a site's register chain. Never updated or deleted.

    ``content`` is canonical JSON (records/canonical.py) including the
    signatures; the typed columns are copies for lists and rules.
    """

    __tablename__ = "register_entries"
    __table_args__ = (
        UniqueConstraint("site_id", "seq"),
        # The roster rule (D6.roster) reads the shifts from this index alone, in
        # the order of its window functions (per site, by start).
        Index(
            "ix_register_entries_kind_site_span", "kind", "site_id", "starts_at", "ends_at", "id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[RegisterKind] = mapped_column(_enum(RegisterKind), index=True)
    #: The entry this one acts on (a return's issue, a withdrawal's shift).
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("register_entries.id"), index=True)
    #: The key or tool of a key_issue / key_return.
    key_id: Mapped[int | None] = mapped_column(ForeignKey("site_keys.id"), index=True)
    #: A roster shift's start and end.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The day the entry is about (drill date, oldest footage date, plan approval date).
    on_date: Mapped[date | None] = mapped_column(Date)
    #: A yes/no result (video: cameras working; drill: done as planned).
    ok: Mapped[bool | None] = mapped_column(Boolean)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    site: Mapped[Site] = relationship()
    author: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()
    subject: Mapped[RegisterEntry | None] = relationship(remote_side=[id])
    key: Mapped[SiteKey | None] = relationship()

    @property
    def data(self) -> dict[str, Any]:
        """Return the content as a dict."""
        return json.loads(self.content)

    @property
    def kind_label(self) -> str:
        """Return the kind in the user's language."""
        return str(REGISTER_KIND_LABELS[self.kind])


class KeyKind(enum.StrEnum):
    """Special keys and tools kept by the management unit (D4)."""

    triangle_key = "triangle_key"  # 三角钥匙
    machine_room_key = "machine_room_key"  # 机房钥匙
    manual_release_tool = "manual_release_tool"  # 手动松闸/盘车工具
    other = "other"


KEY_KIND_LABELS = {
    KeyKind.triangle_key: _l("Triangle key"),
    KeyKind.machine_room_key: _l("Machine room key"),
    KeyKind.manual_release_tool: _l("Manual release tool"),
    KeyKind.other: _l("Other key or tool"),
}


class SiteKey(Model):
    """A special key or tool of a site (D4). Who holds it is in the register chain."""

    __tablename__ = "site_keys"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    #: The number written on the key's tag.
    code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[KeyKind] = mapped_column(_enum(KeyKind))
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    site: Mapped[Site] = relationship()

    @property
    def kind_label(self) -> str:
        """Return the kind in the user's language."""
        return str(KEY_KIND_LABELS[self.kind])


class CertificateKind(enum.StrEnum):
    """Personnel certificates (特种设备作业人员证 and the management unit's own)."""

    safety_officer = "safety_officer"  # 特种设备安全管理人员 (A)
    technician = "technician"  # 电梯修理作业人员 (T)
    safety_director = "safety_director"  # 安全总监 training record


CERTIFICATE_KIND_LABELS = {
    CertificateKind.safety_officer: _l("Safety management certificate"),
    CertificateKind.technician: _l("Elevator repair operator certificate"),
    CertificateKind.safety_director: _l("Safety director training"),
}


class Certificate(Model):
    """A person's certificate with its expiry (D11: certified staff)."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("kind", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[CertificateKind] = mapped_column(_enum(CertificateKind))
    number: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str | None] = mapped_column(String(200))
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, onupdate=now_utc)

    user: Mapped[User] = relationship()

    @property
    def kind_label(self) -> str:
        """Return the kind in the user's language."""
        return str(CERTIFICATE_KIND_LABELS[self.kind])
