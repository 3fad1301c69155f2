"""The site register chain: linked, signed, append-only, and tampering is caught."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.records.canonical import GENESIS, chain_hash, sha256_hex
from elevator_safety.records.models import Meaning
from elevator_safety.records.services import DuplicateSubmission, SignatureSpec
from elevator_safety.registers import chain
from elevator_safety.registers.models import RegisterEntry, RegisterKind
from tests.records.test_core import ON_POSTGRES, drop_triggers


def entry(world, n: int = 0, **kwargs):  # type: ignore[no-untyped-def]
    site, officer = world.own.site, world.own.officer
    start = now_utc().replace(microsecond=0) + timedelta(hours=8 * n)
    return chain.append_entry(
        site,
        RegisterKind.roster_shift,
        {"person": f"person {n}", "phone": None, "place": None},
        officer,
        occurred_at=now_utc(),
        signatures=[SignatureSpec(officer, Meaning.recorded)],
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        **kwargs,
    )


def count() -> int:
    return db.session.scalar(select(func.count(RegisterEntry.id))) or 0


def test_entries_form_a_linked_chain_per_site(world):
    first, second = entry(world, 0), entry(world, 1)
    other = chain.signed(
        world.foreign.site, RegisterKind.video_check, {"note": None}, world.foreign.officer
    )
    db.session.commit()
    assert (first.seq, second.seq, other.seq) == (1, 2, 1)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.chain_hash
    assert second.content_hash == sha256_hex(second.content)
    assert first.chain_hash == chain_hash(GENESIS, first.content_hash, f"site-{first.site_id}", 1)
    (signature,) = second.data["signatures"]
    assert signature["printed_name"] == world.own.officer.name
    assert signature["meaning"] == "recorded"
    report = chain.verify_sites()
    assert report.ok, report.problems
    assert (report.sites, report.entries) == (2, 3)


def test_a_resubmitted_form_finds_its_entry(world):
    made = entry(world, idempotency_key="shift-form-1")
    db.session.commit()
    with pytest.raises(DuplicateSubmission) as caught:
        entry(world, 1, idempotency_key="shift-form-1")
    assert caught.value.record.id == made.id
    db.session.rollback()
    assert count() == 1


def test_signatures_must_sign_their_own_entry(world):
    with pytest.raises(ValueError, match="at least one signature"):
        chain.append_entry(
            world.own.site,
            RegisterKind.drill,
            {},
            world.own.officer,
            occurred_at=now_utc(),
            signatures=[],
        )


@pytest.mark.parametrize(
    "statement",
    [update(RegisterEntry).values(ok=True), delete(RegisterEntry)],
    ids=["update", "delete"],
)
def test_the_database_refuses_changes(world, statement):
    entry(world)
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(statement)
    db.session.rollback()
    assert count() == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="TRUNCATE exists on PostgreSQL only")
def test_truncate_is_refused_on_postgres(world):
    entry(world)
    db.session.commit()
    with db.engine.connect() as conn, pytest.raises(DatabaseError):
        conn.execute(text("TRUNCATE register_entries CASCADE"))
    assert count() == 1


def forge(sql: str, **params) -> None:  # type: ignore[no-untyped-def]
    drop_triggers("register_entries")
    db.session.execute(text(sql), params)
    db.session.commit()
    db.session.expire_all()


def test_verify_catches_altered_content(world):
    entries = [entry(world, n) for n in range(3)]
    db.session.commit()
    target = entries[1]
    forge(
        "UPDATE register_entries SET content = :c WHERE id = :id",
        c=target.content.replace("person 1", "someone else"),
        id=target.id,
    )
    report = chain.verify_sites()
    assert not report.ok
    assert any(f"entry #2 (id {target.id})" in p and "altered" in p for p in report.problems)


def test_verify_catches_a_rehashed_entry(world):
    entries = [entry(world, n) for n in range(3)]
    db.session.commit()
    target = entries[1]
    forged = target.content.replace("person 1", "someone else")
    forge(
        "UPDATE register_entries SET content = :c, content_hash = :h WHERE id = :id",
        c=forged,
        h=sha256_hex(forged),
        id=target.id,
    )
    problems = chain.verify_sites().problems
    assert any("chain hash does not match" in p for p in problems)
    assert any("signature 1 does not match" in p for p in problems)


def test_verify_names_an_entry_not_in_canonical_form(world):
    spaced, floated = entry(world, 0), entry(world, 1)
    db.session.commit()
    # The same data with spaces after the separators; a float the rules forbid.
    contents = {
        spaced.id: json.dumps(json.loads(spaced.content), sort_keys=True, ensure_ascii=False),
        floated.id: json.dumps(
            json.loads(floated.content) | {"extra": 1.5}, sort_keys=True, separators=(",", ":")
        ),
    }
    drop_triggers("register_entries")
    for entry_id, content in contents.items():
        db.session.execute(
            text("UPDATE register_entries SET content = :c, content_hash = :h WHERE id = :id"),
            {"c": content, "h": sha256_hex(content), "id": entry_id},
        )
    db.session.commit()
    problems = chain.verify_sites().problems
    for entry_id in contents:
        assert any(f"(id {entry_id}): content is not in canonical form" in p for p in problems)


def test_verify_catches_a_changed_typed_column(world):
    target = entry(world)
    db.session.commit()
    forge(
        "UPDATE register_entries SET ends_at = :t WHERE id = :id",
        t=target.ends_at + timedelta(hours=4),
        id=target.id,
    )
    problems = chain.verify_sites().problems
    assert any("column ends_at differs" in p for p in problems)


def test_verify_catches_a_deleted_entry(world):
    entries = [entry(world, n) for n in range(3)]
    db.session.commit()
    forge("DELETE FROM register_entries WHERE id = :id", id=entries[1].id)
    problems = chain.verify_sites().problems
    assert any("an entry is missing" in p for p in problems)
    assert any("previous hash does not match" in p for p in problems)


def test_the_verify_command_checks_site_chains_too(world, runner):
    entries = [entry(world, n) for n in range(2)]
    db.session.commit()
    result = runner.invoke(args=["records", "verify"])
    assert result.exit_code == 0, result.output
    assert "1 site chains, 2 entries" in result.output
    forge(
        "UPDATE register_entries SET content = :c WHERE id = :id",
        c=entries[0].content.replace("person 0", "nobody"),
        id=entries[0].id,
    )
    result = runner.invoke(args=["records", "verify"])
    assert result.exit_code == 1
    assert f"site {entries[0].site_id} entry #1" in result.output
