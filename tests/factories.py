"""Factories for test data; each returns a flushed ORM object."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from werkzeug.security import generate_password_hash

from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.extensions import db
from elevator_safety.registry.models import (
    Contract,
    Elevator,
    ElevatorKind,
    ElevatorStatus,
    Site,
)

PASSWORD = "correct-horse-9"
_seq = itertools.count(1)


@cache
def password_hash() -> str:
    """Hash the shared test password once (scrypt is slow on purpose)."""
    return generate_password_hash(PASSWORD, method="scrypt")


def make_org(kind: OrgKind = OrgKind.property_company, **kw) -> Organisation:
    n = next(_seq)
    defaults = {"name": f"{kind.value}-{n}", "kind": kind}
    if kind == OrgKind.contractor:
        defaults |= {"qualification_no": f"TS34-{n:05d}", "qualification_expires": date(2030, 1, 1)}
    if kind == OrgKind.regulator:
        defaults |= {"district_code": "510104", "district_name": "锦江区"}
    org = Organisation(**(defaults | kw))
    db.session.add(org)
    db.session.flush()
    return org


def make_user(org: Organisation, role: Role, **kw) -> User:
    n = next(_seq)
    user = User(
        organisation=org,
        name=kw.pop("name", f"{role.value} {n}"),
        email=kw.pop("email", f"{role.value}{n}@example.com"),
        role=role,
        active=kw.pop("active", True),
        session_version=1,
        password_hash=password_hash(),
        **kw,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_site(org: Organisation, **kw) -> Site:
    n = next(_seq)
    defaults = {
        "name": f"Site {n}",
        "address": f"{n} Test Road",
        "district_code": "510104",
        "district_name": "锦江区",
        "is_city": True,
        "timezone": "Asia/Shanghai",
    }
    site = Site(organisation=org, **(defaults | kw))
    db.session.add(site)
    db.session.flush()
    return site


def make_elevator(site: Site, officer: User, **kw) -> Elevator:
    n = next(_seq)
    defaults = {
        "equipment_code": f"3110510104{n:010d}",
        "registration_no": f"梯11川A{n:05d}",
        "rescue_code": f"5101{n:05d}",
        "kind": ElevatorKind.traction,
        "manufacturer": "Test Lifts",
        "rated_load_kg": 1000,
        "floors": 18,
        "stops": 18,
        "building": f"{n}栋",
        "acceptance_date": date(2015, 6, 1),
        "status": ElevatorStatus.in_service,
    }
    elevator = Elevator(site=site, safety_officer=officer, **(defaults | kw))
    db.session.add(elevator)
    db.session.flush()
    return elevator


def make_contract(elevator: Elevator, contractor: Organisation, **kw) -> Contract:
    defaults = {
        "start_date": date.today() - timedelta(days=100),
        "end_date": date.today() + timedelta(days=265),
    }
    contract = Contract(elevator=elevator, contractor=contractor, **(defaults | kw))
    db.session.add(contract)
    db.session.flush()
    return contract


@dataclass
class Side:
    """One property company with its people, a site and two elevators."""

    org: Organisation
    admin: User
    director: User
    officer: User
    site: Site
    elevators: list[Elevator]
    contractor: Organisation
    manager: User
    technician: User
    regulator_org: Organisation
    regulator: User


@dataclass
class World:
    """Two independent sides: 'own' and 'foreign', in different districts."""

    own: Side
    foreign: Side
    users: dict[str, User] = field(default_factory=dict)


def make_side(district: str) -> Side:
    org = make_org(OrgKind.property_company)
    admin = make_user(org, Role.admin)
    director = make_user(org, Role.safety_director)
    officer = make_user(org, Role.safety_officer, certificate_no="T-0001")
    site = make_site(org, district_code=district, district_name=f"District {district}")
    elevators = [make_elevator(site, officer), make_elevator(site, officer)]
    contractor = make_org(OrgKind.contractor)
    manager = make_user(contractor, Role.contractor_manager)
    technician = make_user(contractor, Role.technician, certificate_no="T-1234")
    for elevator in elevators:
        make_contract(elevator, contractor)
    regulator_org = make_org(OrgKind.regulator, district_code=district)
    regulator = make_user(regulator_org, Role.regulator)
    return Side(
        org,
        admin,
        director,
        officer,
        site,
        elevators,
        contractor,
        manager,
        technician,
        regulator_org,
        regulator,
    )


ROLE_ATTR = {
    "admin": "admin",
    "safety_director": "director",
    "safety_officer": "officer",
    "contractor_manager": "manager",
    "technician": "technician",
    "regulator": "regulator",
}


def make_world() -> World:
    """Build two sides in two districts and commit."""
    world = World(own=make_side("510104"), foreign=make_side("510105"))
    db.session.commit()
    return world


def make_record(elevator: Elevator, author: User, body: dict | None = None, **kw):  # type: ignore[no-untyped-def]
    """Append a signed patrol-like record to an elevator's chain."""
    from elevator_safety.db import now_utc
    from elevator_safety.records import services
    from elevator_safety.records.models import Meaning, RecordKind

    return services.append(
        elevator,
        kw.pop("kind", RecordKind.patrol),
        body if body is not None else {"items": {"use_sign": {"result": "pass", "note": None}}},
        author,
        occurred_at=kw.pop("occurred_at", None) or now_utc(),
        signatures=[services.SignatureSpec(author, Meaning.submitted)],
        **kw,
    )


def png_bytes(size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    """Return a small PNG image."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def make_photo(elevator: Elevator, user: User):  # type: ignore[no-untyped-def]
    """Store a small photo for an elevator."""
    import io

    from werkzeug.datastructures import FileStorage

    from elevator_safety.records.photos import save_photo

    upload = FileStorage(io.BytesIO(png_bytes(color="blue")), filename="x.png")
    return save_photo(upload, user, elevator)
