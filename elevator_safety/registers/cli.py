"""``flask registers check-roster``: turn today's and tomorrow's roster gaps into rectifications.

Run it once a day (the scheduler of the compliance engine will call the same
function); opening is idempotent: a day that already has an unverified roster
rectification at a site gets no second one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy import select

from elevator_safety.db import now_utc
from elevator_safety.extensions import db
from elevator_safety.registers.services import record_roster_gap_findings
from elevator_safety.registry.models import Site


@click.group("registers")
def registers_cli() -> None:
    """Site duty registers (keys, duty roster, video)."""


@registers_cli.command("check-roster")
@click.option(
    "--now",
    "when",
    default=None,
    help="Check as of this ISO time (default: now); a time without offset is UTC.",
)
def check_roster(when: str | None) -> None:
    """Open a rectification for every roster gap today or tomorrow at every site."""
    if when:
        try:
            moment = datetime.fromisoformat(when)
        except ValueError:
            raise click.BadParameter("give an ISO time, e.g. 2026-11-28T20:00+08:00") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    else:
        moment = now_utc()
    opened = 0
    sites = db.session.scalars(select(Site).order_by(Site.id)).all()
    for site in sites:
        found = record_roster_gap_findings(site, moment, None)
        for finding in found:
            click.echo(f"{site.name}: {finding.item_label}")
        opened += len(found)
    db.session.commit()
    click.echo(f"Checked {len(sites)} sites: {opened} new roster rectifications.")
