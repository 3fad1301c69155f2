"""``flask bench generate``: fill a throw-away database with a realistic city quickly."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from elevator_safety.auth.models import Organisation
from elevator_safety.bench.generate import DISTRICTS, PASSWORD, SITES_PER_COMPANY, generate
from elevator_safety.extensions import db


@click.group("bench")
def bench_cli() -> None:
    """Benchmark data (never on a production database)."""


@bench_cli.command("generate")
@click.option("--elevators", type=click.IntRange(min=1), required=True, help="How many elevators.")
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--districts",
    type=click.IntRange(min=1),
    default=DISTRICTS,
    show_default=True,
    help="Districts the sites are spread over.",
)
@click.option(
    "--sites-per-company",
    type=click.IntRange(min=1),
    default=SITES_PER_COMPANY,
    show_default=True,
    help="Sites of each property company (8 elevators a site).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Add to a database that already holds organisations (ids and names do not clash).",
)
@with_appcontext
def generate_command(
    elevators: int, days: int, seed: int, districts: int, sites_per_company: int, force: bool
) -> None:
    """Create ELEVATORS elevators with DAYS days of signed, hash-chained history."""
    existing = db.session.scalar(select(func.count(Organisation.id))) or 0
    if existing and not force:
        raise click.ClickException(
            f"The database already holds {existing} organisations. Benchmark data belongs "
            "in a throw-away database; add --force to write it here anyway."
        )
    started = time.perf_counter()
    with click.progressbar(length=elevators, label="Elevators with history") as bar:
        summary = generate(
            elevators,
            days,
            seed=seed,
            progress=bar.update,
            districts=districts,
            sites_per_company=sites_per_company,
        )
    seconds = time.perf_counter() - started
    click.echo(
        f"Wrote {summary.organisations} organisations, {summary.users} users, "
        f"{summary.sites} sites, {summary.elevators} elevators, {summary.contracts} contracts, "
        f"{summary.records} records and {summary.signatures} signatures in {seconds:.1f} s "
        f"({summary.records / max(seconds, 1e-9):.0f} records/s)."
    )
    click.echo(f"Every generated account's password is {PASSWORD!r}.")
