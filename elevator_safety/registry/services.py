"""Registry operations and the rules they enforce.

The web forms and the CSV import both call ``check_elevator`` so that a rule
lives in one place. Services add and flush; the caller commits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

from flask_babel import gettext as _
from sqlalchemy import func, select

from elevator_safety import audit
from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.registry.models import (
    Contract,
    Elevator,
    ElevatorKind,
    ElevatorStatus,
    InspectionResult,
    MaintenanceLevel,
    Site,
)

#: Elevator attributes a form or an import may set.
ELEVATOR_FIELDS = (
    "site_id",
    "equipment_code",
    "registration_no",
    "rescue_code",
    "kind",
    "manufacturer",
    "model",
    "factory_no",
    "rated_load_kg",
    "rated_speed_ms",
    "floors",
    "stops",
    "building",
    "unit",
    "car_no",
    "acceptance_date",
    "last_inspection_date",
    "last_inspection_result",
    "next_inspection_due",
    "use_sign_valid_until",
    "safety_officer_id",
    "status",
    "notes",
)
SITE_FIELDS = ("name", "address", "district_code", "district_name", "is_city", "timezone")


@dataclass
class Problems:
    """Errors found in one set of values, by field."""

    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        """Record a problem with a field."""
        self.errors.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)


def normalise_code(code: str | None) -> str | None:
    """Return an equipment or rescue code without spaces, upper-cased."""
    if code is None:
        return None
    code = "".join(code.split()).upper()
    return code or None


def eligible_officers(org_id: int) -> list[User]:
    """Return the active safety officers of a property company."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.organisation_id == org_id,
                User.role == Role.safety_officer,
                User.active.is_(True),
            )
            .order_by(User.name)
        )
    )


def check_elevator(
    values: dict[str, Any], org: Organisation, *, existing_id: int | None = None
) -> Problems:
    """Check the cross-field and database rules of an elevator's values."""
    problems = Problems()
    code = values.get("equipment_code")
    if not code:
        problems.add("equipment_code", _("This field is required."))
    else:
        query = select(Elevator.id).where(Elevator.equipment_code == code)
        if existing_id is not None:
            query = query.where(Elevator.id != existing_id)
        if db.session.scalar(query) is not None:
            problems.add("equipment_code", _("Another elevator already has this equipment code."))
    site = db.session.get(Site, values["site_id"]) if values.get("site_id") else None
    if site is None or site.organisation_id != org.id:
        problems.add("site_id", _("Choose one of your company's sites."))
    officer = (
        db.session.get(User, values["safety_officer_id"])
        if values.get("safety_officer_id")
        else None
    )
    if (
        officer is None
        or officer.organisation_id != org.id
        or officer.role != Role.safety_officer
        or not officer.active
    ):
        problems.add("safety_officer_id", _("Choose an active safety officer of your company."))
    if values.get("kind") not in set(ElevatorKind):
        problems.add("kind", _("Choose a kind."))
    for name in ("rated_load_kg", "rated_speed_ms", "floors", "stops"):
        number = values.get(name)
        if number is not None and number <= 0:
            problems.add(name, _("Must be greater than zero."))
    floors, stops = values.get("floors"), values.get("stops")
    if floors and stops and stops > floors:
        problems.add("stops", _("Stops cannot exceed floors."))
    acceptance = values.get("acceptance_date")
    last = values.get("last_inspection_date")
    due = values.get("next_inspection_due")
    if acceptance and last and last < acceptance:
        problems.add("last_inspection_date", _("Cannot be before the acceptance date."))
    if last and due and due <= last:
        problems.add("next_inspection_due", _("Must be after the last inspection."))
    if acceptance and due and due <= acceptance:
        problems.add("next_inspection_due", _("Must be after the acceptance date."))
    if last and not values.get("last_inspection_result"):
        problems.add("last_inspection_result", _("Give the result of the last inspection."))
    if values.get("last_inspection_result") and not last:
        problems.add("last_inspection_date", _("Give the date of the last inspection."))
    return problems


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: values.get(k) for k in ELEVATOR_FIELDS if k in values}
    for key in ("equipment_code", "rescue_code"):
        if key in cleaned:
            cleaned[key] = normalise_code(cleaned[key])
    for key, value in list(cleaned.items()):
        if isinstance(value, str):
            cleaned[key] = value.strip() or None
    if cleaned.get("rated_speed_ms") is not None:
        cleaned["rated_speed_ms"] = Decimal(str(cleaned["rated_speed_ms"])).quantize(
            Decimal("0.01")
        )
    enums: tuple[tuple[str, type[enum.StrEnum]], ...] = (
        ("kind", ElevatorKind),
        ("status", ElevatorStatus),
        ("last_inspection_result", InspectionResult),
    )
    for key, enum_cls in enums:
        value = cleaned.get(key)
        if value:
            try:
                cleaned[key] = enum_cls(str(value))
            except ValueError:
                # An unknown kind is kept so that check_elevator reports it.
                cleaned[key] = None if key != "kind" else value
    return cleaned


