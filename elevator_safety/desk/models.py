"""A bulk export: a ZIP of elevator archives and summaries built in the background."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elevator_safety.auth.models import Organisation, User
from elevator_safety.db import UTCDateTime, now_utc
from elevator_safety.extensions import Model
from elevator_safety.registry.models import Site


class ExportStatus(enum.StrEnum):
    """Where a bulk export is."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    expired = "expired"


class ExportJob(Model):
    """One bulk export request: a district (code) or one site, and a period.

    The worker claims a queued job (status ``running``), writes the ZIP to
    ``file_path`` one archive at a time (``done_count`` of ``total_count``),
    then records its size and SHA-256. Kept for ``EXPORT_KEEP_DAYS``.
    """

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: The district exported (a regulator's own), or None when one site is exported.
    district_code: Mapped[str | None] = mapped_column(String(12))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[ExportStatus] = mapped_column(
        Enum(ExportStatus, native_enum=False, length=16, validate_strings=True),
        default=ExportStatus.queued,
        index=True,
    )
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    done_count: Mapped[int] = mapped_column(Integer, default=0)
    #: The ZIP's file name inside EXPORT_DIR (never a user-supplied path).
    file_name: Mapped[str | None] = mapped_column(String(200))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the worker last showed it was alive: the claim, then each document written.
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    requested_by: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()
    site: Mapped[Site | None] = relationship()

    @property
    def percent(self) -> int:
        """Return the progress in whole percent (100 when done)."""
        if self.status == ExportStatus.done:
            return 100
        if not self.total_count:
            return 0
        return min(99, self.done_count * 100 // self.total_count)
