"""The benchmark generator writes valid, verifiable history the engine can evaluate."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from elevator_safety.auth.models import Organisation, User
from elevator_safety.bench.cli import bench_cli
from elevator_safety.bench.generate import PASSWORD, generate
from elevator_safety.compliance import engine
from elevator_safety.compliance.models import Alert
from elevator_safety.extensions import db
from elevator_safety.maintenance.services import CONFIRMED, state_of
from elevator_safety.records import services
from elevator_safety.records.models import Record, RecordKind, Signature
from elevator_safety.registers.chain import verify_sites
from elevator_safety.registry.models import Elevator

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_tiny_city_verifies_and_evaluates(app):
    with app.app_context():
        summary = generate(5, 20, seed=3, now=NOW)
        db.session.commit()
        assert summary.elevators == 5
        assert db.session.scalar(select(func.count(Elevator.id))) == 5
        # registered before the first day of history, so the rules look back over all of it
        first_patrol = db.session.scalar(
            select(func.min(Record.occurred_at)).where(Record.kind == RecordKind.patrol)
        )
        registered = db.session.scalars(select(Elevator.created_at)).all()
        assert all(moment < first_patrol for moment in registered)
        rows = db.session.execute(select(Record.kind, func.count(Record.id)).group_by(Record.kind))
        kinds = {kind: count for kind, count in rows}
        assert kinds[RecordKind.patrol] >= 5 * 18
        assert kinds[RecordKind.maintenance] >= 5
        assert kinds[RecordKind.confirmation] >= 1
        assert summary.records == sum(kinds.values())
        assert summary.signatures == db.session.scalar(select(func.count(Signature.id)))
        report = services.verify()
        assert report.ok, report.problems[:5]
        assert report.records == summary.records
        assert report.signatures == summary.signatures
        sites = verify_sites()
        assert sites.ok, sites.problems[:5]
        assert sites.entries == summary.register_entries > 0
        confirmed = db.session.scalars(
            select(Record).where(Record.kind == RecordKind.maintenance)
        ).all()
        assert any(state_of(record) == CONFIRMED for record in confirmed)
        result = engine.evaluate(NOW)
        db.session.commit()
        assert result.rules == len(engine.RULES)
        assert db.session.scalar(select(func.count(Alert.id))) == result.still_open
        kept = {"D6.roster", "D6.alarm_test", "D7.video_check", "D11.site_drill"}
        kept |= {"D11.contractor_drill", "D11.certificate"}
        raised = set(db.session.scalars(select(Alert.rule).distinct()))
        assert not raised & kept, "the generated registers are kept: no site-level alert"
        officer = db.session.scalar(select(User).where(User.role == "safety_officer"))
        assert officer is not None
        assert officer.check_password(PASSWORD)


def test_history_is_appendable_by_the_normal_path(app, world):
    """Ids allocated in bulk leave the sequences right: append still works afterwards."""
    with app.app_context():
        generate(2, 3, seed=4, now=NOW)
        db.session.commit()
        elevator = db.session.scalar(select(Elevator).order_by(Elevator.id.desc()))
        officer = db.session.get(User, elevator.safety_officer_id)
        before = services.chain_head(elevator.id)
        from elevator_safety.records.models import Meaning

        record = services.append(
            elevator,
            RecordKind.patrol,
            {"note": "after the bulk load"},
            officer,
            occurred_at=NOW,
            signatures=[services.SignatureSpec(officer, Meaning.submitted)],
        )
        db.session.commit()
        assert record.seq == before.seq + 1
        assert record.prev_hash == before.chain_hash
        assert services.verify([elevator.id]).ok


def test_generate_refuses_bad_sizes(app):
    import pytest

    with app.app_context(), pytest.raises(ValueError, match="at least 1"):
        generate(0, 3)


def test_cli_refuses_a_database_with_organisations_unless_forced(app, world):
    runner = app.test_cli_runner()
    refused = runner.invoke(bench_cli, ["generate", "--elevators", "2", "--days", "2"])
    assert refused.exit_code != 0
    assert "--force" in refused.output
    with app.app_context():
        before = db.session.scalar(select(func.count(Organisation.id)))
    forced = runner.invoke(bench_cli, ["generate", "--elevators", "2", "--days", "2", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "2 elevators" in forced.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Organisation.id))) == before + 2
        assert services.verify().ok


def test_cli_on_an_empty_database(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        bench_cli, ["generate", "--elevators", "3", "--days", "2", "--seed", "9"]
    )
    assert result.exit_code == 0, result.output
    assert "3 elevators" in result.output
