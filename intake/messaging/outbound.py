"""Texts we owe workers (desk replies, remedy questions) and what Twilio says of them.

The web process cannot read a phone number: numbers and outbound texts are sealed to the
courier key, which only ``intake worker`` holds (DESIGN 4.4). This module only records;
the sending job lives in ``channels.sms.outbound``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from intake.ext import database_of, jobs_of
from intake.messaging.models import Counter, OutboundMessage, OutboundStatus, PendingDeletion
from intake.reports.models import Report, ReportMessage

OPTED_OUT_AT_CARRIER = "21610"
log = logging.getLogger(__name__)
# The job that sends one owed text (in ``channels.sms``; named, not imported: intake may
# not import channels).
SEND_TEXT_JOB = "channels.sms.outbound.send_outbound"
# The job that sends WhatsApp's approved notice for a held text (``record_status``).
NUDGE_JOB = "channels.sms.outbound.nudge_held"
# The job that sends a worker's held texts once they answer the notice (their sender_tag in
# the payload: only the courier can tell which reports are theirs).
RELEASE_JOB = "channels.sms.outbound.release_held"
_DELIVERY = {
    "queued": OutboundStatus.SENT, "accepted": OutboundStatus.SENT,
    "sending": OutboundStatus.SENT, "sent": OutboundStatus.SENT,
    "delivered": OutboundStatus.DELIVERED, "read": OutboundStatus.DELIVERED,
    "undelivered": OutboundStatus.FAILED, "failed": OutboundStatus.FAILED,
}


def queue_text(session: Session, report: Report, message: ReportMessage, *,
               kind: str) -> OutboundMessage | None:
    """An outbound text for ``message`` if the worker said yes to texts; None otherwise."""
    if not report.contact_consent or report.contact_sealed is None:
        return None
    outbound = OutboundMessage(id=uuid.uuid4(), report_id=report.id, message_id=message.id,
                               kind=kind)
    session.add(outbound)
    session.flush()
    return outbound


@dataclass(frozen=True)
class Recorded:
    """What a status callback was about."""

    known: bool  # one of the texts we keep a row for (a reply, a question, a notice)
    nudge: uuid.UUID | None = None  # a text to send WhatsApp's notice for (``NUDGE_JOB``)


def record_status(session: Session, *, provider_sid: str, status: str, error_code: str,
                  now: dt.datetime, can_nudge: bool = False) -> Recorded:
    """Record Twilio's delivery state for one of our texts (unknown sids change nothing).

    ``nudge`` is set when WhatsApp refused the text because its 24-hour window had closed,
    the install has an approved notice (``can_nudge``) and none was sent for this text
    before: the text is then HELD. A callback about the notice itself matters only if the
    notice failed: the text fails with the notice's error code."""
    outbound = session.scalar(select(OutboundMessage).where(or_(
        OutboundMessage.provider_sid == provider_sid, OutboundMessage.nudge_sid == provider_sid)))
    if outbound is None:
        return Recorded(known=False)
    nudge = None
    if outbound.nudge_sid == provider_sid:
        if _DELIVERY.get(status) is OutboundStatus.FAILED and \
                outbound.status is OutboundStatus.HELD:
            outbound.status = OutboundStatus.FAILED
            outbound.error_code = error_code if error_code.isdigit() else None
    elif error_code == OPTED_OUT_AT_CARRIER:
        outbound.status = OutboundStatus.OPTED_OUT
    elif status in _DELIVERY and outbound.status not in _SETTLED:
        # Twilio's callbacks may arrive out of order: "sent" after "delivered" changes nothing.
        outbound.status = _DELIVERY[status]
        if outbound.status is OutboundStatus.FAILED:
            outbound.error_code = error_code if error_code.isdigit() else None
            if error_code == WHATSAPP_WINDOW_CLOSED and can_nudge and outbound.nudge_sid is None:
                outbound.status = OutboundStatus.HELD
                outbound.held_at = now
                nudge = outbound.id
    session.flush()
    return Recorded(known=True, nudge=nudge)


