"""The integrity core: append-only records, signatures, hash chains, corrections."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError

from elevator_safety.audit import AuditEntry
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.records import services
from elevator_safety.records.canonical import GENESIS, canonical_json, sha256_hex
from elevator_safety.records.models import Meaning, Record, RecordKind, Signature
from tests.conftest import ON_POSTGRES
from tests.factories import PASSWORD, make_record

BODY = {"items": {"use_sign": {"result": "pass", "note": None}}, "readings": {"temp": "23.5"}}


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def drop_triggers(table: str) -> None:
    """What someone with SQL access would do first to tamper with evidence."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        db.session.execute(text(f"DROP TRIGGER {table}_no_update"))
        db.session.execute(text(f"DROP TRIGGER {table}_no_delete"))
    db.session.commit()


# --- the chain ----------------------------------------------------------------


def test_records_form_a_linked_chain_per_elevator(world):
    own = world.own
    first = make_record(own.elevators[0], own.officer, BODY)
    second = make_record(own.elevators[0], own.officer, BODY)
    other = make_record(own.elevators[1], own.officer, BODY)
    db.session.commit()
    assert (first.seq, second.seq, other.seq) == (1, 2, 1)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.chain_hash
    assert other.prev_hash == GENESIS
    assert first.content_hash == sha256_hex(first.content)
    assert canonical_json(json.loads(first.content)) == first.content
    assert services.chain_head(own.elevators[0].id).id == second.id
    report = services.verify()
    assert report.ok, report.problems
    assert (report.elevators, report.records, report.signatures) == (2, 3, 3)


def test_canonical_content_has_no_floats_and_utc_times(world):
    record = make_record(world.own.elevators[0], world.own.officer, BODY)
    data = json.loads(record.content)
    assert data["body"]["readings"]["temp"] == "23.5"
    assert data["occurred_at"].endswith("Z")
    assert data["signatures"][0]["meaning"] == "submitted"
    with pytest.raises(TypeError):
        make_record(world.own.elevators[0], world.own.officer, {"temp": 23.5})


def test_signature_row_matches_the_signed_content(world):
    record = make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    signature = db.session.scalar(select(Signature).where(Signature.record_id == record.id))
    assert signature.subject_id == record.id
    assert signature.meaning == Meaning.submitted
    assert signature.printed_name == world.own.officer.name
    assert signature.organisation_name == world.own.org.name
    assert signature.content_hash == services.body_hash(record.data)


def test_site_day_is_the_shanghai_calendar_day(world):
    from datetime import UTC, date, datetime

    late_utc = datetime(2026, 11, 28, 16, 30, tzinfo=UTC)  # 00:30 on the 29th in Shanghai
    record = make_record(world.own.elevators[0], world.own.officer, BODY, occurred_at=late_utc)
    assert record.occurred_on == date(2026, 11, 29)


# --- immutability -------------------------------------------------------------


def test_orm_update_of_a_record_is_refused(world):
    record = make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    original = record.content
    record.content = original.replace("pass", "fail")
    with pytest.raises(DatabaseError):
        db.session.commit()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Record, record.id).content == original


def test_bulk_update_and_delete_are_refused(world):
    make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    for statement in (
        update(Record).values(level="annual"),
        delete(Record),
        update(Signature).values(meaning=Meaning.confirmed),
        delete(Signature),
        update(AuditEntry).values(action="nothing"),
        delete(AuditEntry),
    ):
        with pytest.raises(DatabaseError):
            db.session.execute(statement)
        db.session.rollback()
    assert count(Record) == 1
    assert count(Signature) == 1


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE records SET content = 'x'",
        "DELETE FROM records",
        "UPDATE signatures SET printed_name = 'someone else'",
        "DELETE FROM signatures",
        "DELETE FROM audit_entries",
    ],
)
def test_raw_sql_is_refused_by_the_database(world, sql):
    make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    with db.engine.connect() as conn, pytest.raises(DatabaseError):
        conn.execute(text(sql))
    assert count(Record) == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="TRUNCATE exists on PostgreSQL only")
def test_truncate_is_refused_on_postgres(world):
    make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    with db.engine.connect() as conn, pytest.raises(DatabaseError):
        conn.execute(text("TRUNCATE records CASCADE"))
    assert count(Record) == 1


# --- verification catches tampering ------------------------------------------


def test_verify_catches_an_altered_row_and_names_it(world, runner):
    elevator = world.own.elevators[0]
    make_record(elevator, world.own.officer, BODY)
    target = make_record(elevator, world.own.officer, BODY)
    make_record(elevator, world.own.officer, BODY)
    db.session.commit()
    result = runner.invoke(args=["records", "verify"])
    assert result.exit_code == 0, result.output
    assert "All chains and signatures verify" in result.output

    drop_triggers("records")
    forged = target.content.replace('"pass"', '"fail"')
    db.session.execute(
        text("UPDATE records SET content = :c WHERE id = :id"), {"c": forged, "id": target.id}
    )
    db.session.commit()
    result = runner.invoke(args=["records", "verify", "--elevator", elevator.equipment_code])
    assert result.exit_code == 1
    assert f"id {target.id}" in result.output
    assert "position 2" in result.output


