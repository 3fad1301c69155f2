"""The public functions that write documents: each writes one UNSIGNED PDF to a stream.

Callers (the download routes, the ``flask reports`` commands, the bulk export)
sign the bytes afterwards with ``reports.signing.sign_pdf``. The functions
check nothing about the reader: scope and permissions are the callers'.
A missing font raises ``FontMissing`` before anything is written.
"""

from __future__ import annotations

from datetime import date
from typing import BinaryIO

from elevator_safety.auth.models import User
from elevator_safety.records.models import Record
from elevator_safety.registry.models import Elevator, Site
from elevator_safety.reports import archive, names, sheets, summaries
from elevator_safety.reports.fonts import FontMissing, register_fonts
from elevator_safety.reports.layout import DocMeta, build_pdf

#: The site registers register_sheet prints.
REGISTERS = names.REGISTERS

__all__ = [
    "REGISTERS",
    "FontMissing",
    "district_summary",
    "elevator_archive",
    "record_sheet",
    "register_sheet",
    "site_summary",
]


def record_sheet(record: Record, user: User | None, out: BinaryIO) -> None:
    """Write one record's sheet: the elevator, the record, its signatures, QR code to verify."""
    register_fonts()
    meta = DocMeta(
        title=sheets.kind_title(record.kind),
        identity=sheets.elevator_identity(record.elevator),
        user=user,
    )
    build_pdf(out, meta, sheets.record_sheet_flowables(record))


def register_sheet(
    site: Site, register: str, start: date, end: date, user: User | None, out: BinaryIO
) -> None:
    """Write a site register (one of REGISTERS) for the days from ``start`` to ``end``."""
    if register not in REGISTERS:
        raise ValueError(f"unknown register {register!r}; one of {', '.join(REGISTERS)}")
    register_fonts()
    meta = DocMeta(
        title=sheets.register_title(register), identity=sheets.site_identity(site), user=user
    )
    build_pdf(out, meta, sheets.register_flowables(site, register, start, end))


def elevator_archive(
    elevator: Elevator, start: date, end: date, user: User | None, out: BinaryIO
) -> None:
    """Write an elevator's archive (电梯管理档案) of the records from ``start`` to ``end``."""
    register_fonts()
    meta = archive.archive_meta(elevator, user)
    build_pdf(out, meta, archive.archive_flowables(elevator, start, end, meta))


def site_summary(site: Site, month: date, user: User | None, out: BinaryIO) -> None:
    """Write a site's monthly compliance summary for the month of ``month``."""
    register_fonts()
    build_pdf(out, summaries.site_meta(site, user), summaries.site_summary_flowables(site, month))


def district_summary(district_code: str, month: date, user: User | None, out: BinaryIO) -> None:
    """Write a district's monthly summary for its regulator."""
    register_fonts()
    meta = summaries.district_meta(district_code, user)
    build_pdf(out, meta, summaries.district_summary_flowables(district_code, month))
