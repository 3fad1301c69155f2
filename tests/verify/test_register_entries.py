"""Site register entries printed on register sheets: their hash page, the PDF check, the CLI.

Register sheets print "登记哈希 Register entry hash: <hex>" for each site register
entry; those hashes are judged against the entry's SITE chain, with the same
verdicts as records.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.records.canonical import sha256_hex
from elevator_safety.records.models import Record
from elevator_safety.registers import chain, services
from elevator_safety.registers.models import KeyKind, RegisterEntry, RegisterKind, SiteKey
from elevator_safety.reports.signing import sign_pdf
from elevator_safety.reports.verifying import (
    HashKind,
    Verdict,
    check_hashes,
    check_pdf,
    check_printed_hash,
)
from tests.conftest import log_in
from tests.factories import PASSWORD, make_record
from tests.records.test_core import drop_triggers
from tests.verify.conftest import content_line, make_pdf
from tests.verify.test_checks import UNKNOWN, body
from tests.verify.test_pages import assert_no_inline_script, page, upload

HOLDER = "Zhang San"


def register_line(entry_hash: str) -> str:
    return f"Register entry hash: {entry_hash}"


def three_entries(world) -> list[RegisterEntry]:  # type: ignore[no-untyped-def]
    """A key issued, returned and issued again: three entries of the own site's chain."""
    site, officer = world.own.site, world.own.officer
    key = SiteKey(site_id=site.id, code="TK-1", kind=KeyKind.triangle_key, active=True)
    db.session.add(key)
    db.session.commit()
    start = now_utc().replace(microsecond=0) - timedelta(hours=3)

    def issue(hours: int) -> RegisterEntry:
        return services.issue_key(
            site,
            key,
            officer,
            PASSWORD,
            holder=HOLDER,
            certificate_no="TS-0042",
            purpose="Rescue drill",
            issued_at=start + timedelta(hours=hours),
        )

    first = issue(0)
    db.session.commit()
    second = services.return_key(
        site, key, officer, PASSWORD, returned_at=start + timedelta(hours=1), note=None
    )
    db.session.commit()
    third = issue(2)
    db.session.commit()
    entries = [first, second, third]
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.kind for e in entries] == [
        RegisterKind.key_issue,
        RegisterKind.key_return,
        RegisterKind.key_issue,
    ]
    return entries


def alter_entry(entry: RegisterEntry) -> None:
    """Change an entry's row the way someone with SQL access would."""
    drop_triggers("register_entries")
    forged = entry.content.replace(HOLDER, "Li Si")
    assert forged != entry.content
    db.session.execute(
        text("UPDATE register_entries SET content = :c WHERE id = :id"),
        {"c": forged, "id": entry.id},
    )
    db.session.commit()
    db.session.expire_all()


# --- the checks -----------------------------------------------------------------------


def test_a_sound_site_chain_has_no_first_broken_entry(world):
    three_entries(world)
    report = chain.verify_sites([world.own.site.id])
    assert report.ok
    assert report.first_broken is None


def test_a_good_entry_hash_names_its_entry_and_its_site(world):
    _first, second, _third = three_entries(world)
    check = check_printed_hash(second.content_hash)
    assert (check.kind, check.verdict, check.ok) == (HashKind.register_entry, Verdict.ok, True)
    assert check.entry.id == second.id
    assert check.record is None
    assert check.found is check.entry
    assert check.is_entry
    assert check.label == "Register entry hash"
    assert check.kind_label == "Key returned"
    assert (check.place_heading, check.place) == ("Site", world.own.site.name)
    assert check.occurred_on == second.occurred_on
    assert (check.seq, check.chain_length) == (2, 3)
    assert check.message == (
        "The register entry exists; its content, signatures and this site's register chain verify."
    )


def test_an_altered_entry_and_the_entries_around_it(world):
    first, second, third = three_entries(world)
    alter_entry(second)
    report = chain.verify_sites([world.own.site.id])
    assert report.first_broken is not None
    assert report.first_broken.id == second.id
    printed = [entry.content_hash for entry in (first, second, third)]
    checks = {check.entry.id: check for check in check_hashes([], [], printed)}
    assert checks[second.id].verdict == Verdict.altered
    assert not checks[second.id].ok
    assert "The register entry was altered after it was signed" in checks[second.id].message
    assert "this site's register chain" in checks[second.id].message
    assert checks[third.id].verdict == Verdict.earlier_broken
    assert not checks[third.id].ok
    assert "this site's register chain (position 2)" in checks[third.id].message
    assert checks[first.id].verdict == Verdict.later_broken
    assert checks[first.id].ok
    assert "(position 2) does not" in checks[first.id].message


