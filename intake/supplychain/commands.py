"""``intake import facilities|buyers|contracts|coverage FILE.csv`` (DESIGN 6, 7).

The column sets are in docs/import-csv.md. A file is imported whole or not at all: with any
bad row, every problem is listed (one line each, by line and column), then nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import click

from intake.cli_support import database, friendly_errors, load_settings

_KINDS = {
    "facilities": "Workplaces (an Open Supply Hub export with our poster_code column added).",
    "buyers": "Public buyers, by name.",
    "contracts": "Which buyer buys from which facility, and from when.",
    "coverage": "Which desk receives the reports about which facility.",
}


@click.group("import")
def import_group() -> None:
    """Import the supply-chain map from CSV files (all or nothing; see docs/import-csv.md).

    Files are UTF-8 (with or without a BOM), separated by commas, semicolons or tabs, at most
    20 MiB and 100,000 rows. Importing the same file again changes nothing.
    """


def _import_command(kind: str, summary: str) -> None:
    @import_group.command(kind, help=summary + " Rows are matched to what is stored already "
                          "and created or updated.")
    @click.argument("path", metavar="FILE.csv", type=click.Path(path_type=Path))
    @friendly_errors
    def command(path: Path) -> None:
        _import(kind, path)


for _kind, _summary in _KINDS.items():
    _import_command(_kind, _summary)


def _import(kind_name: str, path: Path) -> None:
    from intake.supplychain.imports import (
        LIMITS,
        ImportFileError,
        ImportRejected,
        Kind,
        apply,
        parse,
    )

    try:
        with path.open("rb") as file:
            data = file.read(LIMITS.max_bytes + 1)
        parsed = parse(Kind(kind_name), data, limits=LIMITS)
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror or exc}") from None
    except ImportFileError as exc:
        raise click.ClickException(f"nothing was imported from {path.name}: {exc}") from None

    settings = load_settings()
    try:
        with database(settings, migrate_embedded=True) as db, db.transaction() as session:
            counts = apply(session, parsed)
    except ImportRejected as rejected:
        for error in rejected.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(
            f"nothing was imported from {path.name}: {rejected}; correct them and import "
            "the whole file again") from None
    line = (f"{kind_name} from {path.name}: {counts.created} created, "
            f"{counts.updated} updated, {counts.unchanged} unchanged")
    if counts.new_suppliers:
        line += f"; new suppliers: {counts.new_suppliers}"
    click.echo(line)
