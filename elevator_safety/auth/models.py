"""Organisations, users and roles, with the permission predicates about them."""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from elevator_safety.db import UTCDateTime, now_utc
from elevator_safety.extensions import Model

if TYPE_CHECKING:
    from elevator_safety.registry.models import Site


class OrgKind(enum.StrEnum):
    """Kinds of organisation on the platform."""

    property_company = "property_company"  # 物业服务企业
    contractor = "contractor"  # 维保单位
    regulator = "regulator"  # 监管部门


class Role(enum.StrEnum):
    """The six roles of domain.md."""

    admin = "admin"
    safety_director = "safety_director"
    safety_officer = "safety_officer"
    contractor_manager = "contractor_manager"
    technician = "technician"
    regulator = "regulator"


ORG_KIND_LABELS = {
    OrgKind.property_company: _l("Property company"),
    OrgKind.contractor: _l("Maintenance contractor"),
    OrgKind.regulator: _l("Regulator"),
}

ROLE_LABELS = {
    Role.admin: _l("Administrator"),
    Role.safety_director: _l("Safety director"),
    Role.safety_officer: _l("Safety officer"),
    Role.contractor_manager: _l("Contractor manager"),
    Role.technician: _l("Technician"),
    Role.regulator: _l("Regulatory officer"),
}

#: Which roles an organisation of each kind may hold.
ROLES_BY_KIND: dict[OrgKind, tuple[Role, ...]] = {
    OrgKind.property_company: (Role.admin, Role.safety_director, Role.safety_officer),
    OrgKind.contractor: (Role.contractor_manager, Role.technician),
    OrgKind.regulator: (Role.regulator,),
}

#: Roles that manage the users of their own organisation.
USER_MANAGER_ROLES = (Role.admin, Role.contractor_manager)


class Organisation(Model):
    """A property company, a maintenance contractor or a regulator."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(
        Enum(OrgKind, native_enum=False, length=32, validate_strings=True)
    )
    #: Contractor's maintenance qualification certificate number (资质证书编号).
    qualification_no: Mapped[str | None] = mapped_column(String(64))
    qualification_expires: Mapped[date | None] = mapped_column(Date)
    #: Regulator's district (administrative division code, e.g. 510104).
    district_code: Mapped[str | None] = mapped_column(String(12), index=True)
    district_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)

    users: Mapped[list[User]] = relationship(back_populates="organisation")
    sites: Mapped[list[Site]] = relationship(back_populates="organisation")

    @property
    def kind_label(self) -> str:
        """Return the kind in the user's language."""
        return str(ORG_KIND_LABELS[self.kind])


class User(UserMixin, Model):
    """A person who logs in; belongs to exactly one organisation and holds one role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Interface language chosen by the user (None: the installation default).
    locale: Mapped[str | None] = mapped_column(String(16))
    #: Operator certificate number (作业人员证书编号) for technicians and officers.
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    #: Bumped on deactivation and password change; sessions carrying an older value end.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(back_populates="users")

    def set_password(self, password: str) -> None:
        """Hash and store a new password (scrypt)."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """Return whether the password matches."""
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """Return the session identity: the id and the session version."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Deactivated users cannot log in."""
        return self.active

    @property
    def role_label(self) -> str:
        """Return the role in the user's language."""
        return str(ROLE_LABELS[self.role])

    @property
    def login(self) -> str:
        """Return the identifier the user logs in with."""
        return self.email or self.phone or ""

    @property
    def org_kind(self) -> OrgKind:
        """Return the kind of the user's organisation."""
        return self.organisation.kind


class Invitation(Model):
    """A one-time link with which an invited user sets their password."""

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @staticmethod
    def hash_token(token: str) -> str:
        """Return the stored form of a token."""
        return hashlib.sha256(token.encode()).hexdigest()


# --- permission predicates -------------------------------------------------


def can_manage_users(user: User) -> bool:
    """Admins (property companies) and contractor managers manage their own users."""
    return user.role in USER_MANAGER_ROLES


def can_manage_user(user: User, other: User) -> bool:
    """A user manager may manage the other users of their own organisation."""
    return can_manage_users(user) and other.organisation_id == user.organisation_id


def can_view_audit(user: User) -> bool:
    """User managers see their organisation's audit log."""
    return can_manage_users(user)
