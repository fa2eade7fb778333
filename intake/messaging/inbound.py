"""Receiving one inbound SMS / WhatsApp message exactly once, whatever Twilio retries.

A ``MessageSid`` already handled changes nothing. Within ``REPLAY_WINDOW`` a retry gets the
same reply as the first time: the reply is kept sealed under a key derived from the
MessageSid and the pepper (neither is stored), then forgotten.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.hierarchy import Argon2Profile
from crypto.pseudonyms import messagesid_key, messagesid_tag, open_with_key, seal_with_key
from intake.db import table_of
from intake.messaging.conversation import Inbound, handle
from intake.messaging.models import PendingDeletion, ProcessedInbound

REPLAY_WINDOW = dt.timedelta(minutes=10)
_CONTEXT = b"sms reply"
# Core statements built once: the ORM's unit of work would cost more CPU than the rest of
# the message (bench/sms.py).
_RECORD_PROCESSED = insert(table_of(ProcessedInbound))
_RECORD_DELETION = insert(table_of(PendingDeletion))


@dataclass(frozen=True)
class Received:
    replies: list[str] = field(repr=False)
    forget_sender: str | None = None


def receive(
    session: Session, *, message_sid: str, inbound: Inbound, pepper: bytes,
    profile: Argon2Profile, now: dt.datetime | None = None,
) -> Received:
    """Handle ``inbound`` and record its MessageSid in the same transaction.

    A MessageSid handled before makes the final INSERT fail on its primary key, which rolls
    the whole transaction back (nothing of the repeat is kept); the caller then answers
    with ``replay``. Checking first would cost every message a round trip for the sake of
    the rare retry.
    """
    now = now or dt.datetime.now(dt.UTC)
    tag = messagesid_tag(pepper, message_sid)
    key = messagesid_key(pepper, message_sid)
    outcome = handle(session, inbound, pepper=pepper, profile=profile, now=now)
    sealed = seal_with_key(key, json.dumps(outcome.replies).encode(), context=_CONTEXT)
    connection = session.connection()
    connection.execute(_RECORD_PROCESSED, {"sid_tag": tag, "processed_at": now,
                                           "reply_sealed": sealed})
    connection.execute(_RECORD_DELETION, {"id": uuid.uuid4(), "provider_sid": message_sid,
                                          "created_at": now, "attempts": 0})
    return Received(replies=outcome.replies,
                    forget_sender=outcome.forget_sender)


def replay(session: Session, *, message_sid: str, pepper: bytes,
           now: dt.datetime | None = None) -> list[str]:
    """The reply a handled message got (a concurrent retry lost the race to store it)."""
    seen = session.get(ProcessedInbound, messagesid_tag(pepper, message_sid))
    if seen is None:
        return []
    return _replay(seen, messagesid_key(pepper, message_sid), now or dt.datetime.now(dt.UTC))


def replay_exists(session: Session, *, message_sid: str, pepper: bytes) -> bool:
    return session.get(ProcessedInbound, messagesid_tag(pepper, message_sid)) is not None


def _replay(seen: ProcessedInbound, key: bytes, now: dt.datetime) -> list[str]:
    if seen.reply_sealed is None or now - seen.processed_at > REPLAY_WINDOW:
        return []
    try:
        replies: list[str] = json.loads(open_with_key(key, seen.reply_sealed, context=_CONTEXT))
    except CryptoError:
        return []
    return replies


def forget_old_replies(session: Session, *, window: dt.timedelta = REPLAY_WINDOW,
                       now: dt.datetime | None = None) -> int:
    """Drop kept replies past ``window``; the tags of handled messages stay for good, so a
    late replay is still recognised (and answered with nothing)."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - window
    result = session.execute(
        update(ProcessedInbound)
        .where(ProcessedInbound.processed_at < cutoff, ProcessedInbound.reply_sealed.is_not(None))
        .values(reply_sealed=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


