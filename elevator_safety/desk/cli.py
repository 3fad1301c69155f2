"""``flask desk run-exports`` and ``flask desk purge-exports``: the bulk exports by hand.

The scheduler process runs both on its own (``run_pending_exports`` every
minute, ``purge_expired`` with it); these commands do the same once, for an
operator, a cron job without the scheduler, or a demonstration.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from elevator_safety.db import now_utc
from elevator_safety.desk import services

desk_cli = AppGroup("desk", help="Bulk exports of the regulator's desk.")


@desk_cli.command("run-exports")
def run_exports() -> None:
    """Build every queued export, oldest first, one after another."""
    ran = services.run_pending_exports()
    click.echo(f"{ran} export(s) run.")


@desk_cli.command("purge-exports")
def purge_exports() -> None:
    """Delete the files of the exports kept longer than EXPORT_KEEP_DAYS."""
    purged = services.purge_expired(now_utc())
    click.echo(f"{purged} expired export(s) deleted.")
