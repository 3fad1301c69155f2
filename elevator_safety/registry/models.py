"""Sites, elevators and maintenance contracts, with the permission predicates about them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.db import UTCDateTime, now_utc
from elevator_safety.extensions import Model

if TYPE_CHECKING:
    pass


class ElevatorKind(enum.StrEnum):
    """Kinds of lift equipment the registry distinguishes."""

    traction = "traction"  # 曳引驱动乘客电梯
    freight = "freight"  # 载货电梯
    hydraulic = "hydraulic"  # 液压电梯
    escalator = "escalator"  # 自动扶梯
    moving_walk = "moving_walk"  # 自动人行道


class ElevatorStatus(enum.StrEnum):
    """Whether an elevator may carry passengers."""

    in_service = "in_service"  # 在用
    out_of_service = "out_of_service"  # 停用
    decommissioned = "decommissioned"  # 报废/注销


class InspectionResult(enum.StrEnum):
    """Result of the last periodic inspection (定期检验)."""

    passed = "passed"  # 合格
    passed_after_rectification = "passed_after_rectification"  # 复检合格
    failed = "failed"  # 不合格


class MaintenanceLevel(enum.StrEnum):
    """TSG T5002-2017 maintenance levels (cumulative)."""

    half_monthly = "half_monthly"
    quarterly = "quarterly"
    semi_annual = "semi_annual"
    annual = "annual"


KIND_LABELS = {
    ElevatorKind.traction: _l("Traction passenger elevator"),
    ElevatorKind.freight: _l("Freight elevator"),
    ElevatorKind.hydraulic: _l("Hydraulic elevator"),
    ElevatorKind.escalator: _l("Escalator"),
    ElevatorKind.moving_walk: _l("Moving walk"),
}
STATUS_LABELS = {
    ElevatorStatus.in_service: _l("In service"),
    ElevatorStatus.out_of_service: _l("Out of service"),
    ElevatorStatus.decommissioned: _l("Decommissioned"),
}
RESULT_LABELS = {
    InspectionResult.passed: _l("Passed"),
    InspectionResult.passed_after_rectification: _l("Passed after rectification"),
    InspectionResult.failed: _l("Failed"),
}
LEVEL_LABELS = {
    MaintenanceLevel.half_monthly: _l("Half-monthly"),
    MaintenanceLevel.quarterly: _l("Quarterly"),
    MaintenanceLevel.semi_annual: _l("Semi-annual"),
    MaintenanceLevel.annual: _l("Annual"),
}
#: The standard plan: every level.
FULL_LEVEL_PLAN = ",".join(level.value for level in MaintenanceLevel)


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, validate_strings=True)


class Site(Model):
    """A residential compound or project (小区/项目) managed by one property company."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    #: Administrative division code of the district (区县代码), e.g. 510104.
    district_code: Mapped[str] = mapped_column(String(12), index=True)
    district_name: Mapped[str] = mapped_column(String(100))
    #: True in cities (municipalities, prefecture-level): 30-minute rescue limit; else 60.
    is_city: Mapped[bool] = mapped_column(Boolean, default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    organisation: Mapped[Organisation] = relationship(back_populates="sites")
    elevators: Mapped[list[Elevator]] = relationship(back_populates="site")


class Elevator(Model):
    """One elevator, escalator or moving walk and its registration data."""

    __tablename__ = "elevators"
    __table_args__ = (
        CheckConstraint("rated_load_kg IS NULL OR rated_load_kg > 0", name="rated_load_positive"),
        CheckConstraint(
            "rated_speed_ms IS NULL OR rated_speed_ms > 0", name="rated_speed_positive"
        ),
        CheckConstraint("floors IS NULL OR floors > 0", name="floors_positive"),
        CheckConstraint("stops IS NULL OR stops > 0", name="stops_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    #: 设备代码: the national equipment code, unique.
    equipment_code: Mapped[str] = mapped_column(String(32), unique=True)
    #: 使用登记证编号.
    registration_no: Mapped[str | None] = mapped_column(String(64))
    #: 救援识别码, shown in the car and used with the 96333 hotline.
    rescue_code: Mapped[str | None] = mapped_column(String(32), index=True)
    kind: Mapped[ElevatorKind] = mapped_column(_enum(ElevatorKind))
    manufacturer: Mapped[str | None] = mapped_column(String(200))
    model: Mapped[str | None] = mapped_column(String(100))
    factory_no: Mapped[str | None] = mapped_column(String(64))
    rated_load_kg: Mapped[int | None] = mapped_column(Integer)
    rated_speed_ms: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    floors: Mapped[int | None] = mapped_column(Integer)
    stops: Mapped[int | None] = mapped_column(Integer)
    building: Mapped[str | None] = mapped_column(String(50))
    unit: Mapped[str | None] = mapped_column(String(50))
    car_no: Mapped[str | None] = mapped_column(String(50))
    #: 验收日期: acceptance date, start of the inspection cycle.
    acceptance_date: Mapped[date | None] = mapped_column(Date)
    last_inspection_date: Mapped[date | None] = mapped_column(Date)
    last_inspection_result: Mapped[InspectionResult | None] = mapped_column(_enum(InspectionResult))
    next_inspection_due: Mapped[date | None] = mapped_column(Date)
    #: 使用标志 valid-until date.
    use_sign_valid_until: Mapped[date | None] = mapped_column(Date)
    #: The one named safety officer responsible for this elevator.
    safety_officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[ElevatorStatus] = mapped_column(
        _enum(ElevatorStatus), default=ElevatorStatus.in_service
    )
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc, onupdate=now_utc)

    site: Mapped[Site] = relationship(back_populates="elevators")
    safety_officer: Mapped[User] = relationship()
    contracts: Mapped[list[Contract]] = relationship(
        back_populates="elevator", order_by="Contract.start_date.desc()"
    )

    @property
    def kind_label(self) -> str:
        """Return the kind in the user's language."""
        return str(KIND_LABELS[self.kind])

    @property
    def status_label(self) -> str:
        """Return the status in the user's language."""
        return str(STATUS_LABELS[self.status])

    @property
    def location(self) -> str:
        """Return building / unit / car as one short string."""
        return " ".join(p for p in (self.building, self.unit, self.car_no) if p)

    def active_contract(self, on: date) -> Contract | None:
        """Return the contract in force on a date, if any."""
        for contract in self.contracts:
            if contract.is_active(on):
                return contract
        return None


class Contract(Model):
    """A maintenance contract: one elevator, one contractor, a date range, a level plan."""

    __tablename__ = "contracts"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="dates_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    elevator_id: Mapped[int] = mapped_column(ForeignKey("elevators.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    contract_no: Mapped[str | None] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    #: Last day the contract is in force (inclusive).
    end_date: Mapped[date] = mapped_column(Date)
    #: Comma-separated maintenance levels the contract covers (see MaintenanceLevel).
    level_plan: Mapped[str] = mapped_column(String(100), default=FULL_LEVEL_PLAN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    elevator: Mapped[Elevator] = relationship(back_populates="contracts")
    contractor: Mapped[Organisation] = relationship()

    def is_active(self, on: date) -> bool:
        """Return whether the contract is in force on a date (both ends inclusive)."""
        return self.start_date <= on <= self.end_date

    @property
    def levels(self) -> list[MaintenanceLevel]:
        """Return the levels of the plan."""
        return [MaintenanceLevel(v) for v in self.level_plan.split(",") if v]


# --- permission predicates -------------------------------------------------


def is_property_user(user: User) -> bool:
    """Return whether the user works for a property company."""
    return user.organisation.kind == OrgKind.property_company


def can_edit_registry(user: User) -> bool:
    """Property-company admins maintain sites, elevators and contracts."""
    return user.role == Role.admin and is_property_user(user)


def can_edit_site(user: User, site: Site) -> bool:
    """Admins edit their own company's sites."""
    return can_edit_registry(user) and site.organisation_id == user.organisation_id


def can_edit_elevator(user: User, elevator: Elevator) -> bool:
    """Admins edit elevators on their own company's sites."""
    return can_edit_site(user, elevator.site)


def can_edit_contract(user: User, contract: Contract) -> bool:
    """Admins edit contracts of their own company's elevators."""
    return can_edit_elevator(user, contract.elevator)


def can_import_elevators(user: User) -> bool:
    """Admins import elevators into their own company's sites."""
    return can_edit_registry(user)
