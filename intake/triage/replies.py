"""Replies from the desk to a worker, and reports a desk takes on a worker's behalf."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crypto.hierarchy import Argon2Profile
from intake.accounts.models import Desk
from intake.audit.service import record
from intake.messaging.models import OutboundMessage
from intake.messaging.outbound import queue_text
from intake.messaging.segments import SegmentCount, count_segments
from intake.reports.models import Channel, Report, ReportMessage
from intake.reports.service import NewReport, ReportRejected, add_desk_reply, store_report
from intake.triage.service import TriageRejected, triage_row

MAX_REPLY_CHARS = 1000
ON_BEHALF_CHANNELS = (Channel.PHONE, Channel.IN_PERSON)


@dataclass(frozen=True)
class SentReply:
    message: ReportMessage
    outbound: OutboundMessage | None  # an SMS owed to the worker (the job is queued after commit)
    segments: SegmentCount


def check_reply(text: str) -> str:
    text = text.strip()
    if not text:
        raise TriageRejected("write a reply first")
    if len(text) > MAX_REPLY_CHARS:
        raise TriageRejected(f"a reply can have at most {MAX_REPLY_CHARS} characters")
    return text


def reply(
    session: Session, *, desk_id: int, report_id: uuid.UUID, text: str, actor_id: int
) -> SentReply:
    """Seal a reply to the worker and the desks; owe an SMS when the worker consented."""
    triage_row(session, desk_id, report_id)
    text = check_reply(text)
    report = session.get_one(Report, report_id)
    message = add_desk_reply(session, report, text, author_account_id=actor_id)
    outbound = queue_text(session, report, message, kind="reply")
    record(session, "report.reply", actor_id=actor_id, desk_id=desk_id, object_type="report",
           object_id=report_id, detail="sms" if outbound else "web")
    return SentReply(message=message, outbound=outbound, segments=count_segments(text))


def enter_for_worker(
    session: Session, *, desk: Desk, channel: Channel, language: str, facility_id: int | None,
    categories: Sequence[str], details: str, actor_id: int, profile: Argon2Profile,
) -> str:
    """A report taken by phone or in person: sealed like a web report; returns the receipt
    the monitor reads out or writes down for the worker."""
    if channel not in ON_BEHALF_CHANNELS:
        raise ReportRejected("bad_channel")
    if not details.strip():
        raise ReportRejected("empty")
    row, receipt = store_report(
        session, NewReport(channel=channel, language=language, facility_id=facility_id,
                           categories=categories, details=details.strip()),
        profile=profile, also_desk=desk, entered_by_id=actor_id,
    )
    record(session, "report.enter", actor_id=actor_id, desk_id=desk.id, object_type="report",
           object_id=row.id, detail=f"channel={channel.value}")
    return receipt