def prepare_elevator(
    values: dict[str, Any], org: Organisation, *, existing_id: int | None = None
) -> tuple[dict[str, Any], Problems]:
    """Normalise values and check them; return (clean values, problems)."""
    cleaned = _clean(values)
    cleaned.setdefault("status", ElevatorStatus.in_service)
    if cleaned.get("status") is None:
        cleaned["status"] = ElevatorStatus.in_service
    return cleaned, check_elevator(cleaned, org, existing_id=existing_id)


def create_elevator(org: Organisation, values: dict[str, Any]) -> Elevator:
    """Create an elevator on one of a property company's sites (audited for that company)."""
    cleaned, problems = prepare_elevator(values, org)
    if problems:
        raise RegistryValidationError(problems)
    elevator = Elevator(**cleaned)
    db.session.add(elevator)
    db.session.flush()
    audit.record(
        "create",
        elevator,
        organisation_id=org.id,
        label=elevator.equipment_code,
        changes=audit.snapshot(elevator),
    )
    return elevator


def update_elevator(org: Organisation, elevator: Elevator, values: dict[str, Any]) -> None:
    """Update an elevator's registry data, auditing the changed fields."""
    cleaned, problems = prepare_elevator(values, org, existing_id=elevator.id)
    if problems:
        raise RegistryValidationError(problems)
    for key, value in cleaned.items():
        setattr(elevator, key, value)
    changes = audit.changed_fields(elevator)
    changes.pop("updated_at", None)
    if changes:
        audit.record(
            "update",
            elevator,
            organisation_id=org.id,
            label=elevator.equipment_code,
            changes=changes,
        )
    db.session.flush()


class RegistryValidationError(DomainError):
    """Several fields are wrong; ``problems.errors`` maps field names to messages."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(_("Please correct the fields marked below."))
        self.problems = problems


# --- sites ------------------------------------------------------------------


def check_site(values: dict[str, Any]) -> Problems:
    """Check a site's values."""
    problems = Problems()
    for name in ("name", "address", "district_code", "district_name"):
        if not (values.get(name) or "").strip():
            problems.add(name, _("This field is required."))
    code = (values.get("district_code") or "").strip()
    if code and (not code.isdigit() or len(code) != 6):
        problems.add("district_code", _("A district code has 6 digits, e.g. 510104."))
    zone = (values.get("timezone") or "").strip()
    if zone and zone not in available_timezones():
        problems.add("timezone", _("Unknown time zone; use e.g. Asia/Shanghai."))
    return problems


def create_site(actor: User, values: dict[str, Any]) -> Site:
    """Create a site of the actor's property company."""
    problems = check_site(values)
    if problems:
        raise RegistryValidationError(problems)
    site = Site(
        organisation_id=actor.organisation_id,
        **{
            k: (v.strip() if isinstance(v, str) else v)
            for k, v in values.items()
            if k in SITE_FIELDS
        },
    )
    db.session.add(site)
    db.session.flush()
    audit.record("create", site, label=site.name, changes=audit.snapshot(site))
    return site


def update_site(actor: User, site: Site, values: dict[str, Any]) -> None:
    """Update a site, auditing the changed fields."""
    problems = check_site(values)
    if problems:
        raise RegistryValidationError(problems)
    for key in SITE_FIELDS:
        if key in values:
            value = values[key]
            setattr(site, key, value.strip() if isinstance(value, str) else value)
    changes = audit.changed_fields(site)
    if changes:
        audit.record("update", site, label=site.name, changes=changes)
    db.session.flush()


def find_site(org_id: int, name: str) -> Site | None:
    """Find a company's site by its name."""
    return db.session.scalar(
        select(Site).where(Site.organisation_id == org_id, func.trim(Site.name) == name.strip())
    )


# --- contracts --------------------------------------------------------------


