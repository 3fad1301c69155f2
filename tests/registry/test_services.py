"""Registry services: the rules an elevator and a contract must satisfy, and their audit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_login import login_user
from sqlalchemy import func, select

from elevator_safety.audit import AuditEntry
from elevator_safety.auth.models import OrgKind
from elevator_safety.extensions import db
from elevator_safety.registry import services
from elevator_safety.registry.models import Contract, Elevator, ElevatorStatus, InspectionResult
from elevator_safety.registry.services import RegistryValidationError
from tests.factories import make_org

NEW_CODE = "31105101049900000001"


@pytest.fixture
def admin(app, world):
    """Act as the own side's admin inside a request, as the views do."""
    with app.test_request_context("/"):
        login_user(world.own.admin)
        yield world.own.admin


def values(world, **changes):
    """Return valid values for a new elevator of the own side."""
    base = {
        "site_id": world.own.site.id,
        "equipment_code": NEW_CODE,
        "rescue_code": "51010 4321",
        "kind": "traction",
        "status": "in_service",
        "safety_officer_id": world.own.officer.id,
        "rated_load_kg": 1000,
        "rated_speed_ms": Decimal("1.75"),
        "floors": 18,
        "stops": 18,
        "acceptance_date": date(2016, 5, 1),
        "last_inspection_date": date(2025, 5, 10),
        "last_inspection_result": "passed",
        "next_inspection_due": date(2026, 5, 31),
    }
    return base | changes


def refused(actor, vals):
    """Try to create an elevator; return the problems by field."""
    with pytest.raises(RegistryValidationError) as caught:
        services.create_elevator(actor.organisation, vals)
    return caught.value.problems.errors


def elevator_count() -> int:
    return db.session.scalar(select(func.count(Elevator.id)))


# --- elevators ---------------------------------------------------------------


def test_valid_elevator_is_created_with_normalised_codes(admin, world):
    elevator = services.create_elevator(
        admin.organisation, values(world, equipment_code=" 3110 5101 0499 0000 0001 ")
    )
    db.session.commit()
    assert elevator.equipment_code == NEW_CODE
    assert elevator.rescue_code == "510104321"
    assert elevator.status == ElevatorStatus.in_service
    assert elevator.last_inspection_result == InspectionResult.passed
    assert elevator.site_id == world.own.site.id


def test_equipment_code_must_be_unique(admin, world):
    existing = world.own.elevators[0].equipment_code
    problems = refused(admin, values(world, equipment_code=existing))
    assert list(problems) == ["equipment_code"]


def test_equipment_code_unique_after_normalising_spaces_and_case(admin, world):
    services.create_elevator(
        admin.organisation, values(world, equipment_code="31105101ab9900000001")
    )
    db.session.commit()
    before = elevator_count()
    problems = refused(admin, values(world, equipment_code=" 31105101 AB99 0000 0001"))
    assert "equipment_code" in problems
    problems = refused(admin, values(world, equipment_code="31105101aB99000 00001"))
    assert "equipment_code" in problems
    assert elevator_count() == before


def test_editing_keeps_its_own_code(admin, world):
    elevator = world.own.elevators[0]
    services.update_elevator(
        admin.organisation,
        elevator,
        values(world, equipment_code=elevator.equipment_code.lower(), floors=20, stops=20),
    )
    db.session.commit()
    assert elevator.floors == 20


def test_last_inspection_cannot_precede_acceptance(admin, world):
    problems = refused(
        admin,
        values(world, acceptance_date=date(2020, 1, 1), last_inspection_date=date(2019, 12, 31)),
    )
    assert "last_inspection_date" in problems


def test_next_due_must_follow_last_inspection(admin, world):
    problems = refused(
        admin,
        values(world, last_inspection_date=date(2025, 5, 10), next_inspection_due=date(2025, 5, 1)),
    )
    assert "next_inspection_due" in problems
    problems = refused(
        admin,
        values(
            world, last_inspection_date=date(2025, 5, 10), next_inspection_due=date(2025, 5, 10)
        ),
    )
    assert "next_inspection_due" in problems


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rated_load_kg", 0),
        ("rated_load_kg", -100),
        ("rated_speed_ms", Decimal("0")),
        ("rated_speed_ms", Decimal("-1.5")),
        ("floors", 0),
        ("stops", -2),
    ],
)
def test_ratings_and_counts_must_be_positive(admin, world, name, value):
    problems = refused(admin, values(world, **{name: value}))
    assert name in problems


