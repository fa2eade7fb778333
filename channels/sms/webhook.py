"""``POST /twilio/sms`` and ``/twilio/sms/status``: check Twilio's signature, parse the fields,
call the ``intake`` messaging service, answer with TwiML. No outbound call happens inline.
"""

from __future__ import annotations

import datetime as dt
import functools

import phonenumbers
from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from limits import parse as parse_limit
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator, compare
from twilio.twiml.messaging_response import MessagingResponse

from crypto.pseudonyms import sender_tag
from intake.ext import database_of, jobs_of, settings_of
from intake.kdf import argon2_profile
from intake.limits import allowed
from intake.messaging.conversation import Inbound, fixed_replies
from intake.messaging.inbound import receive, replay
from intake.messaging.outbound import (
    FINISHED,
    NUDGE_JOB,
    RELEASE_JOB,
    delete_at_twilio_later,
    record_status,
)
from intake.rotation.optouts import carry_over

sms = Blueprint("sms", __name__)

REQUIRED = ("MessageSid", "From", "To", "Body")
SENDER_LIMIT = parse_limit("30/10minutes")
MAX_FIELD = 1700
MAX_SID = 64  # the column that keeps a MessageSid for its deletion at Twilio; Twilio's have 34


def _signature_ok() -> bool:
    settings = settings_of()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.twilio_auth_token:
        return False
    url = settings.public_url + request.full_path.rstrip("?")
    validator = _validator(settings.twilio_auth_token)
    # The URL as configured is one of the two that ``validate`` tries (with and without a
    # port), each time computing both: a request signed for it is accepted after one.
    if compare(validator.compute_signature(url, request.form), signature):
        return True
    return bool(validator.validate(url, request.form, signature))


_validator = functools.lru_cache(maxsize=4)(RequestValidator)


REPLY_STATUS = "/twilio/sms/status?reply=1"


def twiml(replies: list[str]) -> Response:
    """The TwiML answer. Each reply asks for its status callbacks (``REPLY_STATUS``), so
    that it is deleted at Twilio once sent, as the worker's own messages are: a receipt
    must not stay readable in Twilio's logs."""
    action = settings_of().public_url + REPLY_STATUS
    key = (action, *replies)
    body = _FIXED_TWIML.get(key)
    if body is None:
        answer = MessagingResponse()
        for text in replies:
            answer.message(text, action=action, method="POST")
        body = str(answer)
        if len(_FIXED_TWIML) < MAX_FIXED_TWIML and fixed_replies().issuperset(replies):
            _FIXED_TWIML[key] = body
    return Response(body, mimetype="application/xml", headers={"Cache-Control": "no-store"})


# Most answers are menus and fixed prompts: their TwiML is built once per process. Only
# replies that hold nothing of any worker's are kept (``fixed_replies``), never a receipt,
# an answer from the desk or anything else a worker was told alone.
_FIXED_TWIML: dict[tuple[str, ...], str] = {}  # (action URL, *replies) -> TwiML
MAX_FIXED_TWIML = 1024


def parse_sender(raw: str) -> tuple[str, bool] | None:
    """``(E.164, is_whatsapp)`` from Twilio's ``From``; None if it is not a phone number.

    A number of a length phonenumbers does not expect for its country is taken as Twilio
    gave it, up to E.164's 15 digits: Twilio signed it, and refusing it would lose the
    worker's words. WhatsApp names every Mexican mobile that way, with the "1" Mexico's
    dial plan dropped in 2019 (+52 1 33 1234 5678: 13 digits where phonenumbers expects
    12); the worker is answered at the number as it came. One too short for its country is
    no number.
    """
    whatsapp = raw.startswith("whatsapp:")
    number = raw.removeprefix("whatsapp:")
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != _POSSIBLE and not (reason in _LONGER and len(e164) - 1 <= E164_DIGITS):
        return None
    return e164, whatsapp


_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE
_LONGER = (phonenumbers.ValidationResult.TOO_LONG, phonenumbers.ValidationResult.INVALID_LENGTH)
E164_DIGITS = 15  # at most, country code included (ITU-T E.164)


# Our own numbers: a handful, parsed once.
_our_number = functools.lru_cache(maxsize=64)(parse_sender)


