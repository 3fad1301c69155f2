"""Append records to an elevator's chain, sign them, correct them, verify chains.

Every record kind (patrol, maintenance, handover...) is written through
``append``: it locks the elevator's chain, computes the hashes, writes the
record and its signatures in the caller's transaction, and audits the write.
The caller (request, command) commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from elevator_safety import audit
from elevator_safety.auth import recheck
from elevator_safety.auth.models import User
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records.canonical import (
    GENESIS,
    canonical_json,
    chain_hash,
    load_stored,
    normalise,
    sha256_hex,
    stored_canonical,
)
from elevator_safety.records.models import Meaning, Record, RecordKind, Signature
from elevator_safety.registry.models import Elevator

MAX_APPEND_ATTEMPTS = 8


class DuplicateSubmission(DomainError):
    """The form was already submitted; ``record`` is what it created."""

    def __init__(self, record: Any) -> None:
        super().__init__(_("This form was already submitted."))
        #: The Record (or site RegisterEntry) the first submission created.
        self.record = record


@dataclass
class SignatureSpec:
    """A signature to add with a record: who, meaning what, on which record."""

    signer: User
    meaning: Meaning
    reason: str | None = None
    #: The record signed; None means the record being appended.
    subject: Record | None = None


def check_signing_password(user: User, password: str | None) -> None:
    """Refuse a signature unless the signer typed their password again."""
    ttl = float(current_app.config["SIGNING_RECHECK_SECONDS"])
    if not password or not recheck.check(user, password, ttl):
        raise DomainError(_("Wrong password: the signature was not made."), field="password")


def body_hash(content: dict[str, Any]) -> str:
    """Return the hash a signature covers: the content without its signatures."""
    unsigned = {k: v for k, v in content.items() if k != "signatures"}
    return sha256_hex(canonical_json(unsigned))


def stored_body_hash(parsed: dict[str, Any]) -> str:
    """Return ``body_hash`` of stored content parsed by ``load_stored``, without its walk."""
    unsigned = {k: v for k, v in parsed.items() if k != "signatures"}
    text = stored_canonical(unsigned)
    return sha256_hex(text) if text is not None else body_hash(parsed)


def site_date(elevator: Elevator, moment: datetime) -> Any:
    """Return the calendar day of a moment in the elevator's site's time zone."""
    return moment.astimezone(ZoneInfo(elevator.site.timezone or "Asia/Shanghai")).date()


def _lock_chain(elevator_id: int) -> None:
    """Serialise appends to one elevator's chain (row lock on PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Elevator.id).where(Elevator.id == elevator_id).with_for_update())


def chain_head(elevator_id: int) -> Record | None:
    """Return the last record of an elevator's chain."""
    return db.session.scalar(
        select(Record).where(Record.elevator_id == elevator_id).order_by(Record.seq.desc()).limit(1)
    )


def _head_position(elevator_id: int) -> tuple[int, str]:
    """Return the (seq, chain hash) a new record of the chain follows: (0, GENESIS) for none."""
    row = db.session.execute(
        select(Record.seq, Record.chain_hash)
        .where(Record.elevator_id == elevator_id)
        .order_by(Record.seq.desc())
        .limit(1)
    ).first()
    return (row.seq, row.chain_hash) if row is not None else (0, GENESIS)


def find_by_idempotency_key(key: str | None) -> Record | None:
    """Return the record a form token already created, if any."""
    if not key:
        return None
    return db.session.scalar(select(Record).where(Record.idempotency_key == key))


def _signature_entry(spec: SignatureSpec, subject_id: int | None, subject_hash: str) -> dict:
    signer = spec.signer
    return {
        "signer_id": signer.id,
        "printed_name": signer.name,
        "organisation": signer.organisation.name,
        "meaning": spec.meaning.value,
        "reason": spec.reason,
        "signed_at": now_utc(),
        "subject_id": subject_id,
        "content_hash": subject_hash,
    }


