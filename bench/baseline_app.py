"""Baselines for bench/sms.py, served by gunicorn exactly like the real app.

``/bare`` answers fixed TwiML (what Flask alone costs); ``/insert`` also INSERTs one small
row into PostgreSQL and COMMITs (the least durable work a webhook must do).

``/floor`` does the least that a correct first message needs on this stack, with nothing
else: the Twilio signature, both numbers parsed, the sender tag and its rate limit in
Redis, the conversation row read (no lock: the app writes it only if its version is
unchanged), the reply sealed for replays, one statement writing the conversation, the
idempotency record and the deletion record (data-modifying CTEs), each statement its own
transaction, and TwiML from the Twilio SDK. It does each of these the cheapest way this
stack allows: one signature computed (the SDK's ``validate`` computes two), both statements
compiled once and run on psycopg's own connection (no SQLAlchemy execution), no Flask
extension, no ORM, no conversation logic (the reply is fixed). It shows how near the app
can come to the INSERT baseline on this machine, whatever the app's own code does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import uuid

import phonenumbers
from flask import Flask, Response, request
from limits import parse as parse_limit
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import bindparam, create_engine, select, text
from sqlalchemy.dialects.postgresql import insert
from twilio.request_validator import RequestValidator, compare
from twilio.twiml.messaging_response import MessagingResponse

from crypto.pseudonyms import messagesid_key, messagesid_tag, seal_with_key, sender_tag
from intake.db import table_of
from intake.messaging.inbound import REPLAY_WINDOW
from intake.messaging.models import Conversation, PendingDeletion, ProcessedInbound

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'
engine = create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=4)
autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
app = Flask("baseline")


@app.post("/bare")
def bare() -> Response:
    return Response(TWIML, mimetype="application/xml")


@app.post("/insert")
def insert_row() -> Response:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO bench_rows (payload) VALUES (:p)"), {"p": "x" * 40})
    return Response(TWIML, mimetype="application/xml")


PEPPER = secrets.token_bytes(32)
SENDER_LIMIT = parse_limit("30/10minutes")
limiter = FixedWindowRateLimiter(RedisStorage(os.environ.get("INTAKE_REDIS_URL", "")))
WELCOME = ["Report a problem at work. Reply with the code on the poster or the name of "
           "your workplace. 0: language"]
_CONVERSATION = table_of(Conversation)
_SELECT = select(_CONVERSATION).where(_CONVERSATION.c.sender_tag == bindparam("tag"))


def _values(prefix: str, model: type[Conversation | ProcessedInbound | PendingDeletion]
            ) -> dict[object, object]:
    return {column: bindparam(prefix + column.key, type_=column.type)
            for column in table_of(model).columns}


_WRITE = (
    insert(_CONVERSATION).values(_values("c_", Conversation))
    .add_cte(insert(table_of(ProcessedInbound)).values(_values("p_", ProcessedInbound)).cte("p"))
    .add_cte(insert(table_of(PendingDeletion)).values(_values("d_", PendingDeletion)).cte("d"))
    .on_conflict_do_nothing()  # the driver's random senders may repeat
)


def _e164(raw: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse(raw.removeprefix("whatsapp:"), None),
                                      phonenumbers.PhoneNumberFormat.E164)


_SELECT_SQL = str(_SELECT.compile(dialect=engine.dialect))
_WRITE_SQL = str(_WRITE.compile(dialect=engine.dialect))
VALIDATOR = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
SIGNED_URL = os.environ["INTAKE_PUBLIC_URL"] + "/twilio/sms"
REPLY_STATUS = os.environ["INTAKE_PUBLIC_URL"] + "/twilio/sms/status?reply=1"


@app.post("/floor")
def floor() -> Response:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not compare(VALIDATOR.compute_signature(SIGNED_URL, request.form), signature):
        return Response("invalid signature", status=403)
    form = request.form
    sender, to, sid = _e164(form["From"]), _e164(form["To"]), form["MessageSid"]
    tag = sender_tag(PEPPER, sender)
    if not limiter.hit(SENDER_LIMIT, "sms-sender", tag):
        return Response("<Response/>", mimetype="application/xml")
    now = dt.datetime.now(dt.UTC)
    sealed = seal_with_key(messagesid_key(PEPPER, sid), json.dumps(WELCOME).encode(),
                           context=b"sms reply")
    with autocommit.connect() as connection:  # each statement its own transaction
        driver = connection.connection.driver_connection  # psycopg's own connection
        if driver is None:
            raise RuntimeError("no database connection")
        cursor = driver.cursor()
        cursor.execute(_SELECT_SQL, {"tag": tag})
        cursor.fetchone()
        cursor.execute(_WRITE_SQL, {
            "c_sender_tag": tag, "c_inbound_number": to, "c_whatsapp": False,
            "c_language": "en", "c_step": "workplace", "c_facility_id": None,
            "c_category": None, "c_candidate_facility_id": None, "c_report_id": None,
            "c_return_step": None, "c_invalid_answers": 0, "c_zawgyi": False,
            "c_updated_at": now, "c_version": 0,
            "p_sid_tag": messagesid_tag(PEPPER, sid), "p_processed_at": now,
            "p_reply_sealed": sealed, "p_keep_until": now + REPLAY_WINDOW,
            "d_id": uuid.uuid4(), "d_provider_sid": sid, "d_attempts": 0, "d_created_at": now,
            "d_outbound": False, "d_not_before": None,
        })
        cursor.close()
    answer = MessagingResponse()
    for reply in WELCOME:  # each reply asks for its callbacks, to be deleted at Twilio too
        answer.message(reply, action=REPLY_STATUS, method="POST")
    return Response(str(answer), mimetype="application/xml")