# Twilio keeps what we send as it keeps what workers send: a reply, a receipt. Once it has
# left (or failed), it is deleted there like an inbound message, after this pause (Twilio
# refuses to delete a message it sent moments ago, error 20009).
FINISHED = frozenset({"sent", "delivered", "undelivered", "failed", "read"})
DELETE_SENT_AFTER = dt.timedelta(minutes=2)


def delete_at_twilio_later(connection: Connection, provider_sid: str, *, now: dt.datetime,
                           outbound: bool = True, pause: bool = True) -> None:
    """Queue a message for deletion at Twilio, in one statement (a callback per text we
    send, more than one for most: it must stay cheap). Once: a later callback about the
    same message adds nothing. ``outbound``: one of ours; ``pause``: wait the moment Twilio
    needs after sending (``DELETE_SENT_AFTER``)."""
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(insert(PendingDeletion).values(
        id=uuid.uuid4(), provider_sid=provider_sid, created_at=now, attempts=0,
        outbound=outbound, not_before=now + DELETE_SENT_AFTER if pause else None,
    ).on_conflict_do_nothing())


# How long a held text waits for the worker to answer WhatsApp's notice; their conversation
# waits as long in its window step (``conversation._expired``). Past it, their next message
# begins a new conversation, which releases nothing: the text is given up, and the desk is
# told (``NOTICE_UNANSWERED``) instead of "held" for good.
NOTICE_WAIT = dt.timedelta(days=14)
EXPIRE_HELD_JOB = "intake.messaging.outbound.expire_held_job"


def expire_held(session: Session, *, now: dt.datetime) -> int:
    """Give up the texts held for longer than ``NOTICE_WAIT``: they fail, and their error
    code says the notice went unanswered. The number of texts given up."""
    given_up = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.status == OutboundStatus.HELD,
               OutboundMessage.held_at < now - NOTICE_WAIT)
        .values(status=OutboundStatus.FAILED, error_code=NOTICE_UNANSWERED)
        .execution_options(synchronize_session=False))
    return int(getattr(given_up, "rowcount", 0) or 0)


def expire_held_job() -> None:
    """The periodic run (``intake.schedule``, hourly): a text is given up within the hour
    after its wait; the desk's page then says why."""
    with database_of().transaction() as session:
        given_up = expire_held(session, now=dt.datetime.now(dt.UTC))
    if given_up:
        log.info("held texts given up", extra={"job": EXPIRE_HELD_JOB, "count": given_up})


# Owed texts whose job is gone. A job lives in Redis: one lost there (Redis restarted
# without its data, or was down when the desk replied) would leave its text "waiting to be
# sent" for good, and one whose retries all failed would stay "being sent". The periodic
# sweep queues both again; sending stays once only (``channels.sms.outbound``).
OWED_JOB = "intake.messaging.outbound.sweep_owed_job"
OWED_AFTER = dt.timedelta(minutes=15)  # a text still QUEUED this long after it was written
# A text SENDING this long after it was written has outlived its job's retries (RQ's last
# comes about four hours on): it is tried again, up to ``SEND_ATTEMPTS`` tries in all.
RETRIES_OVER = dt.timedelta(hours=6)
# Tries of one text (each run of its job). A text Twilio still refuses at the last fails,
# with Twilio's error code (or ``GAVE_UP`` if it gave none), and the desk's page says so.
SEND_ATTEMPTS = 12
GAVE_UP = "tries"  # ours, not Twilio's (theirs are digits)


