"""Checking a document against the installation: its digital signature and its printed hashes.

A document is genuine when two things hold. The file carries the
installation's signature, intact and covering the whole file (so nothing was
changed or added after it was issued). And every record hash printed on it
("内容哈希 Content hash: <hex>", "链头 Chain head: <hex>") names a record that
exists, whose content, signatures and chain position still verify (so the
database was not altered since the document was printed); every site register
entry hash printed on a register sheet ("登记哈希 Register entry hash: <hex>")
names a register entry that verifies likewise in its site's register chain. A
paper copy has only the second half: ``/verify/<hash>`` answers it for one
printed hash (a record's, or else a register entry's).
"""

from __future__ import annotations

import contextlib
import enum
import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from sqlalchemy import select

from elevator_safety.extensions import db
from elevator_safety.records import services
from elevator_safety.records.models import Record
from elevator_safety.registers import chain as site_chain
from elevator_safety.registers.models import RegisterEntry
from elevator_safety.reports.signing import (
    SigningError,
    outside_event_loop,
    trusted_certificates,
)

#: A record hash: 64 lowercase hexadecimal digits.
HASH_PATTERN = re.compile(r"^[0-9a-f]{64}$")
#: The verification lines printed on documents (the Chinese label before them may vary).
CONTENT_LINE = re.compile(r"Content hash:\s*([0-9a-fA-F]{64})(?![0-9a-fA-F])")
HEAD_LINE = re.compile(r"Chain head:\s*([0-9a-fA-F]{64})(?![0-9a-fA-F])")
REGISTER_LINE = re.compile(r"Register entry hash:\s*([0-9a-fA-F]{64})(?![0-9a-fA-F])")


def is_hash(value: str) -> bool:
    """Return whether a string is a well-formed record hash."""
    return bool(HASH_PATTERN.match(value))


def verify_url(content_hash: str) -> str:
    """Return the address of a record's verification page, as printed in QR codes.

    With ``PUBLIC_BASE_URL`` set it is absolute; otherwise it is the path.
    """
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return f"{base}/verify/{content_hash}"
    if has_request_context():
        return url_for("verify.record", content_hash=content_hash)
    return f"/verify/{content_hash}"


# --- printed hashes against the database ------------------------------------------------------


class HashKind(enum.StrEnum):
    """What a printed hash stands for."""

    content = "content"  # a record's content hash
    chain_head = "chain_head"  # the chain hash of an elevator's last record at printing
    register_entry = "register_entry"  # a site register entry's content hash


class Verdict(enum.StrEnum):
    """What the database says about a printed hash."""

    ok = "ok"  # the record (or entry) and every one before it in its chain verify
    later_broken = "later_broken"  # as ok, but a later one of the chain does not verify
    altered = "altered"  # the record (or entry) itself no longer verifies
    earlier_broken = "earlier_broken"  # an earlier one of its chain does not verify
    not_found = "not_found"  # no record (or entry) has this hash