def append(
    elevator: Elevator,
    kind: RecordKind,
    body: dict[str, Any],
    author: User,
    *,
    occurred_at: datetime,
    signatures: Iterable[SignatureSpec],
    subject: Record | None = None,
    level: str | None = None,
    idempotency_key: str | None = None,
) -> Record:
    """Append a signed record to an elevator's chain and return it.

    A form token (``idempotency_key``) already used raises DuplicateSubmission
    with the record it created. The unique key on the column tells, when the
    insert fails: no lookup is made beforehand, so an ordinary append costs
    no extra statement (callers that must know earlier, before storing
    photos, look the token up themselves).
    """
    specs = list(signatures)
    if not specs:
        raise ValueError("a record needs at least one signature")
    base = {
        "kind": kind.value,
        "elevator_id": elevator.id,
        "equipment_code": elevator.equipment_code,
        "occurred_at": occurred_at,
        "occurred_on": site_date(elevator, occurred_at),
        "author_id": author.id,
        "author_name": author.name,
        "organisation_id": author.organisation_id,
        "organisation": author.organisation.name,
        "subject_id": subject.id if subject else None,
        "subject_content_hash": subject.content_hash if subject else None,
        "level": level,
        "body": body,
        "recorded_at": now_utc(),
    }
    own_hash = body_hash(normalise(base))
    entries = []
    for spec in specs:
        target = spec.subject
        if target is None:
            entries.append(_signature_entry(spec, None, own_hash))
        else:
            entries.append(_signature_entry(spec, target.id, body_hash(target.data)))
    content_text = canonical_json(base | {"signatures": entries})
    content_hash = sha256_hex(content_text)
    for attempt in range(MAX_APPEND_ATTEMPTS):
        try:
            with db.session.begin_nested():
                _lock_chain(elevator.id)
                last_seq, prev = _head_position(elevator.id)
                seq = last_seq + 1
                record = Record(
                    elevator_id=elevator.id,
                    seq=seq,
                    kind=kind,
                    subject_id=subject.id if subject else None,
                    level=level,
                    occurred_at=occurred_at,
                    occurred_on=base["occurred_on"],
                    author_id=author.id,
                    organisation_id=author.organisation_id,
                    content=content_text,
                    content_hash=content_hash,
                    prev_hash=prev,
                    chain_hash=chain_hash(prev, content_hash, elevator.id, seq),
                    idempotency_key=idempotency_key or None,
                )
                db.session.add(record)
                db.session.flush()
                for spec, entry in zip(specs, entries, strict=True):
                    db.session.add(
                        Signature(
                            record_id=record.id,
                            subject_id=entry["subject_id"] or record.id,
                            signer_id=spec.signer.id,
                            printed_name=entry["printed_name"],
                            organisation_name=entry["organisation"],
                            meaning=spec.meaning,
                            reason=spec.reason,
                            signed_at=entry["signed_at"],
                            content_hash=entry["content_hash"],
                        )
                    )
                db.session.flush()
        except IntegrityError:
            existing = find_by_idempotency_key(idempotency_key)
            if existing is not None:
                raise DuplicateSubmission(existing) from None
            if attempt == MAX_APPEND_ATTEMPTS - 1:
                raise
            continue  # another writer took this seq: read the new head and retry
        audit.record(
            "record",
            record,
            organisation_id=author.organisation_id,
            user_id=author.id,
            label=f"{elevator.equipment_code} #{record.seq} {kind.value}",
        )
        return record
    raise RuntimeError("unreachable")