@sms.post("/twilio/sms")
def inbound() -> ResponseReturnValue:
    if not _signature_ok():
        return Response("invalid signature", status=403, mimetype="text/plain")
    form = request.form
    if any(name not in form for name in REQUIRED) or len(form["MessageSid"]) > MAX_SID or any(
            len(form[name]) > MAX_FIELD for name in ("From", "To")):
        return Response("missing or malformed field", status=400, mimetype="text/plain")
    sender = parse_sender(form["From"])
    to = _our_number(form["To"])
    if sender is None or to is None:
        return Response("From and To must be phone numbers", status=400, mimetype="text/plain")
    try:
        media = max(int(form.get("NumMedia", "0") or 0), 0)
    except ValueError:
        return Response("NumMedia must be a number", status=400, mimetype="text/plain")
    settings = settings_of()
    tag = sender_tag(settings.pepper, sender[0])
    if not allowed("sms-sender", SENDER_LIMIT, tag):
        return twiml([])  # a flood gets silence, which costs the worker nothing
    if settings.retired_peppers:
        _carry_over_opt_out(sender[0])
    message = Inbound(sender=sender[0], to=to[0], body=form["Body"], whatsapp=sender[1],
                      media_count=media, button=bool(form.get("ButtonPayload")))
    now = dt.datetime.now(dt.UTC)
    received = receive(database_of(), message_sid=form["MessageSid"], inbound=message,
                       pepper=settings.pepper, profile=argon2_profile(settings), tag=tag,
                       now=now)
    if received is None:  # the same MessageSid, handled at this moment by another process
        with database_of().transaction() as session:
            return twiml(replay(session, message_sid=form["MessageSid"],
                                pepper=settings.pepper))
    jobs = jobs_of()
    if received.forget_sender:
        jobs.enqueue("channels.sms.outbound.forget_number", tag=received.forget_sender,
                     stopped_at=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    if received.release_for:
        jobs.enqueue(RELEASE_JOB, tag=received.release_for)
    jobs.enqueue_coalesced("channels.sms.outbound.sweep_deletions")
    return twiml(received.replies)


def _carry_over_opt_out(number: str) -> None:
    """A STOP recorded under a retired pepper moves to this pepper's tag before the message
    is handled, so the conversation sees it (and START can lift it)."""
    settings = settings_of()
    try:
        with database_of().transaction() as session:
            carry_over(session, number, pepper=settings.pepper, retired=settings.retired_peppers)
    except IntegrityError:
        pass  # a concurrent message from the same number carried it over first


@sms.post("/twilio/sms/status")
def status() -> ResponseReturnValue:
    """Delivery state of a text we sent: records the state only, never content, and queues
    a text that has left (or failed) for deletion at Twilio."""
    if not _signature_ok():
        return Response("invalid signature", status=403, mimetype="text/plain")
    sid = request.form.get("MessageSid", "")
    state = request.form.get("MessageStatus", "")
    if not sid or not state or len(sid) > MAX_SID or len(state) > 32:
        return Response("missing field", status=400, mimetype="text/plain")
    error_code = request.form.get("ErrorCode", "")[:8]
    now = dt.datetime.now(dt.UTC)
    if request.args.get("reply") == "1":
        # A TwiML reply (``REPLY_STATUS``): no row of ours says anything of it; once it has
        # left, it goes at Twilio. One statement: most replies bring two callbacks.
        if state in FINISHED:
            with database_of().autocommit.connect() as connection:
                delete_at_twilio_later(connection, sid, now=now)
        return Response("", status=204)
    with database_of().transaction() as session:
        recorded = record_status(session, provider_sid=sid, status=state, error_code=error_code,
                                 now=now, can_nudge=bool(settings_of().whatsapp_templates))
        # An unknown sid may be a text whose sending job has not committed yet: it is deleted
        # after a later callback, never while that job may still look for it at Twilio.
        if recorded.known and state in FINISHED:
            delete_at_twilio_later(session.connection(), sid, now=now)
    if recorded.nudge is not None:
        jobs_of().enqueue(NUDGE_JOB, outbound_id=str(recorded.nudge))
    return Response("", status=204)
