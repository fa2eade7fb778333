"""``intake backup create|restore|keygen``: encrypted backups an operator can restore, with
this software or with the standard ``age`` tool (DESIGN 7, issue 10 item 5)."""

from __future__ import annotations

import sys
from contextlib import suppress
from pathlib import Path

import click

from intake.cli_support import Text, database, friendly_errors, load_settings


@click.group("backup")
def backup_group() -> None:
    """Encrypted backups of the database (age format) and their restore."""


@backup_group.command("create")
@click.option("--recipient", "recipients", multiple=True, envvar="INTAKE_BACKUP_RECIPIENT",
              metavar="AGE1...", type=Text(max_length=1000),
              help="Offline backup public key (repeat for several; default: the "
                   "space-separated keys in INTAKE_BACKUP_RECIPIENT).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Archive to write (never overwritten); - for standard output.")
@friendly_errors
def backup_create(recipients: tuple[str, ...], output: str) -> None:
    """Write an encrypted, integrity-checked archive of the database."""
    from intake.backup import service
    from intake.backup.keys import parse_recipients

    keys = parse_recipients(recipients)
    settings = load_settings()
    with database(settings, migrate_embedded=False):
        pass  # reachable and at the current schema revision, or a one-line error
    to_stdout = output == "-"
    handle = sys.stdout.buffer if to_stdout else service.open_output(Path(output))
    sink = service.HashingWriter(handle)
    try:
        manifest = service.create(settings.database_url, instance=settings.instance_path,
                                  recipients=keys, output=sink,
                                  fingerprints=service.fingerprints(settings))
    except BaseException:
        if not to_stdout:
            handle.close()
            with suppress(FileNotFoundError):
                Path(output).unlink()
        raise
    sink.flush()
    if not to_stdout:
        handle.close()
    click.echo(f"backup written to {output}: {manifest.database}, schema {manifest.revision}, "
               f"{manifest.size} bytes of dump, archive sha256 {sink.hexdigest()}",
               err=to_stdout)


@backup_group.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-i", "--identity", required=True, type=click.Path(dir_okay=False),
              help="The offline identity file (as written by age-keygen).")
@friendly_errors
def backup_restore(archive: str, identity: str) -> None:
    """Verify ARCHIVE (- for standard input), then restore it into the empty database named
    by INTAKE_DATABASE_URL."""
    from intake.backup import service
    from intake.backup.keys import load_identities

    identities = load_identities(Path(identity))
    settings = load_settings()
    spooled = service.spool(sys.stdin.buffer, instance=settings.instance_path) \
        if archive == "-" else None
    try:
        manifest = service.restore(settings.database_url, instance=settings.instance_path,
                                   archive=spooled or Path(archive), identities=identities,
                                   shown="standard input" if spooled else None)
    finally:
        if spooled is not None:
            spooled.unlink(missing_ok=True)
    click.echo(f"restored the {manifest.database} backup of {manifest.created_on} "
               f"(schema {manifest.revision}, {manifest.size} bytes, sha256 verified)")
    for warning in service.secret_warnings(manifest, settings):
        click.echo(f"Warning: {warning}", err=True)


@backup_group.command("keygen")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Where to write the new identity (0600; never overwritten).")
@friendly_errors
def backup_keygen(output: str) -> None:
    """Make a backup key pair, like `age-keygen -o FILE`, for machines without the age tool.

    Run it on an offline machine, not on the server: whoever holds the identity file can
    read every backup.
    """
    from intake.backup.keys import generate_identity_file

    public = generate_identity_file(Path(output))
    click.echo(f"Public key: {public}")
    click.echo(f"Identity written to {output}: keep it offline (print it, store it safely); "
               "give the server only the public key (INTAKE_BACKUP_RECIPIENT).")