def test_a_deleted_entry_breaks_the_entries_after_it(world):
    entries = three_entries(world)
    printed = [entry.content_hash for entry in entries]
    drop_triggers("register_entries")
    db.session.execute(text("DELETE FROM register_entries WHERE id = :id"), {"id": entries[1].id})
    db.session.commit()
    db.session.expire_all()
    checks = check_hashes([], [], printed)
    assert [c.verdict for c in checks] == [Verdict.later_broken, Verdict.not_found, Verdict.altered]
    assert "No register entry has this hash" in checks[1].message


def test_a_rehashed_entry_is_no_longer_found_by_its_printed_hash(world):
    _first, second, _third = three_entries(world)
    printed = second.content_hash
    drop_triggers("register_entries")
    forged = second.content.replace(HOLDER, "Li Si")
    db.session.execute(
        text("UPDATE register_entries SET content = :c, content_hash = :h WHERE id = :id"),
        {"c": forged, "h": sha256_hex(forged), "id": second.id},
    )
    db.session.commit()
    check = check_printed_hash(printed)
    assert check.verdict == Verdict.not_found
    assert check.found is None


def test_an_entry_hash_printed_as_a_content_hash_is_not_a_record(world):
    """The PDF's labels decide: a record line is looked up among records only."""
    first, _second, _third = three_entries(world)
    (check,) = check_hashes([first.content_hash])
    assert (check.kind, check.verdict, check.found) == (HashKind.content, Verdict.not_found, None)


# --- /verify/<hash> -------------------------------------------------------------------


def test_a_good_entry_hash_verifies_without_login(client, world):
    _first, second, _third = three_entries(world)
    response, html = page(client, f"/verify/{second.content_hash}")
    assert response.status_code == 200
    assert_no_inline_script(html)
    assert 'data-verdict="ok"' in html
    assert 'data-kind="register_entry"' in html
    assert "Verify a register entry" in html
    assert "Register entry hash" in html
    assert f'data-testid="site">{world.own.site.name}<' in html
    assert 'data-testid="kind">Key returned<' in html
    assert f'data-testid="date">{second.occurred_on.isoformat()}<' in html
    assert "Site chain position" in html
    assert "2 of 3" in html
    assert "this site&#39;s register chain verify" in html
    assert "No such record." not in html
    assert 'data-testid="record-link"' not in html


def test_an_entry_page_never_links_to_the_record_with_the_same_id(client, world):
    entries = three_entries(world)
    target = entries[-1]
    elevator = world.own.elevators[0]
    for number in range(20):
        if db.session.get(Record, target.id) is not None:
            break
        make_record(elevator, world.own.officer, body(number))
        db.session.commit()
    record = db.session.get(Record, target.id)
    assert record is not None
    assert record.elevator_id == elevator.id
    log_in(client, world.own.officer)
    # The officer may open that record: its own page links to it...
    _response, own = page(client, f"/verify/{record.content_hash}")
    assert f'href="/records/{record.id}"' in own
    # ...but the register entry with the same id is not that record.
    response, html = page(client, f"/verify/{target.content_hash}")
    assert response.status_code == 200
    assert 'data-kind="register_entry"' in html
    assert 'data-testid="record-link"' not in html
    assert f'href="/records/{target.id}"' not in html


def test_an_altered_entry_is_shown_as_not_verifying(client, world):
    _first, second, third = three_entries(world)
    alter_entry(second)
    response, html = page(client, f"/verify/{second.content_hash}")
    assert response.status_code == 200
    assert 'data-verdict="altered"' in html
    assert "Does not verify" in html
    assert "The register entry was altered after it was signed" in html
    response, later = page(client, f"/verify/{third.content_hash}")
    assert response.status_code == 200
    assert 'data-verdict="earlier_broken"' in later
    assert "Does not verify" in later


