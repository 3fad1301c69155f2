"""``flask demo``: load the demo city and print its logins."""

from __future__ import annotations

import csv
import sys
import time

import click
from flask import current_app
from sqlalchemy import func, select

from elevator_safety.auth.models import Organisation
from elevator_safety.db import now_utc
from elevator_safety.demo import data, history
from elevator_safety.extensions import db
from elevator_safety.scoping import local_today


@click.group("demo")
def demo_cli() -> None:
    """Demo data commands."""


def _password() -> str:
    password = str(current_app.config.get("DEMO_PASSWORD") or "")
    if not password:
        raise click.ClickException("DEMO_PASSWORD is empty; set it in the configuration.")
    return password


@demo_cli.command("load")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Load only into a database without any organisation (what make run uses).",
)
def load(if_empty: bool) -> None:
    """Create the demo city (companies, sites, elevators, contracts, users) and its history."""
    if if_empty and db.session.scalar(select(func.count(Organisation.id))):
        click.echo("The database already holds organisations: demo data not loaded.")
        return
    state = data.state()
    if state == "present":
        click.echo("The demo data is already there: nothing changed.")
        return
    if state == "conflict":
        raise click.ClickException(
            "Part of the demo data (or an organisation, user or equipment code with the "
            "same name) exists already; nothing was written."
        )
    started = time.perf_counter()
    now = now_utc()
    today = local_today(now)
    summary = data.load(today, _password())
    past = history.load(today, now, _password())
    db.session.commit()
    elapsed = time.perf_counter() - started
    click.echo(
        f"Loaded the demo city in {elapsed:.2f} s: {summary.organisations} organisations, "
        f"{summary.sites} sites, {summary.elevators} elevators, {summary.contracts} "
        f"contracts, {summary.users} users. `flask demo logins` lists the logins."
    )
    click.echo(
        f"History of the last {history.DAYS} days: {past.patrols} patrols "
        f"({past.out_of_service_patrols} of out-of-service elevators), {past.findings} "
        f"findings, {past.visits} maintenance visits ({past.confirmed} confirmed, "
        f"{past.awaiting} awaiting confirmation, {past.rejected} rejected), "
        f"{past.corrections} correction, {past.handovers} finished handover."
    )


@demo_cli.command("logins")
def logins() -> None:
    """Print the demo users as CSV: role, organisation, e-mail, password."""
    rows = data.login_rows(_password())
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["role", "organisation", "email", "password"])
    writer.writerows(rows)
    if not rows:
        click.echo("No demo users: run `flask demo load` first.", err=True)