def owed_texts(session: Session, *, now: dt.datetime) -> list[uuid.UUID]:
    """The texts to queue again: waiting longer than ``OWED_AFTER``, or claimed by a job
    longer than ``RETRIES_OVER`` ago with tries left."""
    return list(session.scalars(select(OutboundMessage.id).where(or_(
        (OutboundMessage.status == OutboundStatus.QUEUED)
        & (OutboundMessage.created_at < now - OWED_AFTER),
        (OutboundMessage.status == OutboundStatus.SENDING)
        & (OutboundMessage.created_at < now - RETRIES_OVER)
        & (OutboundMessage.attempts < SEND_ATTEMPTS),
    )).order_by(OutboundMessage.created_at)))


def sweep_owed_job() -> None:
    """The periodic run (``intake.schedule``, every quarter hour): each owed text whose job
    is gone gets a new one. A text whose job is only late is harmless to queue twice: the
    first job to run sends it, the other finds it sent."""
    with database_of().transaction() as session:
        owed = owed_texts(session, now=dt.datetime.now(dt.UTC))
    for outbound_id in owed:
        jobs_of().enqueue(SEND_TEXT_JOB, outbound_id=str(outbound_id))
    if owed:
        log.info("owed texts queued again", extra={"job": OWED_JOB, "count": len(owed)})


def send_soon(outbound_id: uuid.UUID) -> None:
    """Queue the job that sends a text the caller has committed. If the queue cannot take
    it at that moment (Redis gone since the request began), the text stays owed and the
    sweep queues it (``OWED_AFTER``): the desk is not shown an error for a reply that was
    kept."""
    try:
        jobs_of().enqueue(SEND_TEXT_JOB, outbound_id=str(outbound_id))
    except (RedisError, OSError):
        log.warning("text not queued yet", extra={"event": "queue_unavailable"})


_SETTLED = frozenset({OutboundStatus.DELIVERED, OutboundStatus.FAILED,
                      OutboundStatus.OPTED_OUT, OutboundStatus.HELD})


# What the desk is told of a text Twilio could not deliver, by Twilio's error code.
WHATSAPP_WINDOW_CLOSED = "63016"
NOTICE_UNANSWERED = "notice"  # ours, not Twilio's (theirs are digits): ``expire_held``
UNDELIVERED_REASONS = {
    WHATSAPP_WINDOW_CLOSED: "WhatsApp lets us write freely only within 24 hours of the "
                            "worker's last message; the worker can still read the reply with "
                            "STATUS and their receipt, or on the follow-up page",
    NOTICE_UNANSWERED: "WhatsApp refused it outside its 24-hour window and the worker did not "
                       f"answer WhatsApp's approved notice within {NOTICE_WAIT.days} days; "
                       "they can still read the reply with STATUS and their receipt, or on "
                       "the follow-up page",
    "30003": "the phone was off or out of reach",
    "30004": "the number blocks texts from us",
    "30005": "the number is unknown or no longer in use",
    "30006": "the number cannot receive texts (a landline?)",
    "30007": "the carrier filtered it",
    "30008": "the carrier did not say why",
    GAVE_UP: f"Twilio refused it {SEND_ATTEMPTS} times over several hours; the worker can "
             "still read the reply with STATUS and their receipt, or on the follow-up page",
    # Twilio's refusals when asked to send (``REFUSED_FOR_GOOD``)
    "21211": "the number is not a valid phone number",
    "21408": "our Twilio account may not text that country: once its operator allows it "
             "in Twilio's geographic permissions, the desk can reply again",
    "21612": "the number cannot be reached by text from our number",
    "21614": "the number is not a mobile number (a landline?)",
}
# Twilio's refusals, when asked to send a text, that no retry changes: the text is not
# delivered, the desk's page says why, and it is not tried again (a retry would only keep
# the desk reading "being sent" for hours). Other refusals (a 5xx, a rate limit, our own
# credentials) are retried.
REFUSED_FOR_GOOD = frozenset({"21211", "21408", "21612", "21614"})


