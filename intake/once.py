"""Doing a desk form's action once, however often it is sent (a double click, a resend after
a timeout): the form carries a random nonce; the first submission stores its keyed tag with
the result sealed under a key derived from the nonce (as the SMS webhook does with a
MessageSid), and a repeat finds it and shows the same result instead of acting again.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.pseudonyms import messagesid_key, messagesid_tag, open_with_key, seal_with_key
from intake.messaging.inbound import forget_old_replies
from intake.messaging.models import ProcessedInbound

NONCE_CHARS = 24
KEEP_RESULT = dt.timedelta(minutes=10)  # a repeat within this shows the first result


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def valid_nonce(nonce: str) -> bool:
    return len(nonce) == NONCE_CHARS and all(c.isalnum() or c in "-_" for c in nonce)


def _names(nonce: str, pepper: bytes) -> tuple[str, bytes]:
    return messagesid_tag(pepper, "desk:" + nonce), messagesid_key(pepper, "desk:" + nonce)


def done_before(session: Session, nonce: str, *, pepper: bytes) -> tuple[bool, str | None]:
    """Whether this form was handled already, and its result while that is still kept."""
    tag, key = _names(nonce, pepper)
    row = session.get(ProcessedInbound, tag)
    if row is None:
        return False, None
    if row.reply_sealed is None:
        return True, None
    try:
        return True, open_with_key(key, row.reply_sealed, context=b"desk-form").decode()
    except CryptoError:
        return True, None


def remember(session: Session, nonce: str, result: str, *, pepper: bytes) -> None:
    """Record the handling in the caller's transaction. A concurrent duplicate makes the
    commit fail with IntegrityError; the caller then reads ``done_before``."""
    tag, key = _names(nonce, pepper)
    session.add(ProcessedInbound(
        sid_tag=tag, reply_sealed=seal_with_key(key, result.encode(), context=b"desk-form")))
    session.flush()


@dataclass(frozen=True)
class Outcome:
    result: str | None = field(repr=False)  # None: done before, result no longer kept
    repeated: bool


def run_once(session: Session, nonce: str, action: Callable[[], str], *,
             pepper: bytes) -> Outcome:
    """Run ``action`` and commit, unless this nonce was handled before: then return the first
    result. Errors of ``action`` propagate (the caller rolls back and explains)."""
    forget_old_replies(session, window=KEEP_RESULT)
    done, result = done_before(session, nonce, pepper=pepper)
    if done:
        return Outcome(result, repeated=True)
    try:
        result = action()
        remember(session, nonce, result, pepper=pepper)
        session.commit()
    except IntegrityError:  # the same form, sent twice at the same moment
        session.rollback()
        done, result = done_before(session, nonce, pepper=pepper)
        if not done:
            raise
        return Outcome(result, repeated=True)
    return Outcome(result, repeated=False)
