"""Receiving one inbound SMS / WhatsApp message exactly once, whatever Twilio retries.

A ``MessageSid`` already handled changes nothing. Within ``REPLAY_WINDOW`` a retry gets the
same reply as the first time: the reply is kept sealed under a key derived from the
MessageSid and the pepper (neither is stored), then forgotten.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.hierarchy import Argon2Profile
from crypto.pseudonyms import (
    messagesid_key,
    messagesid_tag,
    open_with_key,
    seal_with_key,
    sender_tag,
)
from intake.db import Database, table_of
from intake.ext import database_of
from intake.messaging.conversation import (
    Companion,
    Conflict,
    Inbound,
    Loaded,
    Turn,
    handle,
    hold,
    load,
    outcome_of,
    store,
    store_alone,
    take_turn,
)
from intake.messaging.models import PendingDeletion, ProcessedInbound

log = logging.getLogger(__name__)
REPLAY_WINDOW = dt.timedelta(minutes=10)
ATTEMPTS = 5  # a message clashes only with another of the same sender, which then got through
_CONTEXT = b"sms reply"
_PROCESSED = table_of(ProcessedInbound)
_DELETIONS = table_of(PendingDeletion)


@dataclass(frozen=True)
class Received:
    replies: list[str] = field(repr=False)
    forget_sender: str | None = None
    release_for: str | None = None  # a sender_tag whose held texts go out, once committed


def receive(
    database: Database, *, message_sid: str, inbound: Inbound, pepper: bytes,
    profile: Argon2Profile, now: dt.datetime | None = None, tag: str | None = None,
) -> Received | None:
    """Handle ``inbound`` and record its MessageSid with it, atomically. ``tag``: the
    sender's tag, if the caller has computed it already (for the sender's rate limit).

    None means the MessageSid was handled before (a retry racing the first delivery): the
    caller answers with ``replay``. A MessageSid handled before makes the record's INSERT
    fail on its primary key, which undoes the whole attempt; checking first would cost every
    message a round trip for the sake of the rare retry.
    """
    now = now or dt.datetime.now(dt.UTC)
    tag = tag or sender_tag(pepper, inbound.sender)
    for attempt in range(ATTEMPTS):
        try:
            if attempt == 0:
                return _receive(database, message_sid=message_sid, inbound=inbound, tag=tag,
                                pepper=pepper, profile=profile, now=now)
            return _receive_locked(database, message_sid=message_sid, inbound=inbound,
                                   pepper=pepper, profile=profile, now=now)
        except Conflict:
            continue  # another message of this sender came first: handle this one after it
        except IntegrityError:
            with database.transaction() as session:
                if replay_exists(session, message_sid=message_sid, pepper=pepper):
                    return None
            # else a concurrent first message of this sender began the conversation
    raise RuntimeError("conversation clash persisted")


def _receive(database: Database, *, message_sid: str, inbound: Inbound, tag: str,
             pepper: bytes, profile: Argon2Profile, now: dt.datetime) -> Received:
    """The first attempt: no lock. A turn that used no other table is written in one
    statement on PostgreSQL (two round trips for the whole message)."""
    with database.autocommit.connect() as connection:
        loaded = load(connection, tag, inbound, now)
        turn = Turn(lambda: _held(database, loaded), inbound, tag, loaded.conversation,
                    profile, now)
        try:
            take_turn(turn)
            if turn.used_database():
                # The turn used other tables (a report, its words, a receipt, STOP): its
                # writes, the row's and the records commit together.
                outcome = outcome_of(turn, silent=store(turn.session, turn, loaded))
                _record(turn.session, _records(message_sid, outcome.replies, pepper, now))
                turn.session.commit()
            else:
                outcome = outcome_of(turn, silent=loaded.is_new and loaded.opted_out)
                store_alone(database, connection, turn, loaded,
                            _records(message_sid, outcome.replies, pepper, now))
        finally:
            if turn.opened is not None:
                turn.opened.close()
    return Received(replies=outcome.replies, forget_sender=outcome.forget_sender,
                    release_for=outcome.release_for)


def _held(database: Database, loaded: Loaded) -> Session:
    """The turn's session, opened when a step first needs a table: the sender's row is
    locked first (``hold``)."""
    session = database.session_factory()
    try:
        hold(session, loaded)
    except BaseException:
        session.close()
        raise
    return session


def _receive_locked(database: Database, *, message_sid: str, inbound: Inbound, pepper: bytes,
                    profile: Argon2Profile, now: dt.datetime) -> Received:
    """After a clash: the sender's row locked for the whole turn, so it cannot clash again."""
    with database.transaction() as session:
        outcome = handle(session, inbound, pepper=pepper, profile=profile, now=now)
        _record(session, _records(message_sid, outcome.replies, pepper, now))
    return Received(replies=outcome.replies, forget_sender=outcome.forget_sender,
                    release_for=outcome.release_for)


