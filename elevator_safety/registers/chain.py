"""Append entries to a site's register chain, and verify site chains.

The same rules as elevator chains (records/services.py, docs/records.md):
canonical JSON content with its signatures inside, SHA-256 content hash, and a
chain hash linking each entry to the previous one of the same site. The chain
hash's scope is ``site-<id>`` so that a site chain can never be confused with
an elevator chain of the same number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from elevator_safety import audit
from elevator_safety.auth.models import User
from elevator_safety.db import now_utc
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
from elevator_safety.records.models import Meaning
from elevator_safety.records.services import (
    DuplicateSubmission,
    SignatureSpec,
    body_hash,
    stored_body_hash,
)
from elevator_safety.registers.models import RegisterEntry, RegisterKind, SiteKey
from elevator_safety.registry.models import Site

MAX_APPEND_ATTEMPTS = 8


def scope(site_id: int) -> str:
    """Return the chain-hash scope of a site's chain."""
    return f"site-{site_id}"


def site_day(site: Site, moment: datetime) -> date:
    """Return the calendar day of a moment in the site's time zone."""
    return moment.astimezone(ZoneInfo(site.timezone or "Asia/Shanghai")).date()


def head(site_id: int) -> RegisterEntry | None:
    """Return the last entry of a site's chain."""
    return db.session.scalar(
        select(RegisterEntry)
        .where(RegisterEntry.site_id == site_id)
        .order_by(RegisterEntry.seq.desc())
        .limit(1)
    )


def find_by_idempotency_key(key: str | None) -> RegisterEntry | None:
    """Return the entry a form token already created, if any."""
    if not key:
        return None
    return db.session.scalar(select(RegisterEntry).where(RegisterEntry.idempotency_key == key))


def _lock(site_id: int) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Site.id).where(Site.id == site_id).with_for_update())


#: A signer of a register entry: (user id, printed name, organisation, meaning, reason).
Signer = tuple[int, str, str, Meaning, str | None]


def entry_content(
    base: dict[str, Any], signers: Iterable[Signer], signed_at: datetime
) -> tuple[str, str]:
    """Return the canonical content of an entry and its SHA-256, signatures inside.

    ``base`` holds the entry's fields (kind, site, times, author, typed
    columns, body, recorded_at); every signature signs the hash of ``base``.
    ``append_entry`` and the bulk benchmark generator both build entries here.
    """
    own_hash = body_hash(normalise(base))
    entries = [
        {
            "signer_id": signer_id,
            "printed_name": name,
            "organisation": organisation,
            "meaning": meaning.value,
            "reason": reason,
            "signed_at": signed_at,
            "content_hash": own_hash,
        }
        for signer_id, name, organisation, meaning, reason in signers
    ]
    content_text = canonical_json(base | {"signatures": entries})
    return content_text, sha256_hex(content_text)


def append_entry(
    site: Site,
    kind: RegisterKind,
    body: dict[str, Any],
    author: User,
    *,
    occurred_at: datetime,
    signatures: Iterable[SignatureSpec],
    subject: RegisterEntry | None = None,
    key: SiteKey | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    on_date: date | None = None,
    ok: bool | None = None,
    idempotency_key: str | None = None,
) -> RegisterEntry:
    """Append a signed entry to a site's chain and return it (the caller commits).

    The typed columns (key, times, date, ok) are part of the signed content, so
    verification notices a column changed behind the chain's back.
    """
    existing = find_by_idempotency_key(idempotency_key)
    if existing is not None:
        raise DuplicateSubmission(existing)
    specs = list(signatures)
    if not specs:
        raise ValueError("an entry needs at least one signature")
    if any(spec.subject is not None for spec in specs):
        raise ValueError("register signatures sign their own entry")
    base = {
        "kind": kind.value,
        "site_id": site.id,
        "site": site.name,
        "occurred_at": occurred_at,
        "occurred_on": site_day(site, occurred_at),
        "author_id": author.id,
        "author_name": author.name,
        "organisation_id": author.organisation_id,
        "organisation": author.organisation.name,
        "subject_id": subject.id if subject else None,
        "subject_content_hash": subject.content_hash if subject else None,
        "key_id": key.id if key else None,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "on_date": on_date,
        "ok": ok,
        "body": body,
        "recorded_at": now_utc(),
    }
    signers = [
        (spec.signer.id, spec.signer.name, spec.signer.organisation.name, spec.meaning, spec.reason)
        for spec in specs
    ]
    content_text, content_hash = entry_content(base, signers, now_utc())
    for attempt in range(MAX_APPEND_ATTEMPTS):
        try:
            with db.session.begin_nested():
                _lock(site.id)
                last = head(site.id)
                seq = last.seq + 1 if last else 1
                prev = last.chain_hash if last else GENESIS
                entry = RegisterEntry(
                    site_id=site.id,
                    seq=seq,
                    kind=kind,
                    subject_id=subject.id if subject else None,
                    key_id=key.id if key else None,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    on_date=on_date,
                    ok=ok,
                    occurred_at=occurred_at,
                    occurred_on=base["occurred_on"],
                    author_id=author.id,
                    organisation_id=author.organisation_id,
                    content=content_text,
                    content_hash=content_hash,
                    prev_hash=prev,
                    chain_hash=chain_hash(prev, content_hash, scope(site.id), seq),
                    idempotency_key=idempotency_key or None,
                )
                db.session.add(entry)
                db.session.flush()
        except IntegrityError:
            existing = find_by_idempotency_key(idempotency_key)
            if existing is not None:
                raise DuplicateSubmission(existing) from None
            if attempt == MAX_APPEND_ATTEMPTS - 1:
                raise
            continue
        audit.record(
            "record",
            entry,
            organisation_id=author.organisation_id,
            user_id=author.id,
            label=f"{site.name} #{entry.seq} {kind.value}",
        )
        return entry
    raise RuntimeError("unreachable")