# --- corrections ------------------------------------------------------------


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Yield (dotted path, leaf value) pairs of a record body."""
    if isinstance(value, dict):
        for key in sorted(value):
            yield from flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from flatten(item, f"{prefix}.{index}" if prefix else str(index))
    else:
        yield prefix, value


def _set_path(data: Any, path: str, value: Any) -> None:
    parts = path.split(".")
    target = data
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


def corrections_of(record: Record) -> list[Record]:
    """Return the corrections of a record, oldest first."""
    return list(
        db.session.scalars(
            select(Record)
            .where(Record.subject_id == record.id, Record.kind == RecordKind.correction)
            .order_by(Record.seq)
        )
    )


@dataclass
class Effective:
    """A record's body with its corrections applied, and what each correction changed."""

    body: dict[str, Any]
    #: path -> list of {"old", "new", "by", "reason", "at", "record_id"} in order.
    changes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def corrected(self, path: str) -> bool:
        """Return whether a field was corrected."""
        return path in self.changes


def effective(record: Record, corrections: list[Record] | None = None) -> Effective:
    """Return the body as corrected; the original record is untouched."""
    body = json.loads(json.dumps(record.data["body"]))
    result = Effective(body=body)
    for correction in corrections if corrections is not None else corrections_of(record):
        data = correction.data
        for path, change in sorted(data["body"]["changes"].items()):
            _set_path(body, path, change["new"])
            result.changes.setdefault(path, []).append(
                {
                    "old": change["old"],
                    "new": change["new"],
                    "by": data["author_name"],
                    "reason": data["body"]["reason"],
                    "at": data["recorded_at"],
                    "record_id": correction.id,
                }
            )
    return result


def correct(
    record: Record,
    author: User,
    password: str | None,
    changes: dict[str, Any],
    reason: str,
    *,
    idempotency_key: str | None = None,
) -> Record:
    """Append a correction of some fields of a record; the original stays as it was."""
    check_signing_password(author, password)
    if record.kind in (RecordKind.correction, RecordKind.confirmation, RecordKind.rejection):
        raise DomainError(_("This kind of record cannot be corrected; add a new one."))
    if not reason or not reason.strip():
        raise DomainError(_("Give the reason for the correction."), field="reason")
    current = dict(flatten(effective(record).body))
    diff = {}
    for path, new in changes.items():
        if path not in current:
            raise DomainError(_("Unknown field: %(path)s", path=path), field="field")
        if current[path] != new:
            diff[path] = {"old": current[path], "new": new}
    if not diff:
        raise DomainError(_("The new value is the same as the current one."), field="value")
    return append(
        record.elevator,
        RecordKind.correction,
        {"changes": diff, "reason": reason.strip()},
        author,
        occurred_at=now_utc(),
        signatures=[SignatureSpec(author, Meaning.corrected, reason.strip(), subject=record)],
        subject=record,
        idempotency_key=idempotency_key,
    )


# --- verification -----------------------------------------------------------


@dataclass
class ChainReport:
    """The result of verifying chains."""

    elevators: int = 0
    records: int = 0
    signatures: int = 0
    problems: list[str] = field(default_factory=list)
    first_broken: Record | None = None

    @property
    def ok(self) -> bool:
        """Return whether everything verified."""
        return not self.problems


def _check_record(record: Record, prev: str, expected_seq: int) -> tuple[list[str], Any]:
    """Return the record's problems and its parsed content (None when it is not JSON)."""
    where = f"elevator {record.elevator_id} record #{record.seq} (id {record.id})"
    problems = []
    if record.seq != expected_seq:
        problems.append(f"{where}: expected position {expected_seq} (a record is missing)")
    if sha256_hex(record.content) != record.content_hash:
        problems.append(f"{where}: content does not match its hash (altered)")
    try:
        data = load_stored(record.content)
    except ValueError:
        return [*problems, f"{where}: content is not JSON"], None
    if stored_canonical(data) != record.content:
        problems.append(f"{where}: content is not in canonical form")
    if record.prev_hash != prev:
        problems.append(f"{where}: previous hash does not match the chain")
    if chain_hash(record.prev_hash, record.content_hash, record.elevator_id, record.seq) != (
        record.chain_hash
    ):
        problems.append(f"{where}: chain hash does not match")
    columns = {
        "kind": record.kind.value,
        "elevator_id": record.elevator_id,
        "subject_id": record.subject_id,
        "level": record.level,
        "author_id": record.author_id,
        "organisation_id": record.organisation_id,
        "occurred_on": record.occurred_on.isoformat(),
        "occurred_at": normalise({"t": record.occurred_at})["t"],
    }
    for key, value in columns.items():
        if data.get(key) != value:
            problems.append(f"{where}: column {key} differs from the signed content")
    return problems, data


