"""``flask reports``: an elevator's signed archive from the command line, and checking a PDF.

``reports archive CODE --from DATE --to DATE -o FILE.pdf`` writes the same
signed archive a user downloads. ``reports verify FILE.pdf`` checks the file's
signature and every record hash printed on it against the database, prints
what matches, and exits 1 when anything does not. Like the other commands,
they speak English.
"""

from __future__ import annotations

import io
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from elevator_safety.extensions import db
from elevator_safety.registry.models import Elevator
from elevator_safety.registry.services import normalise_code

if TYPE_CHECKING:
    from elevator_safety.reports.verifying import HashCheck

reports_cli = AppGroup("reports", help="PDF documents: elevator archives and their verification.")

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _write_atomically(path: Path, data: bytes) -> None:
    """Write the file under a temporary name beside it, then put it in place."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@reports_cli.command("archive")
@click.argument("equipment_code")
@click.option("--from", "start", type=DATE, required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "end", type=DATE, required=True, help="Last day (included), YYYY-MM-DD.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The PDF file to write.",
)
def archive(equipment_code: str, start: datetime, end: datetime, output: Path) -> None:
    """Write the signed archive (电梯管理档案) of one elevator for a period."""
    # Here, not at the top: every ``flask`` command loads this module (docs/performance.md).
    from elevator_safety.reports import render, signing

    if start > end:
        raise click.BadParameter("the first day is after the last day (--to).", param_hint="--from")
    code = normalise_code(equipment_code) or ""
    elevator = db.session.scalar(select(Elevator).where(Elevator.equipment_code == code))
    if elevator is None:
        raise click.ClickException(f"No elevator with equipment code {equipment_code}.")
    if not output.parent.is_dir():
        raise click.ClickException(f"The folder {output.parent} does not exist.")
    buffer = io.BytesIO()
    with force_locale("en"):
        try:
            render.elevator_archive(elevator, start.date(), end.date(), None, buffer)
            signed = signing.sign_pdf(buffer.getvalue())
        except (render.FontMissing, signing.SigningError) as error:
            raise click.ClickException(error.message) from error
    _write_atomically(output, signed)
    click.echo(
        f"Wrote {output}: archive of {elevator.equipment_code} from {start.date()} "
        f"to {end.date()}, {len(signed)} bytes, signed."
    )


def _describe(check: HashCheck) -> str:
    """Return one line about a printed hash: the verdict, what it names, what the records say.

    A record is named by its kind, its elevator's equipment code, its day and
    its position in the elevator's chain; a site register entry by its kind,
    its site's name, its day and its position in the site's register chain.
    """
    head = f"{'OK' if check.ok else 'FAILED'}  {check.label} {check.value}"
    if check.found is not None and check.occurred_on is not None:
        head += (
            f" = {check.kind_label}, {check.place}, {check.occurred_on.isoformat()}, #{check.seq}"
        )
    return f"{head}\n    {check.message}"


@reports_cli.command("verify")
@click.argument("pdf_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(pdf_file: Path) -> None:
    """Check a PDF's signature and each printed record hash; exit 1 if anything fails."""
    from elevator_safety.reports.verifying import check_pdf

    with force_locale("en"):
        result = check_pdf(pdf_file.read_bytes())
        click.echo(
            f"{'OK' if result.signature_ok else 'FAILED'}  Signature: {result.signature_detail}"
        )
        for check in result.hashes:
            click.echo(_describe(check))
    if not result.hashes:
        click.echo("The document prints no record hash; only its signature was checked.")
    if result.ok:
        click.echo(f"{pdf_file} verifies: signature and {len(result.hashes)} printed hashes.")
        return
    failed = len(result.failures) + (0 if result.signature_ok else 1)
    click.echo(f"{pdf_file} does NOT verify: {failed} problem(s) above.", err=True)
    raise SystemExit(1)