def refused_as(code: str) -> OutboundStatus | None:
    """What Twilio's refusal to send (its error code) makes of a text, for good: OPTED_OUT
    (the worker opted out at the carrier) or FAILED (``REFUSED_FOR_GOOD``); None if a retry
    may still send it."""
    if code == OPTED_OUT_AT_CARRIER:
        return OutboundStatus.OPTED_OUT
    return OutboundStatus.FAILED if code in REFUSED_FOR_GOOD else None


def delivery_notes(session: Session, report_ids: Collection[uuid.UUID] | Select[Any]
                   ) -> dict[uuid.UUID, str]:
    """What became of the text of each desk reply of these reports (by message id), in the
    desk's words; replies not texted (the worker said no, or reads the web page) have none.
    ``report_ids``: ids, or a statement that selects them."""
    rows = session.execute(select(OutboundMessage.message_id, OutboundMessage.status,
                                  OutboundMessage.error_code)
                           .where(OutboundMessage.report_id.in_(report_ids),
                                  OutboundMessage.message_id.is_not(None)))
    return {message_id: delivery_note(status, error_code)
            for message_id, status, error_code in rows if message_id is not None}


def delivery_note(status: OutboundStatus, error_code: str | None) -> str:
    """The state of a text to the worker in the desk's words."""
    if status is OutboundStatus.FAILED:
        reason = UNDELIVERED_REASONS.get(error_code or "")
        if reason is None and error_code:
            reason = f"Twilio error {error_code}"
        return "not delivered" + (f": {reason}" if reason else "")
    return _NOTES[status]


_NOTES = {
    OutboundStatus.QUEUED: "waiting to be sent", OutboundStatus.SENDING: "being sent",
    OutboundStatus.SENT: "sent", OutboundStatus.DELIVERED: "delivered",
    OutboundStatus.OPTED_OUT: "not sent: the worker texted STOP",
    OutboundStatus.HELD: "held: WhatsApp lets us write freely only within 24 hours of the "
                         "worker's last message, so we sent WhatsApp's approved notice; the "
                         "reply goes out when the worker answers it (we wait "
                         f"{NOTICE_WAIT.days} days)",
}


def count(session: Session, name: str, by: int = 1) -> None:
    """Add ``by`` to the named counter (created at zero)."""
    updated = session.execute(
        update(Counter).where(Counter.name == name).values(value=Counter.value + by)
    )
    if not getattr(updated, "rowcount", 0):
        session.add(Counter(name=name, value=by))
    session.flush()


def counter(session: Session, name: str) -> int:
    row = session.get(Counter, name)
    return row.value if row else 0


@dataclass(frozen=True)
class TwilioHolds:
    """What Twilio still keeps of ours and what became of our texts: counts and one day,
    never a sid, a number or a minute (``intake sms-stats``)."""

    to_delete: int  # messages still to delete at Twilio
    ours_to_delete: int  # of which we sent (a reply, a receipt, a notice)
    paused: int  # of ours, those Twilio does not let us delete yet
    oldest: dt.date | None  # the day the longest-waiting one was queued
    stuck: int  # queued for deletion more than a day ago
    most_attempts: int
    texts: dict[OutboundStatus, int]  # texts to workers by state


STUCK_AFTER = dt.timedelta(days=1)


def twilio_holds(session: Session, *, now: dt.datetime) -> TwilioHolds:
    pending = PendingDeletion
    total, ours, paused, oldest, stuck, attempts = session.execute(select(
        func.count(), func.count().filter(pending.outbound),
        func.count().filter(pending.not_before > now), func.min(pending.created_at),
        func.count().filter(pending.created_at < now - STUCK_AFTER),
        func.coalesce(func.max(pending.attempts), 0))).one()
    texts = dict(session.execute(select(OutboundMessage.status, func.count())
                                 .group_by(OutboundMessage.status)).tuples().all())
    return TwilioHolds(total, ours, paused, oldest.date() if oldest else None, stuck, attempts,
                       {status: texts.get(status, 0) for status in OutboundStatus})