def _record(session: Session, records: list[Companion]) -> None:
    for table, values in records:
        session.connection().execute(insert(table), values)


def _records(message_sid: str, replies: list[str], pepper: bytes,
             now: dt.datetime) -> list[Companion]:
    """The idempotency record (the reply sealed for replays) and the deletion at Twilio."""
    sealed = seal_with_key(messagesid_key(pepper, message_sid), json.dumps(replies).encode(),
                           context=_CONTEXT)
    return [
        (_PROCESSED, {"sid_tag": messagesid_tag(pepper, message_sid), "processed_at": now,
                      "reply_sealed": sealed, "keep_until": now + REPLAY_WINDOW}),
        (_DELETIONS, {"id": uuid.uuid4(), "provider_sid": message_sid, "created_at": now,
                      "attempts": 0, "outbound": False, "not_before": None}),
    ]


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
    sealed = kept_reply(seen, now)
    if sealed is None:
        return []
    try:
        replies: list[str] = json.loads(open_with_key(key, sealed, context=_CONTEXT))
    except CryptoError:
        return []
    return replies


def kept_reply(seen: ProcessedInbound, now: dt.datetime) -> bytes | None:
    """The sealed reply of a handled message or form while it is kept (the sweep below may
    not have dropped it yet at the moment its window ends)."""
    until = seen.keep_until or seen.processed_at + LONGEST_KEEP
    return seen.reply_sealed if now < until else None


# The longest any kept reply is kept (the web's receipt): for rows from before each row said
# how long (``keep_until`` is None).
LONGEST_KEEP = dt.timedelta(hours=1)
FORGET_JOB = "intake.messaging.inbound.forget_replies_job"
SWEEP_BATCH = 1000


def forget_old_replies(session: Session, *, now: dt.datetime | None = None,
                       batch: int = SWEEP_BATCH) -> int:
    """Drop up to ``batch`` kept replies whose window has passed; the number dropped.

    The tag of a handled message stays for good, so a late repeat (a captured request sent
    again, its signature still valid) is still recognised and answered with nothing. Its
    moment is cut to the day as its reply goes: no row keeps the minute of a message past
    the few minutes a repeat needs it (DESIGN 2, coarse time). Rows another sweep is
    dropping are skipped (SKIP LOCKED), never waited for."""
    now = now or dt.datetime.now(dt.UTC)
    due = session.execute(
        select(ProcessedInbound.sid_tag, ProcessedInbound.processed_at)
        .where(ProcessedInbound.reply_sealed.is_not(None),
               or_(ProcessedInbound.keep_until < now,
                   and_(ProcessedInbound.keep_until.is_(None),
                        ProcessedInbound.processed_at < now - LONGEST_KEEP)))
        .limit(batch).with_for_update(skip_locked=True)).all()
    by_day: dict[dt.datetime, list[str]] = {}
    for tag, processed_at in due:
        by_day.setdefault(_day_of(processed_at), []).append(tag)
    for day, tags in by_day.items():
        session.execute(
            update(ProcessedInbound).where(ProcessedInbound.sid_tag.in_(tags))
            .values(reply_sealed=None, keep_until=None, processed_at=day)
            .execution_options(synchronize_session=False))
    return len(due)


def _day_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def forget_replies_job() -> None:
    """The periodic sweep (``intake.schedule``): replies are dropped within its interval of
    their window's end, whatever else happens on the install; a backlog (an install that
    kept replies before this sweep existed) goes in batches, each its own transaction."""
    dropped = 0
    while True:
        with database_of().transaction() as session:
            done = forget_old_replies(session, batch=SWEEP_BATCH)
        dropped += done
        if done < SWEEP_BATCH:
            break
    if dropped:  # it runs every minute: a line only when it did something
        log.info("kept replies dropped", extra={"job": FORGET_JOB, "count": dropped})


