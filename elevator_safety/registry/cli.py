"""``flask registry``: bulk import (being written)."""

from __future__ import annotations

import click


@click.group("registry")
def registry_cli() -> None:
    """Registry commands."""
