"""Printed hashes against the database, and the whole PDF check."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from elevator_safety.extensions import db
from elevator_safety.records.canonical import sha256_hex
from elevator_safety.reports.signing import sign_pdf
from elevator_safety.reports.verifying import (
    HashKind,
    Verdict,
    check_content_hash,
    check_hashes,
    check_pdf,
    printed_hashes,
    verify_url,
)
from tests.factories import make_record
from tests.records.test_core import drop_triggers
from tests.verify.conftest import content_line, head_line, make_pdf
from tests.verify.test_signing import add_text_in_an_update

UNKNOWN = "0" * 64


def body(number: int) -> dict:
    """A patrol body of its own (records made in the same second must differ)."""
    return {"items": {"use_sign": {"result": "pass", "note": f"round {number}"}}}


def three_records(world):  # type: ignore[no-untyped-def]
    elevator = world.own.elevators[0]
    records = [make_record(elevator, world.own.officer, body(n)) for n in range(3)]
    db.session.commit()
    return records


def alter(record) -> None:  # type: ignore[no-untyped-def]
    """Change a record's row the way someone with SQL access would."""
    drop_triggers("records")
    forged = record.content.replace('"pass"', '"fail"')
    assert forged != record.content
    db.session.execute(
        text("UPDATE records SET content = :c WHERE id = :id"), {"c": forged, "id": record.id}
    )
    db.session.commit()
    db.session.expire_all()


def test_a_good_hash_names_its_record_and_verifies(world):
    _first, second, _third = three_records(world)
    check = check_content_hash(second.content_hash)
    assert (check.kind, check.verdict, check.ok) == (HashKind.content, Verdict.ok, True)
    assert check.record.id == second.id
    assert check.chain_length == 3
    assert check.message == "The record exists; its content, signatures and chain verify."


def test_an_unknown_hash_is_not_found(world):
    three_records(world)
    check = check_content_hash(UNKNOWN)
    assert (check.verdict, check.ok, check.record) == (Verdict.not_found, False, None)
    assert "No record has this content hash" in check.message


def test_an_altered_record_and_the_records_around_it(world):
    first, second, third = three_records(world)
    alter(second)
    printed = [record.content_hash for record in (first, second, third)]
    checks = {check.record.id: check for check in check_hashes(printed)}
    assert checks[second.id].verdict == Verdict.altered
    assert not checks[second.id].ok
    assert "altered after it was signed" in checks[second.id].message
    assert checks[third.id].verdict == Verdict.earlier_broken
    assert not checks[third.id].ok
    assert "(position 2)" in checks[third.id].message
    # The first record is still sound; the problem after it is reported, not hidden.
    assert checks[first.id].verdict == Verdict.later_broken
    assert checks[first.id].ok
    assert (
        "a later record of this elevator's chain (position 2) does not" in checks[first.id].message
    )


def test_a_rehashed_record_is_no_longer_found_by_its_printed_hash(world):
    _first, second, _third = three_records(world)
    printed = second.content_hash
    drop_triggers("records")
    forged = second.content.replace('"pass"', '"fail"')
    db.session.execute(
        text("UPDATE records SET content = :c, content_hash = :h WHERE id = :id"),
        {"c": forged, "h": sha256_hex(forged), "id": second.id},
    )
    db.session.commit()
    assert check_content_hash(printed).verdict == Verdict.not_found


def test_a_printed_chain_head_verifies_as_the_chain_grows(world):
    first, second, _third = three_records(world)
    check = check_hashes([], [second.chain_hash])[0]
    assert (check.kind, check.verdict) == (HashKind.chain_head, Verdict.ok)
    assert check.record.id == second.id
    assert "holds 3 records now" in check.message
    assert check_hashes([], [UNKNOWN])[0].verdict == Verdict.not_found
    alter(first)
    assert check_hashes([], [second.chain_hash])[0].verdict == Verdict.earlier_broken


def test_printed_lines_are_found_in_text_whatever_the_label_before_them(world):
    text_ = (
        f"内容哈希 Content hash: {'a' * 64}\n链位置 Chain position: 3\n"
        f"链头 Chain head: {'B' * 64}\nContent hash: {'c' * 63}\n"
        f"登记哈希 Register entry hash: {'d' * 64}\n登记链位置 Site chain position: 2\n"
    )
    printed = printed_hashes(text_)
    assert printed == (["a" * 64], ["B" * 64], ["d" * 64])
    assert (printed.contents, printed.heads, printed.entries) == printed


def test_a_signed_pdf_of_sound_records_verifies(world):
    first, second, third = three_records(world)
    data = sign_pdf(
        make_pdf(
            content_line(first.content_hash),
            "Chain position: 1",
            content_line(second.content_hash),
            head_line(third.chain_hash),
        )
    )
    result = check_pdf(data)
    assert result.signature_ok, result.signature_detail
    assert [(c.kind, c.record.id) for c in result.hashes] == [
        (HashKind.content, first.id),
        (HashKind.content, second.id),
        (HashKind.chain_head, third.id),
    ]
    assert result.ok
    assert result.failures == []


def test_a_pdf_printing_a_tampered_record_does_not_verify(world):
    first, second, _third = three_records(world)
    data = sign_pdf(make_pdf(content_line(first.content_hash), content_line(second.content_hash)))
    alter(second)
    result = check_pdf(data)
    assert result.signature_ok  # the file itself is intact...
    assert not result.ok  # ...but the database no longer agrees with it
    assert [c.record.id for c in result.failures] == [second.id]
    assert result.failures[0].verdict == Verdict.altered


def test_a_pdf_whose_printed_hash_was_changed_does_not_verify(world):
    first, _second, _third = three_records(world)
    data = sign_pdf(make_pdf(content_line(first.content_hash)))
    forged = add_text_in_an_update(data, content_line(UNKNOWN))
    result = check_pdf(forged)
    assert not result.signature_ok
    assert not result.ok
    assert {c.verdict for c in result.hashes} == {Verdict.ok, Verdict.not_found}


def test_an_unsigned_pdf_of_sound_records_does_not_verify(world):
    first, _second, _third = three_records(world)
    result = check_pdf(make_pdf(content_line(first.content_hash)))
    assert result.hashes[0].ok
    assert not result.signature_ok
    assert not result.ok


def test_garbage_is_reported_not_raised(app):
    result = check_pdf(b"this is not a PDF at all")
    assert (result.signature_ok, result.hashes, result.ok) == (False, [], False)
    assert result.signature_detail == "The file is not a readable PDF."


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://lifts.example.com/", "https://lifts.example.com/verify/" + "a" * 64),
        ("", "/verify/" + "a" * 64),
    ],
)
def test_verify_url(app, base, expected):
    app.config["PUBLIC_BASE_URL"] = base
    assert verify_url("a" * 64) == expected  # outside a request (commands, the scheduler)
    with app.test_request_context("/"):
        assert verify_url("a" * 64) == expected
