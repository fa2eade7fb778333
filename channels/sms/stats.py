"""``intake sms-stats``: what Twilio still keeps of ours, what was deleted there, and what
became of the texts to workers. Counts and days only: never a sid, a number or a minute."""

from __future__ import annotations

import datetime as dt

import click

from channels.sms.outbound import DELETED_COUNTER, OUTBOUND_DELETED_COUNTER
from intake.cli_support import database, friendly_errors, load_settings
from intake.messaging.models import OutboundStatus
from intake.messaging.outbound import STUCK_AFTER, counter, twilio_holds

STATES = {
    OutboundStatus.QUEUED: "waiting to be sent", OutboundStatus.SENDING: "being sent",
    OutboundStatus.SENT: "sent", OutboundStatus.DELIVERED: "delivered",
    OutboundStatus.FAILED: "not delivered", OutboundStatus.OPTED_OUT: "not sent (STOP)",
    OutboundStatus.HELD: "held until the worker answers WhatsApp's notice",
}


@click.command("sms-stats")
@click.option("--check", is_flag=True,
              help="Exit with status 1 if a message has waited more than a day to be deleted "
                   "at Twilio (for a monitoring job).")
@friendly_errors
def command(check: bool) -> None:
    """Print what Twilio still keeps and what became of the texts to workers."""
    settings = load_settings()
    with database(settings, migrate_embedded=True) as db, db.transaction() as session:
        holds = twilio_holds(session, now=dt.datetime.now(dt.UTC))
        deleted, ours_deleted = (counter(session, name)
                                 for name in (DELETED_COUNTER, OUTBOUND_DELETED_COUNTER))
    click.echo(f"deleted at Twilio: {deleted} sent by workers, {ours_deleted} sent by us")
    line = (f"still at Twilio, to delete: {holds.to_delete} "
            f"({holds.to_delete - holds.ours_to_delete} sent by workers, "
            f"{holds.ours_to_delete} by us, {holds.paused} of which Twilio does not let go yet)")
    if holds.oldest is not None:
        line += f"; the oldest queued on {holds.oldest}, most attempts {holds.most_attempts}"
    click.echo(line)
    click.echo("texts to workers:")
    for status in OutboundStatus:
        click.echo(f"  {STATES[status]}: {holds.texts[status]}")
    if check and holds.stuck:
        hours = int(STUCK_AFTER.total_seconds() // 3600)
        raise click.ClickException(
            f"{holds.stuck} message(s) waited more than {hours} hours to be deleted at Twilio: "
            "check TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and the log of intake worker")
