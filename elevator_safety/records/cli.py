"""``flask records verify``: walk every hash chain (elevators' and sites') and every signature."""

from __future__ import annotations

import click
from sqlalchemy import select

from elevator_safety.extensions import db
from elevator_safety.records import services
from elevator_safety.registers import chain
from elevator_safety.registry.models import Elevator


@click.group("records")
def records_cli() -> None:
    """Evidence records."""


@records_cli.command("verify")
@click.option("--elevator", "code", help="Equipment code of one elevator (default: all).")
def verify(code: str | None) -> None:
    """Verify the chains; exit 1 naming the first broken record when anything was altered.

    Without --elevator, the sites' register chains are verified too.
    """
    ids = None
    if code:
        elevator = db.session.scalar(select(Elevator).where(Elevator.equipment_code == code))
        if elevator is None:
            raise click.ClickException(f"No elevator with equipment code {code}.")
        ids = [elevator.id]
    report = services.verify(ids)
    click.echo(
        f"Checked {report.elevators} chains, {report.records} records, "
        f"{report.signatures} signatures."
    )
    sites = chain.verify_sites() if code is None else None
    if sites is not None:
        click.echo(f"Checked {sites.sites} site chains, {sites.entries} entries.")
    if report.ok and (sites is None or sites.ok):
        click.echo("All chains and signatures verify.")
        return
    for problem in report.problems + (sites.problems if sites else []):
        click.echo(f"BROKEN: {problem}", err=True)
    first = report.first_broken
    if first is not None:
        click.echo(
            f"First broken record: id {first.id}, elevator {first.elevator.equipment_code}, "
            f"position {first.seq}.",
            err=True,
        )
    raise SystemExit(1)
