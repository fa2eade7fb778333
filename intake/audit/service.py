"""Appending to the audit log and checking its hash chain.

Each event's hash covers the previous event's hash and the event's own fields, so changing,
removing or reordering a stored event breaks every link after it (``verify`` finds the
first). Events name who did what to which object; they never carry a report's words.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from intake.audit.models import AuditEvent
from intake.db import utcnow

GENESIS = bytes(32)
MAX_DETAIL = 200
# Any constant; PostgreSQL's transaction-scoped advisory lock serialises appends so the
# chain never forks under concurrent writers (SQLite allows one writer at a time anyway).
_APPEND_LOCK = 0x1A7D17


@dataclass(frozen=True)
class BrokenLink:
    event_id: int
    reason: str


def event_hash(prev_hash: bytes, event: AuditEvent) -> bytes:
    fields = {
        "at": event.occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "desk": event.desk_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "detail": event.detail,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(b"wvi audit v1\x00" + prev_hash + canonical).digest()


def _head(session: Session) -> bytes:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})
    last = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last if last is not None else GENESIS


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    desk_id: int | None,
    object_type: str | None = None,
    object_id: object = None,
    detail: str | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with the work).

    Lock order: on PostgreSQL the chain's lock is taken here and held until commit, by
    every audited request and job, so it comes last. Take every row lock the work needs
    (FOR UPDATE, an UPDATE or DELETE, an INSERT whose foreign key reads the parent row)
    before the first event: pending ORM changes are flushed before the lock is taken.
    After it, touch only rows this transaction made or holds already, or take rows with
    SKIP LOCKED: a transaction that holds such a row while it waits for the chain would
    otherwise wait for this one while this one waits for it (a deadlock).
    """
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor_id,
        desk_id=desk_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        detail=detail[:MAX_DETAIL] if detail else None,
    )
    event.prev_hash = _head(session)
    event.hash = event_hash(event.prev_hash, event)
    session.add(event)
    session.flush()
    return event


def _in_order(session: Session, batch: int = 1000) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = list(session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ))
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def verify(session: Session) -> tuple[int, BrokenLink | None]:
    """Walk the whole chain: (events checked, the first broken link or None)."""
    expected_prev = GENESIS
    count = 0
    for event in _in_order(session):
        count += 1
        if bytes(event.prev_hash) != expected_prev:
            return count, BrokenLink(event.id, "does not follow the event before it")
        if bytes(event.hash) != event_hash(expected_prev, event):
            return count, BrokenLink(event.id, "was changed after it was written")
        expected_prev = bytes(event.hash)
    return count, None


def desk_events(
    session: Session, desk_id: int, *, before_id: int | None = None, limit: int = 100
) -> list[AuditEvent]:
    """A desk's own events, newest first (keyset pages by id)."""
    query = select(AuditEvent).where(AuditEvent.desk_id == desk_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))