def _check_signatures(
    record: Record, data: Any, rows: list[Signature], by_id: dict[int, Record]
) -> list[str]:
    """Return the problems of a record's signatures, given its parsed content."""
    where = f"elevator {record.elevator_id} record #{record.seq} (id {record.id})"
    entries = data.get("signatures") or []
    problems = []
    if len(entries) != len(rows):
        problems.append(f"{where}: {len(entries)} signatures in content, {len(rows)} rows")
    own = stored_body_hash(data)
    for entry, row in zip(entries, sorted(rows, key=lambda s: s.id), strict=False):
        subject_id = entry["subject_id"] or record.id
        subject = by_id.get(subject_id) or db.session.get(Record, subject_id)
        expected_hash = (
            own
            if entry["subject_id"] is None
            else (stored_body_hash(load_stored(subject.content)) if subject else None)
        )
        signed = {
            "signer_id": row.signer_id,
            "printed_name": row.printed_name,
            "organisation": row.organisation_name,
            "meaning": row.meaning.value,
            "reason": row.reason,
            "signed_at": normalise({"t": row.signed_at})["t"],
            "subject_id": row.subject_id,
            "content_hash": row.content_hash,
        }
        wanted = dict(entry) | {"subject_id": subject_id}
        if signed != wanted:
            problems.append(f"{where}: signature {row.id} differs from the signed content")
        if entry["content_hash"] != expected_hash or row.content_hash != expected_hash:
            problems.append(
                f"{where}: signature {row.id} does not match the content of record {subject_id}"
            )
    return problems


def verify(elevator_ids: Iterable[int] | None = None) -> ChainReport:
    """Walk every chain (or those of some elevators) and every signature."""
    report = ChainReport()
    query = select(Record.elevator_id).distinct().order_by(Record.elevator_id)
    ids = list(elevator_ids) if elevator_ids is not None else list(db.session.scalars(query))
    for elevator_id in ids:
        report.elevators += 1
        records = list(
            db.session.scalars(
                select(Record).where(Record.elevator_id == elevator_id).order_by(Record.seq)
            )
        )
        by_id = {r.id: r for r in records}
        rows_by_record: dict[int, list[Signature]] = {}
        for row in db.session.scalars(
            select(Signature).where(Signature.record_id.in_(list(by_id) or [0]))
        ):
            rows_by_record.setdefault(row.record_id, []).append(row)
        prev = GENESIS
        for expected, record in enumerate(records, start=1):
            report.records += 1
            report.signatures += len(rows_by_record.get(record.id, []))
            problems, data = _check_record(record, prev, expected)
            if data is not None:  # content that is not JSON has no signatures to check
                problems += _check_signatures(
                    record, data, rows_by_record.get(record.id, []), by_id
                )
            if problems and report.first_broken is None:
                report.first_broken = record
            report.problems += problems
            prev = record.chain_hash
    if elevator_ids is None:
        # Only a walk of every chain can tell a signature that belongs to no
        # chain; as an anti-join (NOT EXISTS), since NOT IN is quadratic on
        # PostgreSQL when the records do not fit its hash table.
        orphans = db.session.scalars(
            select(Signature).where(~exists().where(Record.id == Signature.record_id))
        ).all()
        for row in orphans:
            report.problems.append(f"signature {row.id} belongs to no record")
    return report
