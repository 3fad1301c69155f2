"""``flask records verify``: walk every hash chain and every signature."""

from __future__ import annotations

import click
from sqlalchemy import select

from elevator_safety.extensions import db
from elevator_safety.records import services
from elevator_safety.registry.models import Elevator


@click.group("records")
def records_cli() -> None:
    """Evidence records."""


@records_cli.command("verify")
@click.option("--elevator", "code", help="Equipment code of one elevator (default: all).")
def verify(code: str | None) -> None:
    """Verify the chains; exit 1 naming the first broken record when anything was altered."""
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
    if report.ok:
        click.echo("All chains and signatures verify.")
        return
    for problem in report.problems:
        click.echo(f"BROKEN: {problem}", err=True)
    first = report.first_broken
    if first is not None:
        click.echo(
            f"First broken record: id {first.id}, elevator {first.elevator.equipment_code}, "
            f"position {first.seq}.",
            err=True,
        )
    raise SystemExit(1)