def test_verify_catches_a_rehashed_row(world):
    """Recomputing the content hash is not enough: the chain links break."""
    elevator = world.own.elevators[0]
    target = make_record(elevator, world.own.officer, BODY)
    make_record(elevator, world.own.officer, BODY)
    db.session.commit()
    drop_triggers("records")
    forged = target.content.replace('"pass"', '"fail"')
    db.session.execute(
        text("UPDATE records SET content = :c, content_hash = :h WHERE id = :id"),
        {"c": forged, "h": sha256_hex(forged), "id": target.id},
    )
    db.session.commit()
    report = services.verify()
    assert not report.ok
    assert report.first_broken.id == target.id


def test_verify_catches_an_altered_typed_column(world):
    record = make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    drop_triggers("records")
    db.session.execute(
        text("UPDATE records SET occurred_on = '2020-01-01' WHERE id = :id"), {"id": record.id}
    )
    db.session.commit()
    report = services.verify()
    assert any("occurred_on" in p for p in report.problems)


def _replace_content(record: Record, content: str) -> None:
    """Store other content in a record's row, with its content hash recomputed."""
    drop_triggers("records")
    db.session.execute(
        text("UPDATE records SET content = :c, content_hash = :h WHERE id = :id"),
        {"c": content, "h": sha256_hex(content), "id": record.id},
    )
    db.session.commit()


def test_verify_names_content_that_is_not_in_canonical_form(world):
    record = make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    # The same data with spaces after the separators: JSON, and not the canonical text.
    _replace_content(record, json.dumps(json.loads(record.content), ensure_ascii=False))
    problems = services.verify().problems
    assert any(f"id {record.id}): content is not in canonical form" in p for p in problems)


@pytest.mark.parametrize("reading", [23.5, float("nan")])
def test_verify_reports_a_float_as_not_canonical_and_goes_on(world, reading):
    """The rules forbid floats (NaN among them): a stored one is a finding, not a crash."""
    elevator = world.own.elevators[0]
    record = make_record(elevator, world.own.officer, BODY)
    after = make_record(elevator, world.own.officer, BODY)
    db.session.commit()
    data = json.loads(record.content)
    data["body"]["readings"]["temp"] = reading
    _replace_content(
        record, json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    )
    report = services.verify([elevator.id])
    assert report.records == 2
    assert any(f"id {record.id}): content is not in canonical form" in p for p in report.problems)
    # Its signature covered a string reading, so it no longer matches; the next record is fine.
    assert not any(f"id {after.id})" in p for p in report.problems)


def test_verify_reports_content_that_is_not_json_and_goes_on(world):
    elevator = world.own.elevators[0]
    record = make_record(elevator, world.own.officer, BODY)
    after = make_record(elevator, world.own.officer, BODY)
    db.session.commit()
    _replace_content(record, "{not json")
    report = services.verify([elevator.id])
    assert report.records == 2
    assert report.first_broken.id == record.id
    assert any(f"id {record.id}): content is not JSON" in p for p in report.problems)
    assert not any(f"id {after.id})" in p for p in report.problems)


def test_verify_catches_a_moved_signature(world):
    elevator = world.own.elevators[0]
    first = make_record(elevator, world.own.officer, BODY)
    second = make_record(elevator, world.own.director, {"other": "content"})
    db.session.commit()
    drop_triggers("signatures")
    db.session.execute(
        text("UPDATE signatures SET subject_id = :s, record_id = :s WHERE record_id = :r"),
        {"s": second.id, "r": first.id},
    )
    db.session.commit()
    report = services.verify()
    assert not report.ok
    assert any("signature" in p for p in report.problems)


def test_verify_catches_a_deleted_record(world):
    elevator = world.own.elevators[0]
    make_record(elevator, world.own.officer, BODY)
    middle = make_record(elevator, world.own.officer, BODY)
    make_record(elevator, world.own.officer, BODY)
    db.session.commit()
    drop_triggers("signatures")
    drop_triggers("records")
    db.session.execute(text("DELETE FROM signatures WHERE record_id = :id"), {"id": middle.id})
    db.session.execute(text("DELETE FROM records WHERE id = :id"), {"id": middle.id})
    db.session.commit()
    report = services.verify()
    assert any("missing" in p for p in report.problems)


