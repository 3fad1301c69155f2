"""Account operations: authenticate, change password, invite, deactivate, change role.

Services add and flush; the caller (request, command) commits.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from elevator_safety import audit
from elevator_safety.auth.models import (
    ROLES_BY_KIND,
    Invitation,
    Organisation,
    OrgKind,
    Role,
    User,
)
from elevator_safety.db import now_utc
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db

MIN_PASSWORD_LENGTH = 8


def normalise_login(login: str) -> str:
    """Return the login as stored: trimmed, e-mail lower-cased."""
    login = login.strip()
    return login.lower() if "@" in login else login.replace(" ", "").replace("-", "")


def find_user_by_login(login: str) -> User | None:
    """Find a user by e-mail or phone."""
    login = normalise_login(login)
    if not login:
        return None
    return db.session.scalar(
        select(User).where(or_(func.lower(User.email) == login, User.phone == login))
    )


def authenticate(login: str, password: str) -> User | None:
    """Return the active user with these credentials and audit the attempt."""
    user = find_user_by_login(login)
    if user is None or not user.active or not user.check_password(password):
        audit.record(
            "login_failed",
            user,
            user_id=user.id if user else None,
            organisation_id=user.organisation_id if user else None,
            label=normalise_login(login)[:200],
        )
        return None
    user.last_login_at = now_utc()
    audit.record(
        "login", user, user_id=user.id, organisation_id=user.organisation_id, label=user.login
    )
    return user


def validate_password(password: str) -> None:
    """Refuse passwords that are too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field="new_password",
        )


def change_password(user: User, current: str, new: str) -> None:
    """Change a password after checking the current one; end every other session."""
    if not user.check_password(current):
        raise DomainError(_("The current password is wrong."), field="current_password")
    validate_password(new)
    user.set_password(new)
    user.session_version += 1
    audit.record("password_change", user, label=user.login)
    db.session.flush()


def check_role_for_org(role: Role, org: Organisation) -> None:
    """Refuse a role that the organisation's kind cannot hold."""
    if role not in ROLES_BY_KIND[OrgKind(org.kind)]:
        raise DomainError(_("This organisation cannot hold that role."), field="role")


def _check_unique(email: str | None, phone: str | None, exclude_id: int | None = None) -> None:
    for field, value, column in (("email", email, User.email), ("phone", phone, User.phone)):
        if not value:
            continue
        query = select(User.id).where(func.lower(column) == value.lower())
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        if db.session.scalar(query) is not None:
            raise DomainError(_("Another user already uses this."), field=field)


def create_user(
    org: Organisation,
    *,
    name: str,
    role: Role,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = None,
    certificate_no: str | None = None,
) -> User:
    """Create a user of an organisation (with a password, or none until invited)."""
    email = normalise_login(email) if email else None
    phone = normalise_login(phone) if phone else None
    if not email and not phone:
        raise DomainError(_("Give an e-mail address or a phone number."), field="email")
    check_role_for_org(role, org)
    _check_unique(email, phone)
    user = User(
        organisation=org,
        name=name.strip(),
        role=role,
        email=email,
        phone=phone,
        certificate_no=(certificate_no or "").strip() or None,
        active=True,
        session_version=1,
    )
    if password is not None:
        validate_password(password)
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "create",
        user,
        organisation_id=org.id,
        label=user.login,
        changes=audit.snapshot(user, ["name", "email", "phone", "role", "certificate_no"]),
    )
    return user


def invite_user(
    inviter: User,
    *,
    name: str,
    role: Role,
    email: str | None,
    phone: str | None,
    certificate_no: str | None = None,
) -> tuple[User, str]:
    """Create a user without a password and return it with a one-time invitation token."""
    user = create_user(
        inviter.organisation,
        name=name,
        role=role,
        email=email,
        phone=phone,
        certificate_no=certificate_no,
    )
    token = issue_invitation(inviter, user)
    return user, token


def issue_invitation(inviter: User, user: User) -> str:
    """Create a fresh invitation link token for a user (older ones stop working)."""
    for old in db.session.scalars(
        select(Invitation).where(Invitation.user_id == user.id, Invitation.used_at.is_(None))
    ):
        old.used_at = now_utc()
    token = secrets.token_urlsafe(32)
    days = current_app.config["INVITE_VALID_DAYS"]
    db.session.add(
        Invitation(
            user_id=user.id,
            token_hash=Invitation.hash_token(token),
            created_by_id=inviter.id,
            expires_at=now_utc() + timedelta(days=days),
        )
    )
    audit.record("invite", user, organisation_id=user.organisation_id, label=user.login)
    db.session.flush()
    return token


def find_invitation(token: str) -> Invitation | None:
    """Return the unused, unexpired invitation of a token."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == Invitation.hash_token(token))
    )
    if invitation is None or invitation.used_at is not None:
        return None
    if invitation.expires_at < now_utc() or not invitation.user.active:
        return None
    return invitation


def accept_invitation(invitation: Invitation, password: str) -> User:
    """Set the invited user's password and use up the invitation."""
    validate_password(password)
    user = invitation.user
    user.set_password(password)
    user.session_version += 1
    invitation.used_at = now_utc()
    audit.record(
        "invitation_accepted",
        user,
        user_id=user.id,
        organisation_id=user.organisation_id,
        label=user.login,
    )
    db.session.flush()
    return user


def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (ending every session) or reactivate a user."""
    if user.id == actor.id and not active:
        raise DomainError(_("You cannot deactivate yourself."))
    if user.active == active:
        return
    user.active = active
    user.session_version += 1
    audit.record(
        "deactivate" if not active else "activate",
        user,
        label=user.login,
        changes={"active": [not active, active]},
    )
    db.session.flush()


def update_user(
    actor: User, user: User, *, name: str, role: Role, certificate_no: str | None
) -> None:
    """Change a user's name, role and certificate; a role change ends their sessions."""
    check_role_for_org(role, user.organisation)
    if user.id == actor.id and role != user.role:
        raise DomainError(_("You cannot change your own role."), field="role")
    old_role = user.role
    user.name = name.strip()
    user.role = role
    user.certificate_no = (certificate_no or "").strip() or None
    changes = audit.changed_fields(user)
    if role != old_role:
        user.session_version += 1
    if changes:
        audit.record("update", user, label=user.login, changes=changes)
    db.session.flush()