@dataclass
class HashCheck:
    """One printed hash and what the database says about it.

    A record's hashes name a ``record`` (judged in its elevator's chain); a
    register entry hash names an ``entry`` (judged in its site's register
    chain). The properties below answer for either, so that pages and commands
    need not tell them apart.
    """

    kind: HashKind
    value: str
    verdict: Verdict
    record: Record | None = None
    #: Position of the first record (or entry) of the chain that does not verify, if any.
    broken_seq: int | None = None
    #: Records in the elevator's chain (or entries in the site's chain) now.
    chain_length: int = 0
    entry: RegisterEntry | None = None

    @property
    def ok(self) -> bool:
        """Return whether the hash matches a record that verifies, with all before it."""
        return self.verdict in (Verdict.ok, Verdict.later_broken)

    @property
    def is_entry(self) -> bool:
        """Return whether the hash stands for a site register entry (not a record)."""
        return self.kind == HashKind.register_entry

    @property
    def found(self) -> Record | RegisterEntry | None:
        """Return the record or register entry the hash names (None: none does)."""
        return self.entry if self.is_entry else self.record

    @property
    def label(self) -> str:
        """Return what the hash stands for, in the user's language."""
        if self.kind == HashKind.register_entry:
            return _("Register entry hash")
        return _("Content hash") if self.kind == HashKind.content else _("Chain head")

    @property
    def kind_heading(self) -> str:
        """Return the heading of the found item's kind: a record kind or a register kind."""
        return _("Register entry kind") if self.is_entry else _("Record kind")

    @property
    def kind_label(self) -> str | None:
        """Return the kind of the record or register entry, in the user's language."""
        found = self.found
        return found.kind_label if found is not None else None

    @property
    def place_heading(self) -> str:
        """Return the heading of the found item's place: equipment code or site."""
        return _("Site") if self.is_entry else _("Equipment code")

    @property
    def place(self) -> str | None:
        """Return the elevator's equipment code of a record, the site's name of an entry."""
        if self.entry is not None and self.is_entry:
            return self.entry.site.name
        if self.record is not None and not self.is_entry:
            return self.record.elevator.equipment_code
        return None

    @property
    def occurred_on(self) -> date | None:
        """Return the day of the record or register entry."""
        found = self.found
        return found.occurred_on if found is not None else None

    @property
    def seq(self) -> int | None:
        """Return the position of the record (or entry) in its chain."""
        found = self.found
        return found.seq if found is not None else None

    @property
    def position_heading(self) -> str:
        """Return the heading of the position: in the elevator's or the site's chain."""
        return _("Site chain position") if self.is_entry else _("Chain position")

    @property
    def message(self) -> str:
        """Return the verdict as a sentence in the user's language."""
        if self.is_entry:
            return self._entry_message()
        if self.verdict == Verdict.not_found:
            if self.kind == HashKind.chain_head:
                return _(
                    "No record has this chain hash: the document did not come from this "
                    "installation, or records were altered or removed since it was printed."
                )
            return _(
                "No record has this content hash: the document did not come from this "
                "installation, or the record was altered or removed."
            )
        if self.verdict == Verdict.altered:
            return _(
                "The record was altered after it was signed: its content, signatures or "
                "place in the chain no longer verify."
            )
        if self.verdict == Verdict.earlier_broken:
            return _(
                "An earlier record of this elevator's chain (position %(seq)d) does not "
                "verify, so this record's place in the chain cannot be trusted.",
                seq=self.broken_seq or 0,
            )
        if self.verdict == Verdict.later_broken:
            return _(
                "The record and the chain up to it verify, but a later record of this "
                "elevator's chain (position %(seq)d) does not.",
                seq=self.broken_seq or 0,
            )
        if self.kind == HashKind.chain_head:
            return _(
                "The chain verifies up to this head; it holds %(count)d records now.",
                count=self.chain_length,
            )
        return _("The record exists; its content, signatures and chain verify.")

    def _entry_message(self) -> str:
        if self.verdict == Verdict.not_found:
            return _(
                "No register entry has this hash: the document did not come from this "
                "installation, or the register entry was altered or removed."
            )
        if self.verdict == Verdict.altered:
            return _(
                "The register entry was altered after it was signed: its content, "
                "signatures or place in this site's register chain no longer verify."
            )
        if self.verdict == Verdict.earlier_broken:
            return _(
                "An earlier entry of this site's register chain (position %(seq)d) does not "
                "verify, so the register entry's place in the chain cannot be trusted.",
                seq=self.broken_seq or 0,
            )
        if self.verdict == Verdict.later_broken:
            return _(
                "The register entry and this site's register chain up to it verify, but a "
                "later entry of the chain (position %(seq)d) does not.",
                seq=self.broken_seq or 0,
            )
        return _(
            "The register entry exists; its content, signatures and this site's register "
            "chain verify."
        )


def _verdict(broken: Record | RegisterEntry | None, found: Record | RegisterEntry) -> Verdict:
    """Return the verdict on ``found`` given the first item of its chain that does not verify."""
    if broken is None:
        return Verdict.ok
    if broken.seq > found.seq:
        return Verdict.later_broken
    if broken.id == found.id:
        return Verdict.altered
    return Verdict.earlier_broken