def signed(
    site: Site, kind: RegisterKind, body: dict[str, Any], author: User, **kwargs: Any
) -> RegisterEntry:
    """Append an entry signed by its author with the meaning "recorded"."""
    meaning = kwargs.pop("meaning", Meaning.recorded)
    reason = kwargs.pop("reason", None)
    return append_entry(
        site,
        kind,
        body,
        author,
        signatures=[SignatureSpec(author, meaning, reason)],
        occurred_at=kwargs.pop("occurred_at", None) or now_utc(),
        **kwargs,
    )


# --- verification -----------------------------------------------------------------


@dataclass
class SiteChainReport:
    """The result of verifying site chains."""

    sites: int = 0
    entries: int = 0
    problems: list[str] = field(default_factory=list)
    #: The first entry whose check found a problem (in the order the chains were walked).
    first_broken: RegisterEntry | None = None

    @property
    def ok(self) -> bool:
        """Return whether everything verified."""
        return not self.problems


def _check(entry: RegisterEntry, prev: str, expected_seq: int) -> list[str]:
    where = f"site {entry.site_id} entry #{entry.seq} (id {entry.id})"
    problems = []
    if entry.seq != expected_seq:
        problems.append(f"{where}: expected position {expected_seq} (an entry is missing)")
    if sha256_hex(entry.content) != entry.content_hash:
        problems.append(f"{where}: content does not match its hash (altered)")
    try:
        data = load_stored(entry.content)
    except ValueError:
        return [*problems, f"{where}: content is not JSON"]
    if stored_canonical(data) != entry.content:
        problems.append(f"{where}: content is not in canonical form")
    if entry.prev_hash != prev:
        problems.append(f"{where}: previous hash does not match the chain")
    expected_chain = chain_hash(
        entry.prev_hash, entry.content_hash, scope(entry.site_id), entry.seq
    )
    if expected_chain != entry.chain_hash:
        problems.append(f"{where}: chain hash does not match")
    columns = normalise(
        {
            "kind": entry.kind.value,
            "site_id": entry.site_id,
            "subject_id": entry.subject_id,
            "key_id": entry.key_id,
            "starts_at": entry.starts_at,
            "ends_at": entry.ends_at,
            "on_date": entry.on_date,
            "ok": entry.ok,
            "author_id": entry.author_id,
            "organisation_id": entry.organisation_id,
            "occurred_on": entry.occurred_on,
            "occurred_at": entry.occurred_at,
        }
    )
    for name, value in columns.items():
        if data.get(name) != value:
            problems.append(f"{where}: column {name} differs from the signed content")
    own = stored_body_hash(data)
    for index, signature in enumerate(data.get("signatures") or []):
        if signature.get("content_hash") != own:
            problems.append(f"{where}: signature {index + 1} does not match the content")
    return problems


def verify_sites(site_ids: Iterable[int] | None = None) -> SiteChainReport:
    """Walk every site chain (or those of some sites)."""
    report = SiteChainReport()
    query = select(RegisterEntry.site_id).distinct().order_by(RegisterEntry.site_id)
    ids = list(site_ids) if site_ids is not None else list(db.session.scalars(query))
    for site_id in ids:
        report.sites += 1
        prev = GENESIS
        entries = db.session.scalars(
            select(RegisterEntry)
            .where(RegisterEntry.site_id == site_id)
            .order_by(RegisterEntry.seq)
        )
        for expected, entry in enumerate(entries, start=1):
            report.entries += 1
            problems = _check(entry, prev, expected)
            if problems and report.first_broken is None:
                report.first_broken = entry
            report.problems += problems
            prev = entry.chain_hash
    return report
