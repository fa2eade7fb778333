"""The ``intake`` command: serve, db upgrade, demo, worker, desk, audit, import (DESIGN 7).

Every failure a user can cause (bad settings, unreachable database, un-migrated schema)
ends in one line naming the problem and what to change, and a non-zero exit code.
"""

from __future__ import annotations

import json
import sys

import click

from intake.cli_support import Text, database, friendly_errors, load_settings
from intake.errors import ConfigError


@click.group()
def main() -> None:
    """Worker Voice Intake: sealed, anonymous grievance intake."""


@main.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Create or upgrade the schema to the newest version (Alembic)."""
    from intake import schema
    from intake.db import Database
    from intake.install import ensure_install

    settings = load_settings()
    db = Database(settings.database_url)
    try:
        db.ping()
        schema.upgrade(db.engine)
        with db.transaction() as session:
            ensure_install(session, settings)
    finally:
        db.dispose()
    click.echo(f"database schema is at revision {schema.head_revision()}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the logins as one JSON object.")
@friendly_errors
def demo(as_json: bool) -> None:
    """Load demo desks, monitors, buyers, facilities and contracts; print the logins."""
    from intake.demo import format_logins, load_demo, save_logins
    from intake.install import ensure_install
    from intake.kdf import argon2_profile

    settings = load_settings()
    with database(settings, migrate_embedded=True) as db:
        with db.transaction() as session:
            ensure_install(session, settings)
            result = load_demo(
                session,
                instance=settings.instance_path,
                secret_key=settings.secret_key,
                profile=argon2_profile(settings),
            )
        if result.created:
            save_logins(settings.instance_path, result.logins)
    if as_json:
        click.echo(json.dumps(result.logins, ensure_ascii=False, indent=2))
    else:
        if not result.created:
            click.echo("Demo data was already loaded; these are its logins.")
        click.echo(format_logins(result.logins))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, type=Text(max_length=253))
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--production", is_flag=True,
              help="Serve with gunicorn (ops/gunicorn.conf.py); needs PostgreSQL and Redis.")
@friendly_errors
def serve(host: str, port: int, production: bool) -> None:
    """Run the development server, or gunicorn with --production (see ops/README.md)."""
    from werkzeug.serving import WSGIRequestHandler, run_simple

    from intake.app import create_app
    from intake.install import ensure_install

    settings = load_settings()
    if production:
        from intake.serving import run

        run(settings, host=host, port=port)
        return
    with database(settings, migrate_embedded=True) as db, db.transaction() as session:
        ensure_install(session, settings)
    app = create_app(settings)

    class QuietHandler(WSGIRequestHandler):
        """werkzeug's own access log names the client address and the query string."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    if not settings.redis_url:  # embedded: no `intake worker`, so this process schedules
        from intake.schedule import start_periodic

        start_periodic(app)
    click.echo(f"Worker Voice Intake on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, request_handler=QuietHandler, threaded=True)


@main.command()
@click.option("--burst", is_flag=True, help="Run the jobs in the queue, then exit.")
@friendly_errors
def worker(burst: bool) -> None:
    """Run background jobs from the Redis queue (not needed in the embedded default)."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    from intake.app import create_app
    from intake.install import ensure_install
    from intake.jobs import QUEUE_NAME

    settings = load_settings()
    if not settings.redis_url:
        raise ConfigError(
            "INTAKE_REDIS_URL is not set: without Redis, jobs run inside `intake serve` "
            "and no worker is needed"
        )
    with database(settings, migrate_embedded=False) as db, db.transaction() as session:
        ensure_install(session, settings)
    app = create_app(settings)
    connection = Redis.from_url(settings.redis_url)
    from intake.schedule import start_periodic

    if not burst:
        start_periodic(app)
    # SimpleWorker runs jobs in this process, inside one app context (no fork per job).
    with app.app_context():
        SimpleWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection).work(
            burst=burst, with_scheduler=True
        )


def _add_channel_commands() -> None:
    """Commands that belong to a channel (``intake sms-sim``) plug in by entry point, as the
    channels themselves do: ``intake`` must not import ``channels``."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="intake.commands"):
        main.add_command(entry.load(), name=entry.name)


@main.group("alerts")
def alerts_group() -> None:
    """Alerts to buyers."""


@alerts_group.command("deliver")
@friendly_errors
def alerts_deliver() -> None:
    """Deliver the alerts whose batch time has come (also runs every 15 minutes inside
    `intake worker`, or `intake serve` without Redis)."""
    from intake.app import create_app
    from intake.ext import jobs_of
    from intake.schedule import DELIVER_ALERTS

    settings = load_settings()
    with database(settings, migrate_embedded=True):
        pass
    app = create_app(settings)
    with app.app_context():
        jobs_of(app).enqueue_coalesced(DELIVER_ALERTS)
        jobs_of(app).drain(timeout=300)
    click.echo("alert batch queued" if settings.redis_url else "alert batch delivered")


def _add_desk_commands() -> None:
    from intake.accounts.commands import audit_group, desk_group
    from intake.backup.commands import backup_group
    from intake.supplychain.commands import import_group

    main.add_command(desk_group)
    main.add_command(audit_group)
    main.add_command(import_group)
    main.add_command(backup_group)
    from intake.retention.commands import retention_group
    from intake.rotation.commands import secrets_group

    main.add_command(retention_group)
    main.add_command(secrets_group)


_add_desk_commands()
_add_channel_commands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