def test_stops_cannot_exceed_floors(admin, world):
    problems = refused(admin, values(world, floors=10, stops=11))
    assert list(problems) == ["stops"]


def test_officer_of_another_company_refused(admin, world):
    problems = refused(admin, values(world, safety_officer_id=world.foreign.officer.id))
    assert list(problems) == ["safety_officer_id"]


def test_officer_must_be_a_safety_officer(admin, world):
    problems = refused(admin, values(world, safety_officer_id=world.own.director.id))
    assert "safety_officer_id" in problems


def test_site_of_another_company_refused(admin, world):
    problems = refused(admin, values(world, site_id=world.foreign.site.id))
    assert list(problems) == ["site_id"]
    assert elevator_count() == 4


def test_inspection_result_without_date_refused(admin, world):
    problems = refused(
        admin, values(world, last_inspection_date=None, last_inspection_result="passed")
    )
    assert "last_inspection_date" in problems


def test_inspection_date_without_result_refused(admin, world):
    problems = refused(admin, values(world, last_inspection_result=None))
    assert "last_inspection_result" in problems


def test_create_is_audited_with_the_values(admin, world):
    elevator = services.create_elevator(admin.organisation, values(world))
    db.session.commit()
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "Elevator", AuditEntry.object_id == elevator.id
        )
    )
    assert entry.action == "create"
    assert entry.user_id == admin.id
    assert entry.organisation_id == world.own.org.id
    assert entry.object_label == NEW_CODE
    assert entry.changes_dict["equipment_code"] == [None, NEW_CODE]
    assert entry.changes_dict["rated_speed_ms"] == [None, "1.75"]


def test_update_is_audited_with_the_changed_fields_only(admin, world):
    elevator = world.own.elevators[0]
    current = {name: getattr(elevator, name) for name in services.ELEVATOR_FIELDS}
    services.update_elevator(
        admin.organisation,
        elevator,
        current | {"floors": 20, "stops": 20, "status": "out_of_service"},
    )
    db.session.commit()
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "Elevator",
            AuditEntry.object_id == elevator.id,
            AuditEntry.action == "update",
        )
    )
    assert entry.user_id == admin.id
    assert entry.changes_dict == {
        "floors": [18, 20],
        "stops": [18, 20],
        "status": ["in_service", "out_of_service"],
    }


def test_update_without_change_writes_no_audit(admin, world):
    elevator = world.own.elevators[0]
    current = {name: getattr(elevator, name) for name in services.ELEVATOR_FIELDS}
    services.update_elevator(admin.organisation, elevator, current)
    db.session.commit()
    updates = db.session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.object_type == "Elevator", AuditEntry.action == "update"
        )
    )
    assert updates == 0


# --- sites -------------------------------------------------------------------


def test_site_needs_a_six_digit_district_code(admin):
    with pytest.raises(RegistryValidationError) as caught:
        services.create_site(
            admin,
            {"name": "Lotus", "address": "1 Road", "district_code": "5101", "district_name": "X"},
        )
    assert list(caught.value.problems.errors) == ["district_code"]


def test_site_created_for_the_actors_company_and_audited(admin, world):
    site = services.create_site(
        admin,
        {
            "name": " Lotus Garden ",
            "address": "1 Lotus Road",
            "district_code": "510104",
            "district_name": "Jinjiang",
            "is_city": False,
            "timezone": "Asia/Shanghai",
        },
    )
    db.session.commit()
    assert site.organisation_id == world.own.org.id
    assert site.name == "Lotus Garden"
    assert site.is_city is False
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.object_type == "Site", AuditEntry.object_id == site.id)
    )
    assert entry.action == "create"


# --- contracts ----------------------------------------------------------------


def contract_args(contractor, start, end, levels=("half_monthly", "quarterly")):
    return {
        "contractor": contractor,
        "start_date": start,
        "end_date": end,
        "level_plan": list(levels),
    }


def contract_count() -> int:
    return db.session.scalar(select(func.count(Contract.id)))


def test_overlapping_contract_refused_naming_the_other(admin, world):
    elevator = world.own.elevators[0]
    existing = elevator.contracts[0]
    other = make_org(OrgKind.contractor, name="Rival Lifts Ltd")
    db.session.commit()
    before = contract_count()
    with pytest.raises(RegistryValidationError) as caught:
        services.create_contract(
            admin,
            elevator,
            **contract_args(other, existing.end_date, existing.end_date + timedelta(days=365)),
        )
    problems = caught.value.problems.errors
    assert list(problems) == ["start_date"]
    message = problems["start_date"][0]
    assert world.own.contractor.name in message
    assert existing.start_date.isoformat() in message
    assert existing.end_date.isoformat() in message
    assert contract_count() == before