def test_whole_table_verify_names_a_signature_that_belongs_to_no_record(world):
    """Only the walk of every chain looks for signatures left without their record."""
    elevator = world.own.elevators[0]
    make_record(elevator, world.own.officer, BODY)
    last = make_record(elevator, world.own.officer, BODY)
    db.session.commit()
    last_id, elevator_id = last.id, elevator.id
    drop_triggers("records")
    if db.engine.dialect.name == "postgresql":
        # Foreign keys are triggers too; the replica role skips them.
        db.session.execute(text("SET session_replication_role = replica"))
    else:
        db.session.connection().exec_driver_sql("PRAGMA foreign_keys=OFF")
    db.session.execute(text("DELETE FROM records WHERE id = :id"), {"id": last_id})
    db.session.commit()
    orphan = db.session.scalar(select(Signature.id).where(Signature.record_id == last_id))
    assert orphan is not None
    assert f"signature {orphan} belongs to no record" in services.verify().problems
    # Verifying some chains walks those chains only: their records all verify.
    assert services.verify([elevator_id]).problems == []


# --- corrections ---------------------------------------------------------------


def test_correction_keeps_the_original_and_shows_the_new_value(world):
    record = make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    original = record.content
    correction = services.correct(
        record,
        world.own.officer,
        PASSWORD,
        {"readings.temp": "25.0"},
        "Misread the thermometer",
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Record, record.id).content == original
    assert correction.kind == RecordKind.correction
    assert correction.subject_id == record.id
    view = services.effective(record)
    assert view.body["readings"]["temp"] == "25.0"
    assert view.changes["readings.temp"][0]["old"] == "23.5"
    assert view.changes["readings.temp"][0]["reason"] == "Misread the thermometer"
    assert services.verify().ok


def test_correction_needs_reason_password_and_a_change(world):
    record = make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    before = count(Record)
    with pytest.raises(DomainError):
        services.correct(record, world.own.officer, "wrong", {"readings.temp": "1"}, "typo")
    with pytest.raises(DomainError):
        services.correct(record, world.own.officer, PASSWORD, {"readings.temp": "1"}, " ")
    with pytest.raises(DomainError):
        services.correct(record, world.own.officer, PASSWORD, {"readings.temp": "23.5"}, "same")
    with pytest.raises(DomainError):
        services.correct(record, world.own.officer, PASSWORD, {"nope": "1"}, "unknown field")
    db.session.rollback()
    assert count(Record) == before


def test_correction_page_marks_the_value_and_keeps_history(world, client, login_as):
    record = make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    login_as("safety_officer")
    response = client.post(
        f"/records/{record.id}/correct",
        data={
            "field": "readings.temp",
            "value": "24.0",
            "reason": "Second reading",
            "password": PASSWORD,
            "idempotency_key": "k-1",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/records/{record.id}").get_data(as_text=True)
    assert "24.0" in page
    assert "23.5" in page  # the original stays visible
    assert 'class="badge badge-warn"' in page
    assert "Second reading" in page


def test_correction_with_wrong_password_writes_nothing(world, client, login_as):
    record = make_record(world.own.elevators[0], world.own.officer, BODY)
    db.session.commit()
    before = count(Record)
    login_as("safety_officer")
    response = client.post(
        f"/records/{record.id}/correct",
        data={"field": "readings.temp", "value": "24.0", "reason": "x", "password": "bad"},
    )
    assert response.status_code == 422
    assert count(Record) == before


# --- idempotency and concurrency --------------------------------------------------


def test_same_form_token_creates_one_record(world):
    elevator = world.own.elevators[0]
    first = make_record(elevator, world.own.officer, BODY, idempotency_key="token-1")
    db.session.commit()
    with pytest.raises(services.DuplicateSubmission) as caught:
        make_record(elevator, world.own.officer, BODY, idempotency_key="token-1")
    assert caught.value.record.id == first.id
    db.session.rollback()
    assert count(Record) == 1


@pytest.mark.skipif(not ON_POSTGRES, reason="concurrent writers are tested on PostgreSQL")
def test_concurrent_appends_keep_one_linear_chain(app, world):
    elevator_id = world.own.elevators[0].id
    officer_id = world.own.officer.id
    per_thread = 10
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def writer() -> None:
        from elevator_safety.auth.models import User
        from elevator_safety.registry.models import Elevator

        with app.app_context():
            try:
                elevator = db.session.get(Elevator, elevator_id)
                officer = db.session.get(User, officer_id)
                barrier.wait()
                for _ in range(per_thread):
                    make_record(elevator, officer, BODY)
                    db.session.commit()
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    seqs = list(
        db.session.scalars(
            select(Record.seq).where(Record.elevator_id == elevator_id).order_by(Record.seq)
        )
    )
    assert seqs == list(range(1, 2 * per_thread + 1))
    report = services.verify([elevator_id])
    assert report.ok, report.problems
