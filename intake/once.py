"""Doing a form's action once, however often it is sent (a double click, a resend after a
timeout, two at the same moment): the form carries a random nonce; the first submission
stores its keyed tag with the result sealed under a key derived from the nonce (as the SMS
webhook does with a MessageSid), and a repeat finds it and shows the same result instead of
acting again. The forms that add a row each time (a desk's, a buyer's, a worker's) go
through ``run_form_once``, and a form without a well-formed nonce is refused
(``NonceInvalid``); the desk's reply and report-entry forms call ``run_once`` themselves.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask import request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.pseudonyms import messagesid_key, messagesid_tag, open_with_key, seal_with_key
from intake.errors import IntakeError
from intake.ext import settings_of
from intake.messaging.inbound import kept_reply
from intake.messaging.models import ProcessedInbound

NONCE_CHARS = 24
KEEP_RESULT = dt.timedelta(minutes=10)  # a repeat within this shows the first result
ALREADY_SAVED = "Already saved (the form was sent twice); it was saved once."


class NonceInvalid(IntakeError):
    """A form without its nonce, or with a malformed one (a page from before the nonce, a
    tampered form): nothing is done, and the form is shown again."""


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def valid_nonce(nonce: str) -> bool:
    return len(nonce) == NONCE_CHARS and all(c.isalnum() or c in "-_" for c in nonce)


def form_nonce(form: Mapping[str, str]) -> str:
    nonce = form.get("nonce", "")
    if not valid_nonce(nonce):
        raise NonceInvalid("the form was incomplete; check it and send it again")
    return nonce


def _names(nonce: str, pepper: bytes, scope: str) -> tuple[str, bytes]:
    named = f"{scope}:{nonce}"
    return messagesid_tag(pepper, named), messagesid_key(pepper, named)


def done_before(session: Session, nonce: str, *, pepper: bytes,
                scope: str = "desk") -> tuple[bool, str | None]:
    """Whether this form was handled already, and its result while that is still kept."""
    tag, key = _names(nonce, pepper, scope)
    row = session.get(ProcessedInbound, tag)
    if row is None:
        return False, None
    sealed = kept_reply(row, dt.datetime.now(dt.UTC))
    if sealed is None:
        return True, None
    try:
        return True, open_with_key(key, sealed, context=b"desk-form").decode()
    except CryptoError:
        return True, None


def remember(session: Session, nonce: str, result: str, *, pepper: bytes,
             scope: str = "desk") -> None:
    """Record the handling in the caller's transaction. A concurrent duplicate makes the
    commit fail with IntegrityError; the caller then reads ``done_before``."""
    tag, key = _names(nonce, pepper, scope)
    session.add(ProcessedInbound(
        sid_tag=tag, reply_sealed=seal_with_key(key, result.encode(), context=b"desk-form"),
        keep_until=dt.datetime.now(dt.UTC) + KEEP_RESULT))
    session.flush()


@dataclass(frozen=True)
class Outcome:
    result: str | None = field(repr=False)  # None: done before, result no longer kept
    repeated: bool


def run_once(session: Session, nonce: str, action: Callable[[], str], *,
             pepper: bytes, scope: str = "desk") -> Outcome:
    """Run ``action`` and commit, unless this nonce was handled before: then return the first
    result. ``scope`` names the form, so that forms never answer for each other ("desk":
    the reply and report-entry forms, which had the scope before the others came).

    When the same form, sent at the same moment, got through first, this one answers as a
    repeat, even if its action failed meanwhile because of the other (a duplicate key, a
    report the other put in its case). Other errors of ``action`` propagate (the caller
    rolls back and explains)."""
    done, result = done_before(session, nonce, pepper=pepper, scope=scope)
    if done:
        return Outcome(result, repeated=True)
    try:
        result = action()
        remember(session, nonce, result, pepper=pepper, scope=scope)
        session.commit()
    except (IntegrityError, IntakeError):
        session.rollback()
        done, result = done_before(session, nonce, pepper=pepper, scope=scope)
        if not done:
            raise
        return Outcome(result, repeated=True)
    return Outcome(result, repeated=False)


def run_form_once(session: Session, action: Callable[[], str]) -> Outcome:
    """``run_once`` for the form of this request: its ``nonce`` field, the app's pepper, and
    the view's endpoint as the scope. ``NonceInvalid`` (before anything is done) when the
    form has no well-formed nonce."""
    return run_once(session, form_nonce(request.form), action, pepper=settings_of().pepper,
                    scope=f"form:{request.endpoint}")
