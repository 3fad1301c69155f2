"""``flask demo``: load the demo city (being written)."""

from __future__ import annotations

import click


@click.group("demo")
def demo_cli() -> None:
    """Demo data commands."""
