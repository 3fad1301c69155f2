"""``flask registry``: CSV import and export of a property company's elevators."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import click
from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from elevator_safety import audit
from elevator_safety.auth.models import Organisation, OrgKind
from elevator_safety.errors import DomainError
from elevator_safety.extensions import db
from elevator_safety.registry import csv_io

#: Files with at least this many rows show a progress bar while they are checked.
PROGRESS_MIN_ROWS = 200
LANGUAGES = click.Choice(["zh_Hans_CN", "en"])


@click.group("registry")
def registry_cli() -> None:
    """Registry commands."""


def _company(name: str) -> Organisation:
    org = db.session.scalar(
        select(Organisation).where(
            Organisation.name == name.strip(), Organisation.kind == OrgKind.property_company
        )
    )
    if org is None:
        raise click.ClickException(f"No property company named {name!r}.")
    return org


def _language(lang: str | None) -> str:
    return lang or str(current_app.config["BABEL_DEFAULT_LOCALE"])


@registry_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_name", required=True, help="The property company, by name.")
@click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
@click.option("--lang", type=LANGUAGES, help="Language of the messages (default: Chinese).")
def import_command(file: Path, org_name: str, dry_run: bool, lang: str | None) -> None:
    """Import the elevators of a CSV file into a property company: all rows or none."""
    org = _company(org_name)
    with force_locale(_language(lang)):
        try:
            sheet = csv_io.read_sheet(file.read_bytes())
        except csv_io.CsvFileError as error:
            raise click.ClickException(error.message) from error
        click.echo(
            _(
                "%(file)s: %(rows)d rows, encoding %(encoding)s.",
                file=file.name,
                rows=len(sheet.records),
                encoding=sheet.encoding,
            )
        )
        for warning in sheet.warnings:
            click.echo(warning, err=True)
        if len(sheet.records) >= PROGRESS_MIN_ROWS:
            with click.progressbar(
                sheet.records, label=_("Checking rows"), file=sys.stderr
            ) as records:
                result = csv_io.check_sheet(sheet, org, records)
        else:
            result = csv_io.check_sheet(sheet, org)
        problems = result.problems
        if problems:
            db.session.rollback()
            for problem in problems:
                click.echo(str(problem), err=True)
            click.echo(
                ngettext(
                    "%(num)d error; nothing was imported.",
                    "%(num)d errors; nothing was imported.",
                    len(problems),
                ),
                err=True,
            )
            sys.exit(1)
        if dry_run:
            db.session.rollback()
            click.echo(
                ngettext(
                    "%(num)d row is good; nothing was written (dry run).",
                    "%(num)d rows are good; nothing was written (dry run).",
                    len(result.rows),
                )
            )
            return
        try:
            created = csv_io.import_elevators(result, org, None, source=file.name)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from error
        click.echo(
            ngettext(
                "%(num)d elevator imported into %(org)s.",
                "%(num)d elevators imported into %(org)s.",
                len(created),
                org=org.name,
            )
        )


@registry_cli.command("export")
@click.option("--org", "org_name", required=True, help="The property company, by name.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="CSV file to write ('-' for standard output).",
)
@click.option("--lang", type=LANGUAGES, help="Headers and values in Chinese (default) or English.")
def export_command(org_name: str, output: str, lang: str | None) -> None:
    """Export a property company's elevators as CSV (UTF-8 with BOM, opens in Excel)."""
    org = _company(org_name)
    language = _language(lang)
    english = language == "en"
    query = csv_io.company_elevators(org)
    rows = -1  # the header line is not a row
    with force_locale(language):
        if output == "-":
            rows = _write(query, sys.stdout, english)
        else:
            with open(output, "w", encoding="utf-8", newline="") as handle:
                rows = _write(query, handle, english)
        audit.record(
            "export",
            None,
            organisation_id=org.id,
            label=Path(output).name[:200] if output != "-" else "stdout",
            changes={"rows": [None, rows]},
        )
        db.session.commit()
        if output != "-":
            click.echo(
                ngettext(
                    "%(num)d elevator exported to %(file)s.",
                    "%(num)d elevators exported to %(file)s.",
                    rows,
                    file=output,
                )
            )


def _write(query, handle: TextIO, english: bool) -> int:  # type: ignore[no-untyped-def]
    """Write the export; return the number of elevator rows."""
    lines = -1
    for line in csv_io.export_lines(query, english=english):
        handle.write(line)
        lines += 1
    return lines
