"""``flask users`` and ``flask orgs``: accounts for the platform operator."""

from __future__ import annotations

from datetime import date

import click
from sqlalchemy import select

from elevator_safety import audit
from elevator_safety.auth import services
from elevator_safety.auth.models import Organisation, OrgKind, Role, User
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db


@click.group("orgs")
def orgs_cli() -> None:
    """Manage organisations."""


@orgs_cli.command("create")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice([k.value for k in OrgKind]), required=True)
@click.option("--qualification-no", help="Contractor's qualification certificate number.")
@click.option("--qualification-expires", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--district-code", help="Regulator's district code.")
@click.option("--district-name")
def create_org(
    name: str,
    kind: str,
    qualification_no: str | None,
    qualification_expires,  # type: ignore[no-untyped-def]
    district_code: str | None,
    district_name: str | None,
) -> None:
    """Create an organisation."""
    if db.session.scalar(select(Organisation).where(Organisation.name == name)):
        raise click.ClickException(f"An organisation named {name!r} exists already.")
    if kind == OrgKind.regulator and not district_code:
        raise click.ClickException("A regulator needs --district-code.")
    expires: date | None = qualification_expires.date() if qualification_expires else None
    org = Organisation(
        name=name,
        kind=OrgKind(kind),
        qualification_no=qualification_no,
        qualification_expires=expires,
        district_code=district_code,
        district_name=district_name,
    )
    db.session.add(org)
    db.session.commit()
    click.echo(f"Created organisation {org.id}: {name} ({kind}).")


@orgs_cli.command("list")
def list_orgs() -> None:
    """List organisations."""
    for org in db.session.scalars(select(Organisation).order_by(Organisation.id)):
        click.echo(f"{org.id}\t{org.kind.value}\t{org.name}\t{org.district_code or ''}")


@click.group("users")
def users_cli() -> None:
    """Manage users."""


@users_cli.command("create")
@click.option("--org", "org_name", required=True, help="Organisation name.")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--email")
@click.option("--phone")
@click.option("--certificate-no")
@click.password_option()
def create_user(
    org_name: str,
    name: str,
    role: str,
    email: str | None,
    phone: str | None,
    certificate_no: str | None,
    password: str,
) -> None:
    """Create a user with a password."""
    org = db.session.scalar(select(Organisation).where(Organisation.name == org_name))
    if org is None:
        raise click.ClickException(f"No organisation named {org_name!r}.")
    try:
        user = services.create_user(
            org,
            name=name,
            role=Role(role),
            email=email,
            phone=phone,
            password=password,
            certificate_no=certificate_no,
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created user {user.id}: {user.login} ({role}).")


@users_cli.command("list")
def list_users() -> None:
    """List users."""
    for user in db.session.scalars(select(User).order_by(User.id)):
        state = "active" if user.active else "inactive"
        click.echo(f"{user.id}\t{user.role.value}\t{user.login}\t{user.organisation.name}\t{state}")


def _user_by_login(login: str) -> User:
    user = services.find_user_by_login(login)
    if user is None:
        raise click.ClickException(f"No user with e-mail or phone {login!r}.")
    return user


@users_cli.command("set-password")
@click.argument("login")
@click.password_option()
def set_password(login: str, password: str) -> None:
    """Set a user's password (for a forgotten one); every session of theirs ends."""
    user = _user_by_login(login)
    try:
        services.validate_password(password)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    user.set_password(password)
    user.session_version += 1
    audit.record("password_reset", user, organisation_id=user.organisation_id, label=user.login)
    db.session.commit()
    click.echo(f"Password set for {user.login}; their sessions have ended.")


@users_cli.command("deactivate")
@click.argument("login")
def deactivate(login: str) -> None:
    """Deactivate a user (regulators have no manager in the app); their sessions end."""
    user = _user_by_login(login)
    if user.active:
        user.active = False
        user.session_version += 1
        audit.record(
            "deactivate",
            user,
            organisation_id=user.organisation_id,
            label=user.login,
            changes={"active": [True, False]},
        )
        db.session.commit()
    click.echo(f"{user.login} is inactive.")


@users_cli.command("activate")
@click.argument("login")
def activate(login: str) -> None:
    """Reactivate a user."""
    user = _user_by_login(login)
    if not user.active:
        user.active = True
        user.session_version += 1
        audit.record(
            "activate",
            user,
            organisation_id=user.organisation_id,
            label=user.login,
            changes={"active": [False, True]},
        )
        db.session.commit()
    click.echo(f"{user.login} is active.")
