"""``intake retention run|set|show``: apply the retention rules now, and each desk's period."""

from __future__ import annotations

import datetime as dt

import click

from intake.cli_support import Text, database, friendly_errors, load_settings

EARLIEST_TODAY = dt.date(2000, 1, 1)  # far enough from year 1 to count periods back


@click.group("retention")
def retention_group() -> None:
    """Delete sealed phone numbers and old reports on schedule (ops/retention.md).

    \b
    A sealed phone number is deleted the day after every case of its report has closed,
    or after INTAKE_CONTACT_RETENTION_DAYS (default 180) days without a message.
    A report and its thread are deleted the desk's retention period (default 730 days)
    after its last activity: arrival, last message, or closure of its case, whichever is
    latest; a report in an open case is kept. Dashboard counts stay (kept as tallies).
    Each deletion is an audit event with ids only. The same run happens daily inside
    `intake worker` (or `intake serve` on the embedded default).
    """


@retention_group.command("run")
@click.option("--today", "today_", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Act as if today were this day (YYYY-MM-DD; for a dry rehearsal on a copy).")
@friendly_errors
def retention_run(today_: dt.datetime | None) -> None:
    """Delete every number and report that is due now; print how many."""
    from intake.retention.service import run

    if today_ is not None and today_.date() < EARLIEST_TODAY:
        raise click.BadParameter(f"must be {EARLIEST_TODAY} or later", param_hint="'--today'")
    settings = load_settings()
    today = today_.date() if today_ else dt.datetime.now(dt.UTC).date()
    with database(settings, migrate_embedded=True) as db:
        result = run(db, today=today, contact_days=settings.contact_retention_days)
    click.echo(f"sealed numbers deleted: {result.numbers_deleted}")
    click.echo(f"reports deleted: {result.reports_deleted}")


@retention_group.command("set")
@click.option("--desk", "desk_name", required=True, type=Text(max_length=200),
              help="The desk's name.")
@click.option("--days", required=True, type=int,
              help="Keep the desk's reports this many days after their last activity "
                   "(30 to 36500).")
@friendly_errors
def retention_set(desk_name: str, days: int) -> None:
    """Set one desk's retention period (recorded in the audit log)."""
    from intake.retention.service import set_desk_retention

    settings = load_settings()
    with database(settings, migrate_embedded=True) as db, db.transaction() as session:
        desk = set_desk_retention(session, desk_name=desk_name, days=days)
        click.echo(f"{desk.name}: reports kept {desk.retention_days} days after last activity")


@retention_group.command("show")
@friendly_errors
def retention_show() -> None:
    """Print every desk's retention period and the number retention period."""
    from intake.retention.service import desk_periods

    settings = load_settings()
    with database(settings, migrate_embedded=True) as db, db.transaction() as session:
        periods = desk_periods(session)
    click.echo(f"sealed numbers: {settings.contact_retention_days} days without a message "
               "(INTAKE_CONTACT_RETENTION_DAYS), or the day after the case closed")
    for name, days in periods:
        click.echo(f"{name}: {days} days")