def test_an_unknown_hash_is_still_no_such_record(client, world):
    three_entries(world)
    response, html = page(client, f"/verify/{UNKNOWN}")
    assert response.status_code == 404
    assert "No such record." in html
    assert 'data-verdict="not_found"' in html
    assert 'data-kind="content"' in html


# --- PDF files ------------------------------------------------------------------------


def entry_sheet(world, entries: list[RegisterEntry]) -> bytes:  # type: ignore[no-untyped-def]
    """An unsigned sheet printing a record's line, then each entry's lines."""
    record = make_record(world.own.elevators[0], world.own.officer, body(1))
    db.session.commit()
    lines = [content_line(record.content_hash), "Chain position: 1"]
    for entry in entries:
        lines += [register_line(entry.content_hash), f"Site chain position: {entry.seq}"]
    return make_pdf(*lines)


def test_check_pdf_reports_the_printed_register_entries(world):
    entries = three_entries(world)
    result = check_pdf(sign_pdf(entry_sheet(world, entries)))
    assert result.signature_ok, result.signature_detail
    kinds = [(check.kind, check.found is not None) for check in result.hashes]
    assert kinds == [(HashKind.content, True)] + [(HashKind.register_entry, True)] * 3
    assert [check.entry.id for check in result.hashes[1:]] == [e.id for e in entries]
    assert [check.place for check in result.hashes[1:]] == [world.own.site.name] * 3
    assert result.ok
    assert result.failures == []


def test_a_pdf_printing_an_altered_entry_does_not_verify(world):
    entries = three_entries(world)
    data = sign_pdf(entry_sheet(world, entries))
    alter_entry(entries[1])
    result = check_pdf(data)
    assert result.signature_ok  # the file itself is intact...
    assert not result.ok  # ...but the database no longer agrees with it
    assert [(c.entry.id, c.verdict) for c in result.failures] == [
        (entries[1].id, Verdict.altered),
        (entries[2].id, Verdict.earlier_broken),
    ]
    assert result.hashes[0].ok  # the record line is judged in its own chain


def test_an_uploaded_pdf_lists_register_entries_with_their_site(client, world):
    entries = three_entries(world)
    data = sign_pdf(entry_sheet(world, entries[:1]))
    response, html = upload(client, data, "keys.pdf")
    assert response.status_code == 200
    assert_no_inline_script(html)
    assert 'data-testid="overall" data-ok="yes"' in html
    assert f'data-hash="{entries[0].content_hash}" data-kind="register_entry"' in html
    assert f'data-testid="place">{world.own.site.name}<' in html
    assert "Key issued" in html
    alter_entry(entries[0])
    _response, html = upload(client, data, "keys.pdf")
    assert 'data-testid="signature" data-ok="yes"' in html
    assert 'data-testid="overall" data-ok="no"' in html
    assert f'data-verdict="altered" data-hash="{entries[0].content_hash}"' in html


# --- flask reports verify -------------------------------------------------------------


def test_the_verify_command_prints_register_entries_with_their_site(runner, world, tmp_path):
    entries = three_entries(world)
    path = tmp_path / "keys.pdf"
    path.write_bytes(sign_pdf(entry_sheet(world, entries)))
    result = runner.invoke(args=["reports", "verify", str(path)])
    assert result.exit_code == 0, result.output
    site = world.own.site.name
    first, second, _third = entries
    assert (
        f"OK  Register entry hash {first.content_hash} = Key issued, {site}, "
        f"{first.occurred_on.isoformat()}, #1"
    ) in result.output
    assert f"OK  Register entry hash {second.content_hash} = Key returned, {site}" in result.output
    assert "this site's register chain verify" in result.output
    assert "verifies: signature and 4 printed hashes" in result.output
    assert "FAILED" not in result.output

    alter_entry(second)
    result = runner.invoke(args=["reports", "verify", str(path)])
    assert result.exit_code == 1
    assert f"OK  Register entry hash {first.content_hash}" in result.output
    assert f"FAILED  Register entry hash {second.content_hash} = Key returned, {site}" in (
        result.output
    )
    assert "The register entry was altered after it was signed" in result.output
    assert "does NOT verify" in result.output