class _Chains:
    """Verify each elevator's chain, and each site's register chain, at most once per check."""

    def __init__(self) -> None:
        self.reports: dict[int, services.ChainReport] = {}
        self.site_reports: dict[int, site_chain.SiteChainReport] = {}

    def report(self, elevator_id: int) -> services.ChainReport:
        if elevator_id not in self.reports:
            self.reports[elevator_id] = services.verify([elevator_id])
        return self.reports[elevator_id]

    def site_report(self, site_id: int) -> site_chain.SiteChainReport:
        if site_id not in self.site_reports:
            self.site_reports[site_id] = site_chain.verify_sites([site_id])
        return self.site_reports[site_id]

    def judge(self, kind: HashKind, value: str, record: Record | None) -> HashCheck:
        """Return the check of a printed hash that names ``record`` (None: none does)."""
        if record is None:
            return HashCheck(kind, value, Verdict.not_found)
        report = self.report(record.elevator_id)
        broken = report.first_broken
        return HashCheck(
            kind,
            value,
            _verdict(broken, record),
            record=record,
            broken_seq=broken.seq if broken is not None else None,
            chain_length=report.records,
        )

    def judge_entry(self, value: str, entry: RegisterEntry | None) -> HashCheck:
        """Return the check of a printed register entry hash naming ``entry`` (None: none does)."""
        if entry is None:
            return HashCheck(HashKind.register_entry, value, Verdict.not_found)
        report = self.site_report(entry.site_id)
        broken = report.first_broken
        return HashCheck(
            HashKind.register_entry,
            value,
            _verdict(broken, entry),
            entry=entry,
            broken_seq=broken.seq if broken is not None else None,
            chain_length=report.entries,
        )


