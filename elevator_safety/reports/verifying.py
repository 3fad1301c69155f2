"""Checking a document against the installation: its digital signature and its printed hashes.

A document is genuine when two things hold. The file carries the
installation's signature, intact and covering the whole file (so nothing was
changed or added after it was issued). And every record hash printed on it
("内容哈希 Content hash: <hex>", "链头 Chain head: <hex>") names a record that
exists, whose content, signatures and chain position still verify (so the
database was not altered since the document was printed). A paper copy has
only the second half: ``/verify/<hash>`` answers it for one printed hash.
"""

from __future__ import annotations

import contextlib
import enum
import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

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


class Verdict(enum.StrEnum):
    """What the database says about a printed hash."""

    ok = "ok"  # the record and every record before it verify
    later_broken = "later_broken"  # as ok, but a later record of the chain does not verify
    altered = "altered"  # the record itself no longer verifies
    earlier_broken = "earlier_broken"  # an earlier record of its chain does not verify
    not_found = "not_found"  # no record has this hash


@dataclass
class HashCheck:
    """One printed hash and what the database says about it."""

    kind: HashKind
    value: str
    verdict: Verdict
    record: Record | None = None
    #: Position of the first record of the chain that does not verify, if any.
    broken_seq: int | None = None
    #: Records in the elevator's chain now.
    chain_length: int = 0

    @property
    def ok(self) -> bool:
        """Return whether the hash matches a record that verifies, with all before it."""
        return self.verdict in (Verdict.ok, Verdict.later_broken)

    @property
    def label(self) -> str:
        """Return what the hash stands for, in the user's language."""
        return _("Content hash") if self.kind == HashKind.content else _("Chain head")

    @property
    def message(self) -> str:
        """Return the verdict as a sentence in the user's language."""
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


class _Chains:
    """Verify each elevator's chain at most once per check."""

    def __init__(self) -> None:
        self.reports: dict[int, services.ChainReport] = {}

    def report(self, elevator_id: int) -> services.ChainReport:
        if elevator_id not in self.reports:
            self.reports[elevator_id] = services.verify([elevator_id])
        return self.reports[elevator_id]

    def judge(self, kind: HashKind, value: str, record: Record | None) -> HashCheck:
        """Return the check of a printed hash that names ``record`` (None: none does)."""
        if record is None:
            return HashCheck(kind, value, Verdict.not_found)
        report = self.report(record.elevator_id)
        broken = report.first_broken
        if broken is None:
            verdict = Verdict.ok
        elif broken.seq > record.seq:
            verdict = Verdict.later_broken
        elif broken.id == record.id:
            verdict = Verdict.altered
        else:
            verdict = Verdict.earlier_broken
        return HashCheck(
            kind,
            value,
            verdict,
            record=record,
            broken_seq=broken.seq if broken is not None else None,
            chain_length=report.records,
        )


def _records_by(column, values: list[str]) -> dict[str, Record]:  # type: ignore[no-untyped-def]
    """Return the records whose hash column holds one of the values, by that value.

    Identical content written in the same second has the same content hash: the
    first such record stands for the value (its chain shows if any of them breaks).
    """
    if not values:
        return {}
    rows = db.session.scalars(select(Record).where(column.in_(values)).order_by(Record.id))
    found: dict[str, Record] = {}
    for row in rows:
        found.setdefault(getattr(row, column.key), row)
    return found


def check_hashes(contents: Iterable[str], heads: Iterable[str] = ()) -> list[HashCheck]:
    """Check printed content hashes and chain heads against the database."""
    content_list = list(dict.fromkeys(value.lower() for value in contents))
    head_list = list(dict.fromkeys(value.lower() for value in heads))
    by_content = _records_by(Record.content_hash, content_list)
    by_chain = _records_by(Record.chain_hash, head_list)
    chains = _Chains()
    checks = [chains.judge(HashKind.content, h, by_content.get(h)) for h in content_list]
    checks += [chains.judge(HashKind.chain_head, h, by_chain.get(h)) for h in head_list]
    return checks


def check_content_hash(content_hash: str) -> HashCheck:
    """Check one record's content hash (the public verification page)."""
    return check_hashes([content_hash])[0]


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


def printed_hashes(text: str) -> tuple[list[str], list[str]]:
    """Return the content hashes and chain heads printed in a document's text."""
    return CONTENT_LINE.findall(text), HEAD_LINE.findall(text)


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
    """Check a PDF's signature and every record hash printed on it against the database."""
    signature = check_signature(data)
    contents, heads = printed_hashes(pdf_text(data))
    return PdfCheck(
        signature_ok=signature.ok,
        signature_detail=signature.detail,
        hashes=check_hashes(contents, heads),
        signer=signature.signer,
        signed_at=signature.signed_at,
    )