def test_contract_inside_another_refused(admin, world):
    elevator = world.own.elevators[0]
    existing = elevator.contracts[0]
    with pytest.raises(RegistryValidationError):
        services.create_contract(
            admin,
            elevator,
            **contract_args(
                world.foreign.contractor,
                existing.start_date + timedelta(days=10),
                existing.start_date + timedelta(days=20),
            ),
        )


def test_adjacent_contracts_accepted(admin, world):
    elevator = world.own.elevators[0]
    existing = elevator.contracts[0]
    after = services.create_contract(
        admin,
        elevator,
        **contract_args(
            world.foreign.contractor,
            existing.end_date + timedelta(days=1),
            existing.end_date + timedelta(days=366),
        ),
    )
    before = services.create_contract(
        admin,
        elevator,
        **contract_args(
            world.foreign.contractor,
            existing.start_date - timedelta(days=365),
            existing.start_date - timedelta(days=1),
        ),
        contract_no=" HT-2024-01 ",
    )
    db.session.commit()
    assert after.start_date == existing.end_date + timedelta(days=1)
    assert after.level_plan == "half_monthly,quarterly"
    assert before.contract_no == "HT-2024-01"
    assert len(elevator.contracts) == 3


def test_contract_end_before_start_refused(admin, world):
    elevator = world.own.elevators[0]
    with pytest.raises(RegistryValidationError) as caught:
        services.create_contract(
            admin,
            elevator,
            **contract_args(world.own.contractor, date(2031, 1, 10), date(2031, 1, 9)),
        )
    assert list(caught.value.problems.errors) == ["end_date"]


def test_one_day_contract_accepted(admin, world):
    elevator = world.own.elevators[0]
    contract = services.create_contract(
        admin, elevator, **contract_args(world.own.contractor, date(2031, 1, 10), date(2031, 1, 10))
    )
    assert contract.is_active(date(2031, 1, 10))


def test_contract_needs_a_contractor_and_a_level(admin, world):
    elevator = world.own.elevators[0]
    with pytest.raises(RegistryValidationError) as caught:
        services.create_contract(
            admin,
            elevator,
            **contract_args(world.own.org, date(2031, 1, 1), date(2031, 12, 31), levels=()),
        )
    assert set(caught.value.problems.errors) == {"contractor_id", "level_plan"}


def test_editing_a_contract_does_not_collide_with_itself(admin, world):
    contract = world.own.elevators[0].contracts[0]
    new_end = contract.end_date + timedelta(days=30)
    services.update_contract(
        admin,
        contract,
        **contract_args(contract.contractor, contract.start_date, new_end, levels=("annual",)),
    )
    db.session.commit()
    assert contract.end_date == new_end
    assert contract.levels == ["annual"]
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "Contract",
            AuditEntry.object_id == contract.id,
            AuditEntry.action == "update",
        )
    )
    assert entry.user_id == admin.id
    assert entry.changes_dict["end_date"] == [
        (new_end - timedelta(days=30)).isoformat(),
        new_end.isoformat(),
    ]
    assert entry.changes_dict["level_plan"][1] == "annual"


def test_editing_a_contract_into_another_refused(admin, world):
    elevator = world.own.elevators[0]
    existing = elevator.contracts[0]
    later = services.create_contract(
        admin,
        elevator,
        **contract_args(
            world.foreign.contractor,
            existing.end_date + timedelta(days=1),
            existing.end_date + timedelta(days=100),
        ),
    )
    db.session.commit()
    with pytest.raises(RegistryValidationError) as caught:
        services.update_contract(
            admin,
            later,
            **contract_args(later.contractor, existing.end_date, later.end_date),
        )
    assert world.own.contractor.name in caught.value.problems.errors["start_date"][0]


def test_contract_create_is_audited(admin, world):
    elevator = world.own.elevators[0]
    contract = services.create_contract(
        admin, elevator, **contract_args(world.own.contractor, date(2031, 1, 1), date(2031, 12, 31))
    )
    db.session.commit()
    entry = db.session.scalar(
        select(AuditEntry).where(
            AuditEntry.object_type == "Contract", AuditEntry.object_id == contract.id
        )
    )
    assert entry.action == "create"
    assert entry.changes_dict["start_date"] == [None, "2031-01-01"]
    assert entry.changes_dict["contractor_id"] == [None, world.own.contractor.id]