def _rows_by(model, column, values: list[str]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Return the rows whose hash column holds one of the values, by that value.

    Identical content written in the same second has the same content hash: the
    first such row stands for the value (its chain shows if any of them breaks).
    """
    if not values:
        return {}
    rows = db.session.scalars(select(model).where(column.in_(values)).order_by(model.id))
    found: dict[str, Any] = {}
    for row in rows:
        found.setdefault(getattr(row, column.key), row)
    return found


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value.lower() for value in values))


def check_hashes(
    contents: Iterable[str], heads: Iterable[str] = (), entries: Iterable[str] = ()
) -> list[HashCheck]:
    """Check printed content hashes, chain heads and register entry hashes against the database."""
    content_list, head_list, entry_list = _unique(contents), _unique(heads), _unique(entries)
    by_content = _rows_by(Record, Record.content_hash, content_list)
    by_chain = _rows_by(Record, Record.chain_hash, head_list)
    by_entry = _rows_by(RegisterEntry, RegisterEntry.content_hash, entry_list)
    chains = _Chains()
    checks = [chains.judge(HashKind.content, h, by_content.get(h)) for h in content_list]
    checks += [chains.judge(HashKind.chain_head, h, by_chain.get(h)) for h in head_list]
    checks += [chains.judge_entry(h, by_entry.get(h)) for h in entry_list]
    return checks


def check_content_hash(content_hash: str) -> HashCheck:
    """Check one record's content hash."""
    return check_hashes([content_hash])[0]


def check_register_entry_hash(content_hash: str) -> HashCheck:
    """Check one site register entry's content hash."""
    return check_hashes([], [], [content_hash])[0]


def check_printed_hash(content_hash: str) -> HashCheck:
    """Check one printed hash (the public verification page): a record's, else an entry's.

    Records come first; only when no record has the hash is it looked up among
    the register entries. When neither has it, the record's "not found" check
    is returned.
    """
    check = check_content_hash(content_hash)
    if check.record is not None:
        return check
    entry_check = check_register_entry_hash(content_hash)
    return entry_check if entry_check.entry is not None else check


# --- the file's digital signature ---------------------------------------------------------------


@dataclass
class SignatureCheck:
    """The embedded signature of a PDF, judged against the installation's certificates."""

    ok: bool
    detail: str
    signer: str | None = None
    signed_at: datetime | None = None


def _validation_context() -> ValidationContext:
    roots = [
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        for cert in trusted_certificates()
    ]
    return ValidationContext(trust_roots=roots, allow_fetching=False)


@contextlib.contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    """Keep pyHanko from logging tracebacks for the failures this module reports itself."""
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _subject_name(status: PdfSignatureStatus) -> str:
    """Return the signer's common name (or the whole subject when it has none)."""
    subject = status.signing_cert.subject
    return str(subject.native.get("common_name") or subject.human_friendly)


def _judge_signature(status: PdfSignatureStatus, last: bool) -> SignatureCheck:
    signer = _subject_name(status)
    signed_at = status.signer_reported_dt
    if not (status.intact and status.valid):
        detail = _("The file was altered after it was signed: its signature no longer matches.")
        return SignatureCheck(False, detail, signer, signed_at)
    if last and status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        detail = _("Something was added to the file after it was signed.")
        return SignatureCheck(False, detail, signer, signed_at)
    if not status.trusted:
        detail = _(
            "The signature is intact but was not made by this installation (signed by %(signer)s).",
            signer=signer,
        )
        return SignatureCheck(False, detail, signer, signed_at)
    detail = _("Signed by %(signer)s; the file is unchanged since.", signer=signer)
    return SignatureCheck(True, detail, signer, signed_at)


def check_signature(data: bytes) -> SignatureCheck:
    """Validate the signatures embedded in a PDF: intact, trusted, covering the whole file."""
    try:
        context = _validation_context()
    except SigningError as error:
        current_app.logger.warning("Signing certificate unusable: %s", error.message)
        return SignatureCheck(False, _("This installation cannot check signatures now."))
    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
        if not signatures:
            return SignatureCheck(False, _("The file carries no digital signature."))
        with _quiet_pyhanko():
            statuses = outside_event_loop(
                lambda: [validate_pdf_signature(sig, context) for sig in signatures]
            )
    except (PdfError, ValueError, KeyError, TypeError):
        return SignatureCheck(False, _("The file is not a readable PDF."))
    judged = [
        _judge_signature(status, index == len(statuses) - 1)
        for index, status in enumerate(statuses)
    ]
    failed = [check for check in judged if not check.ok]
    return failed[0] if failed else judged[-1]


# --- the whole document -------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """Return the text of every page of a PDF ("" when it cannot be read)."""
    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError):
        return ""


class PrintedHashes(NamedTuple):
    """The hashes printed in a document's text, by what they stand for."""

    contents: list[str]
    heads: list[str]
    entries: list[str]


def printed_hashes(text: str) -> PrintedHashes:
    """Return the content hashes, chain heads and register entry hashes printed in a text."""
    return PrintedHashes(
        CONTENT_LINE.findall(text), HEAD_LINE.findall(text), REGISTER_LINE.findall(text)
    )


@dataclass
class PdfCheck:
    """The verdict on a PDF: its digital signature, then each printed hash."""

    signature_ok: bool
    signature_detail: str
    hashes: list[HashCheck] = field(default_factory=list)
    #: The certificate subject of the signer, when there is a signature.
    signer: str | None = None
    #: The signing time the signer stated.
    signed_at: datetime | None = None

    @property
    def ok(self) -> bool:
        """Return whether the signature and every printed hash verify."""
        return self.signature_ok and all(check.ok for check in self.hashes)

    @property
    def failures(self) -> list[HashCheck]:
        """Return the printed hashes that do not verify."""
        return [check for check in self.hashes if not check.ok]


def check_pdf(data: bytes) -> PdfCheck:
    """Check a PDF's signature and every record and register entry hash printed on it."""
    signature = check_signature(data)
    printed = printed_hashes(pdf_text(data))
    return PdfCheck(
        signature_ok=signature.ok,
        signature_detail=signature.detail,
        hashes=check_hashes(printed.contents, printed.heads, printed.entries),
        signer=signature.signer,
        signed_at=signature.signed_at,
    )