def overlapping_contract(
    elevator_id: int, start: date, end: date, exclude_id: int | None = None
) -> Contract | None:
    """Return a contract of the elevator whose dates overlap [start, end], if any."""
    query = select(Contract).where(
        Contract.elevator_id == elevator_id,
        Contract.start_date <= end,
        Contract.end_date >= start,
    )
    if exclude_id is not None:
        query = query.where(Contract.id != exclude_id)
    return db.session.scalar(query.order_by(Contract.start_date).limit(1))


def parse_level_plan(levels: list[str] | str) -> str:
    """Return a level plan as stored (known levels, in order, comma-separated)."""
    if isinstance(levels, str):
        levels = [part.strip() for part in levels.split(",")]
    wanted = set(levels)
    unknown = wanted - {level.value for level in MaintenanceLevel}
    if unknown:
        raise DomainError(_("Unknown maintenance level."), field="level_plan")
    if not wanted:
        raise DomainError(_("Choose at least one maintenance level."), field="level_plan")
    return ",".join(level.value for level in MaintenanceLevel if level.value in wanted)


def check_contract(
    elevator: Elevator,
    contractor: Organisation | None,
    start: date | None,
    end: date | None,
    level_plan: list[str] | str,
    exclude_id: int | None = None,
) -> Problems:
    """Check a contract: a contractor, dates in order, a plan, no overlap."""
    problems = Problems()
    if contractor is None or contractor.kind != OrgKind.contractor:
        problems.add("contractor_id", _("Choose a maintenance contractor."))
    if start is None:
        problems.add("start_date", _("This field is required."))
    if end is None:
        problems.add("end_date", _("This field is required."))
    if start and end and end < start:
        problems.add("end_date", _("The end date cannot be before the start date."))
    try:
        parse_level_plan(level_plan)
    except DomainError as error:
        problems.add("level_plan", error.message)
    if start and end and end >= start:
        other = overlapping_contract(elevator.id, start, end, exclude_id)
        if other is not None:
            problems.add(
                "start_date",
                _(
                    "This elevator already has a contract with %(org)s from %(start)s to "
                    "%(end)s; an elevator has at most one contract at a time.",
                    org=other.contractor.name,
                    start=other.start_date.isoformat(),
                    end=other.end_date.isoformat(),
                ),
            )
    return problems


def create_contract(
    actor: User,
    elevator: Elevator,
    *,
    contractor: Organisation | None,
    start_date: date | None,
    end_date: date | None,
    level_plan: list[str] | str,
    contract_no: str | None = None,
) -> Contract:
    """Create a maintenance contract, refusing overlaps."""
    problems = check_contract(elevator, contractor, start_date, end_date, level_plan)
    if problems or contractor is None or start_date is None or end_date is None:
        raise RegistryValidationError(problems)
    contract = Contract(
        elevator=elevator,
        contractor=contractor,
        start_date=start_date,
        end_date=end_date,
        level_plan=parse_level_plan(level_plan),
        contract_no=(contract_no or "").strip() or None,
    )
    db.session.add(contract)
    db.session.flush()
    audit.record(
        "create",
        contract,
        label=f"{elevator.equipment_code} / {contractor.name}",
        changes=audit.snapshot(
            contract, ["elevator_id", "contractor_id", "start_date", "end_date", "level_plan"]
        ),
    )
    return contract


def update_contract(
    actor: User,
    contract: Contract,
    *,
    contractor: Organisation | None,
    start_date: date | None,
    end_date: date | None,
    level_plan: list[str] | str,
    contract_no: str | None = None,
) -> None:
    """Change a contract's dates, contractor or plan, refusing overlaps."""
    problems = check_contract(
        contract.elevator, contractor, start_date, end_date, level_plan, exclude_id=contract.id
    )
    if problems:
        raise RegistryValidationError(problems)
    contract.contractor = contractor  # type: ignore[assignment]
    contract.start_date = start_date  # type: ignore[assignment]
    contract.end_date = end_date  # type: ignore[assignment]
    contract.level_plan = parse_level_plan(level_plan)
    contract.contract_no = (contract_no or "").strip() or None
    changes = audit.changed_fields(contract)
    if changes:
        audit.record(
            "update",
            contract,
            label=f"{contract.elevator.equipment_code} / {contract.contractor.name}",
            changes=changes,
        )
    db.session.flush()


def contractors() -> list[Organisation]:
    """Return every maintenance contractor on the platform."""
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrgKind.contractor)
            .order_by(Organisation.name)
        )
    )
