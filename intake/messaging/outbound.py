"""Texts we owe workers (desk replies, remedy questions) and what Twilio says of them.

The web process cannot read a phone number: numbers and outbound texts are sealed to the
courier key, which only ``intake worker`` holds (DESIGN 4.4). This module only records;
the sending job lives in ``channels.sms.outbound``.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.messaging.models import Counter, OutboundMessage, OutboundStatus
from intake.reports.models import Report, ReportMessage

OPTED_OUT_AT_CARRIER = "21610"
# The job that sends one owed text (in ``channels.sms``; named, not imported: intake may
# not import channels).
SEND_TEXT_JOB = "channels.sms.outbound.send_outbound"
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


def record_status(session: Session, *, provider_sid: str, status: str, error_code: str,
                  now: dt.datetime) -> None:
    """Record Twilio's delivery state for one of our texts (unknown sids are ignored)."""
    outbound = session.scalar(
        select(OutboundMessage).where(OutboundMessage.provider_sid == provider_sid)
    )
    if outbound is None:
        return
    if error_code == OPTED_OUT_AT_CARRIER:
        outbound.status = OutboundStatus.OPTED_OUT
    elif status in _DELIVERY:
        outbound.status = _DELIVERY[status]
    session.flush()


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
