"""Texts to workers and deletions at Twilio go through jobs to the REST API (a local fake)."""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from email.utils import format_datetime

import pytest
from flask import Flask
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import delete, select, update

from channels.sms.outbound import sweep_deletions, sweep_left_at_twilio
from intake.accounts.models import SmsNumber
from intake.db import Database
from intake.messaging import prompts
from intake.messaging.models import (
    Conversation,
    OutboundMessage,
    OutboundStatus,
    PendingDeletion,
)
from intake.messaging.outbound import (
    OWED_AFTER,
    RETRIES_OVER,
    SEND_ATTEMPTS,
    counter,
    delivery_notes,
    queue_text,
    send_soon,
    sweep_owed_job,
)
from intake.reports.models import Report
from intake.reports.service import add_desk_reply
from tests.sms.conftest import (
    MX_NUMBER,
    MY_NUMBER,
    RECEIPT,
    Phone,
    SmsWorld,
    new_sid,
    run_jobs,
    say,
)
from tests.twilio_fake import TwilioFake

WORDS = "CANARY-WORDS the line leader hit Ana"


def database(app: Flask) -> Database:
    return app.extensions["intake.db"]  # type: ignore[no-any-return]


def report_by_sms(phone: Phone, *, consent: bool) -> None:
    phone.text("MY4821")
    phone.text("5")
    phone.text(WORDS + " #")
    phone.text("1" if consent else "2")


def reply_owed(app: Flask, text: str) -> uuid.UUID | None:
    """The desk's reply to the only report, and the text owed for it (None if the worker
    said no to texts), with no job queued to send it."""
    with database(app).transaction() as session:
        report = session.scalars(select(Report)).one()
        message = add_desk_reply(session, report, text, author_account_id=None)
        outbound = queue_text(session, report, message, kind="reply")
        return outbound.id if outbound else None


def reply_and_queue(app: Flask, text: str) -> uuid.UUID | None:
    outbound_id = reply_owed(app, text)
    if outbound_id:
        app.extensions["intake.jobs"].enqueue("channels.sms.outbound.send_outbound",
                                              outbound_id=str(outbound_id))
    return outbound_id


def outbound_status(app: Flask, outbound_id: uuid.UUID) -> OutboundStatus:
    with database(app).transaction() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row is not None
        return row.status


@pytest.mark.parametrize("whatsapp", [False, True])
def test_reply_is_texted_to_a_worker_who_said_yes(phone: Phone, sms_world: SmsWorld,
                                                  sms_app: Flask, twilio: TwilioFake,
                                                  whatsapp: bool) -> None:
    """On the channel the worker wrote on: a WhatsApp worker is answered on WhatsApp."""
    phone.whatsapp = whatsapp
    report_by_sms(phone, consent=True)
    outbound_id = reply_and_queue(sms_app, "We will call the manager today.")
    assert outbound_id is not None
    run_jobs(sms_app)
    [sent] = twilio.created()
    channel = "whatsapp:" if whatsapp else ""
    assert sent.form["To"] == channel + phone.number
    assert sent.form["From"] == channel + "+60326000100"
    assert sent.form["Body"] == "We will call the manager today."
    assert sent.form["StatusCallback"] == "https://intake.test/twilio/sms/status"
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT
    # Their answer comes on the same channel, and what follows stays on it.
    assert phone.text("Thank you") == [say(sms_app, prompts.ANSWER_ADDED, "en")]
    with database(sms_app).transaction() as session:
        assert session.scalars(select(Conversation.whatsapp)).one() is whatsapp


def test_a_mexican_whatsapp_worker_is_answered_at_the_number_whatsapp_gave(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """WhatsApp writes a Mexican mobile with its old "1" (+52 1 ...): the report is made,
    and the desk's reply goes back to that number as it came, on WhatsApp."""
    phone.number, phone.to, phone.whatsapp = "+5213312345678", MX_NUMBER, True
    phone.text("MX2045")
    phone.text("1")
    phone.text("No nos pagan las horas extra #")
    assert RECEIPT.search(phone.text("1")[0])
    reply_and_queue(sms_app, "Recibimos su mensaje.")
    run_jobs(sms_app)
    [sent] = twilio.created()
    assert (sent.form["To"], sent.form["From"]) == ("whatsapp:+5213312345678",
                                                    "whatsapp:" + MX_NUMBER)


def test_the_reply_comes_from_the_number_the_worker_wrote_to(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """A worker who texted our Mexican number about a Malaysian workplace is answered from
    the number they wrote to (one thread on their phone), while we still operate it."""
    phone.to = MX_NUMBER
    report_by_sms(phone, consent=True)
    reply_and_queue(sms_app, "Recibimos su mensaje.")
    run_jobs(sms_app)
    with database(sms_app).transaction() as session:
        session.execute(delete(SmsNumber).where(SmsNumber.number == MX_NUMBER))
    reply_and_queue(sms_app, "Hablamos con la fabrica.")
    run_jobs(sms_app)
    assert [(call.form["From"], call.form["Body"]) for call in twilio.created()] == [
        (MX_NUMBER, "Recibimos su mensaje."),
        (MY_NUMBER, "Hablamos con la fabrica."),  # no longer ours: the workplace country's
    ]


def test_no_text_to_a_worker_who_said_no(phone: Phone, sms_world: SmsWorld, sms_app: Flask,
                                         twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=False)
    assert reply_and_queue(sms_app, "hello") is None
    run_jobs(sms_app)
    assert twilio.created() == []


def test_send_is_retried_after_a_500(phone: Phone, sms_world: SmsWorld, sms_app: Flask,
                                     twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=True)
    run_jobs(sms_app)
    twilio.fail_next(1, status=500)
    outbound_id = reply_and_queue(sms_app, "retry me")
    assert outbound_id is not None
    run_jobs(sms_app)
    assert len(twilio.created()) == 2
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT


def test_carrier_opt_out_is_recorded_and_never_retried(phone: Phone, sms_world: SmsWorld,
                                                       sms_app: Flask,
                                                       twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=True)
    run_jobs(sms_app)
    twilio.fail_next(1, status=400, code=21610)
    outbound_id = reply_and_queue(sms_app, "are you there")
    assert outbound_id is not None
    run_jobs(sms_app)
    assert len(twilio.created()) == 1
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.OPTED_OUT


@pytest.mark.parametrize(("code", "reason"), [
    (21614, "the number is not a mobile number (a landline?)"),
    (21211, "the number is not a valid phone number"),
    (21408, "our Twilio account may not text that country"),
])
def test_a_refusal_no_retry_changes_fails_the_text_at_once_and_the_desk_is_told_why(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake, code: int,
        reason: str) -> None:
    """Twilio refuses to send to a landline (21614) or a number that is no number: the text
    was retried for hours while the desk read "being sent", and then stayed so for good."""
    report_by_sms(phone, consent=True)
    run_jobs(sms_app)
    twilio.fail_next(1, status=400, code=code)
    outbound_id = reply_and_queue(sms_app, "can you call us")
    assert outbound_id is not None
    run_jobs(sms_app)
    assert len(twilio.created()) == 1  # not tried again
    with database(sms_app).transaction() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row is not None
        assert (row.status, row.error_code) == (OutboundStatus.FAILED, str(code))
        [note] = delivery_notes(session, [row.report_id]).values()
    assert note.startswith(f"not delivered: {reason}")


def test_a_refusal_a_retry_may_change_is_retried(phone: Phone, sms_world: SmsWorld,
                                                 sms_app: Flask, twilio: TwilioFake) -> None:
    """Too many requests (429), or a refusal we do not know to be final: tried again."""
    report_by_sms(phone, consent=True)
    run_jobs(sms_app)
    twilio.fail_next(1, status=429, code=20429)
    outbound_id = reply_and_queue(sms_app, "try again")
    assert outbound_id is not None
    run_jobs(sms_app)
    assert len(twilio.created()) == 2
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT


def sweep_owed(app: Flask) -> None:
    with app.app_context():
        sweep_owed_job()
    run_jobs(app)


def written_ago(app: Flask, outbound_id: uuid.UUID, ago: dt.timedelta, **values: object
                ) -> None:
    with database(app).transaction() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.id == outbound_id)
                        .values(created_at=dt.datetime.now(dt.UTC) - ago, **values))


def test_a_text_whose_job_was_lost_is_sent_by_the_sweep_once(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """Redis restarted without its data, or was down when the desk replied: the text stayed
    "waiting to be sent" for good."""
    report_by_sms(phone, consent=True)
    run_jobs(sms_app)
    outbound_id = reply_owed(sms_app, "We met the manager.")  # and no job queued for it
    assert outbound_id is not None
    sweep_owed(sms_app)
    assert twilio.created() == []  # its job may only be late yet
    written_ago(sms_app, outbound_id, OWED_AFTER + dt.timedelta(minutes=1))
    sweep_owed(sms_app)
    sweep_owed(sms_app)
    [sent] = twilio.created()
    assert sent.form["Body"] == "We met the manager."
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT


def test_a_text_twilio_keeps_refusing_fails_at_its_last_try_and_the_desk_is_told(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """Its job's retries ran out with the text "being sent": the sweep tries it again, and
    at the last try a refusal fails it, with Twilio's code for the desk."""
    report_by_sms(phone, consent=True)
    run_jobs(sms_app)
    twilio.fail_next(4, status=500, method="POST")  # each try of its job (tests retry 3 times)
    outbound_id = reply_and_queue(sms_app, "Are you safe?")
    assert outbound_id is not None
    run_jobs(sms_app)
    assert len(twilio.created()) == 4
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENDING  # "being sent"
    sweep_owed(sms_app)
    assert len(twilio.created()) == 4  # its job's retries may not be over yet
    written_ago(sms_app, outbound_id, RETRIES_OVER + dt.timedelta(minutes=1))
    twilio.fail_next(SEND_ATTEMPTS - 4, status=400, code=30001, method="POST")
    for _ in range(SEND_ATTEMPTS):
        sweep_owed(sms_app)
    assert len(twilio.created()) == SEND_ATTEMPTS  # then no more
    with database(sms_app).transaction() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row is not None
        assert (row.status, row.error_code) == (OutboundStatus.FAILED, "30001")
        [note] = delivery_notes(session, [row.report_id]).values()
    assert note == "not delivered: Twilio error 30001"


def test_a_desk_reply_is_kept_and_texted_later_when_the_queue_is_down(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    report_by_sms(phone, consent=True)
    run_jobs(sms_app)
    jobs = sms_app.extensions["intake.jobs"]

    def redis_down(*_args: object, **_kwargs: object) -> None:
        raise RedisConnectionError("Connection refused")

    outbound_id = reply_owed(sms_app, "We are on it.")
    assert outbound_id is not None
    with sms_app.app_context(), monkeypatch.context() as patched:
        patched.setattr(jobs, "enqueue", redis_down)
        send_soon(outbound_id)  # no exception: the reply is kept, the text owed
    assert "text not queued yet" in caplog.messages
    written_ago(sms_app, outbound_id, OWED_AFTER + dt.timedelta(minutes=1))
    sweep_owed(sms_app)
    assert [c.form["Body"] for c in twilio.created()] == ["We are on it."]


def test_status_callback_records_delivery(phone: Phone, sms_world: SmsWorld, sms_app: Flask,
                                          twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=True)
    outbound_id = reply_and_queue(sms_app, "delivered?")
    assert outbound_id is not None
    run_jobs(sms_app)
    with database(sms_app).transaction() as session:
        sid = session.get(OutboundMessage, outbound_id).provider_sid  # type: ignore[union-attr]
    assert sid
    response = phone.post({"MessageSid": sid, "MessageStatus": "delivered"},
                          path="/twilio/sms/status")
    assert response.status_code == 204
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.DELIVERED


def test_every_inbound_message_is_deleted_at_twilio(phone: Phone, sms_world: SmsWorld,
                                                    sms_app: Flask, twilio: TwilioFake) -> None:
    sids = []
    for body in ("MY4821", "1", WORDS, "#", "2"):
        params = phone.params(body)
        sids.append(params["MessageSid"])
        assert phone.post(params).status_code == 200
    run_jobs(sms_app)
    deleted = {call.path.rsplit("/", 1)[-1].removesuffix(".json") for call in twilio.deleted()}
    assert deleted == set(sids)
    with database(sms_app).transaction() as session:
        assert session.scalars(select(PendingDeletion)).all() == []
        assert counter(session, "twilio_inbound_deleted") == 5


def deleted_sids(twilio: TwilioFake) -> list[str]:
    return [call.path.rsplit("/", 1)[-1].removesuffix(".json") for call in twilio.deleted()]


def sweep_now(app: Flask, *, minutes_later: float = 0) -> None:
    """Run the deletion sweep as if ``minutes_later`` had passed (ours wait a little)."""
    with database(app).transaction() as session:
        for row in session.scalars(select(PendingDeletion)
                                   .where(PendingDeletion.not_before.is_not(None))):
            assert row.not_before is not None
            row.not_before -= dt.timedelta(minutes=minutes_later)
    with app.app_context():
        sweep_deletions()


def test_every_reply_in_twiml_is_deleted_at_twilio_once_sent(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """A receipt must not stay readable in Twilio's logs: each TwiML reply asks for its
    callbacks, and the first that says it left queues its deletion (after Twilio's pause)."""
    phone.text("MY4821")
    phone.text("1")
    phone.text(WORDS + " #")
    response = phone.post(phone.params("2"))
    root = ET.fromstring(response.get_data(as_text=True))  # noqa: S314 - the app's own TwiML
    [message] = root.iter("Message")
    assert RECEIPT.search(message.text or "")
    assert message.get("action") == "https://intake.test/twilio/sms/status?reply=1"
    assert message.get("method") == "POST"
    run_jobs(sms_app)  # the inbound messages' own deletions
    inbound_deleted = len(twilio.deleted())
    reply_sid = new_sid()  # as Twilio names the reply it sent
    for state in ("sent", "delivered"):
        answer = phone.post({"MessageSid": reply_sid, "MessageStatus": state},
                            path="/twilio/sms/status?reply=1")
        assert answer.status_code == 204
    sweep_now(sms_app)
    assert len(twilio.deleted()) == inbound_deleted, "not before Twilio lets us"
    sweep_now(sms_app, minutes_later=3)
    assert deleted_sids(twilio)[inbound_deleted:] == [reply_sid]
    with database(sms_app).transaction() as session:
        assert session.scalars(select(PendingDeletion)).all() == []
        assert counter(session, "twilio_outbound_deleted") == 1
        assert counter(session, "twilio_inbound_deleted") == 4


def test_a_text_we_sent_is_deleted_at_twilio_and_an_unknown_one_is_not(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """An unknown sid without the TwiML marker may be a text whose sending job has not
    committed yet (and may look for it at Twilio): it is left alone."""
    report_by_sms(phone, consent=True)
    outbound_id = reply_and_queue(sms_app, "We will call the manager today.")
    assert outbound_id is not None
    run_jobs(sms_app)
    before = len(twilio.deleted())
    sent_sid = twilio.messages[-1]["sid"]
    for sid, state in [(sent_sid, "queued"), (new_sid(), "delivered"), (sent_sid, "delivered")]:
        answer = phone.post({"MessageSid": sid, "MessageStatus": state},
                            path="/twilio/sms/status")
        assert answer.status_code == 204
    sweep_now(sms_app, minutes_later=3)
    assert deleted_sids(twilio)[before:] == [sent_sid]
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.DELIVERED


def test_deletion_is_retried_after_a_500(phone: Phone, sms_world: SmsWorld, sms_app: Flask,
                                         twilio: TwilioFake) -> None:
    twilio.fail_next(2, status=500)
    params = phone.params("hello")
    phone.post(params)
    run_jobs(sms_app)
    assert len(twilio.deleted()) == 3
    with database(sms_app).transaction() as session:
        assert session.scalars(select(PendingDeletion)).all() == []


def test_no_call_to_twilio_carries_report_words(phone: Phone, sms_world: SmsWorld,
                                                sms_app: Flask, twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=True)
    reply_and_queue(sms_app, "desk reply only")
    run_jobs(sms_app)
    assert twilio.calls
    for call in twilio.calls:
        assert b"CANARY-WORDS" not in call.raw and "CANARY-WORDS" not in call.path


def _as_if_the_sender_died_mid_send(app: Flask, outbound_id: uuid.UUID) -> None:
    """The state a worker killed between Twilio's answer and its own commit leaves."""
    with database(app).transaction() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row is not None
        row.status, row.provider_sid = OutboundStatus.SENDING, None


def _send_again(app: Flask, outbound_id: uuid.UUID) -> None:
    app.extensions["intake.jobs"].enqueue("channels.sms.outbound.send_outbound",
                                          outbound_id=str(outbound_id))
    run_jobs(app)


@pytest.mark.parametrize("whatsapp", [False, True])
def test_a_text_twilio_took_before_the_sender_died_is_not_sent_again(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake,
        whatsapp: bool) -> None:
    phone.whatsapp = whatsapp  # Twilio's list is looked through at the WhatsApp addresses
    report_by_sms(phone, consent=True)
    outbound_id = reply_and_queue(sms_app, "We spoke to the buyer.")
    assert outbound_id is not None
    run_jobs(sms_app)
    _as_if_the_sender_died_mid_send(sms_app, outbound_id)
    _send_again(sms_app, outbound_id)
    assert len(twilio.created()) == 1
    with database(sms_app).transaction() as session:
        row = session.get(OutboundMessage, outbound_id)
        assert row is not None and row.status is OutboundStatus.SENT
        assert row.provider_sid == twilio.messages[0]["sid"]


def test_a_text_that_never_reached_twilio_is_sent_when_the_job_resumes(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=True)
    twilio.fail_next(1, status=500)  # the first attempt dies at Twilio: nothing kept there
    outbound_id = reply_and_queue(sms_app, "Please call us.")
    assert outbound_id is not None
    run_jobs(sms_app)
    assert [m["body"] for m in twilio.messages] == ["Please call us."]
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT


def test_two_identical_replies_to_one_worker_are_both_sent(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=True)
    first = reply_and_queue(sms_app, "Thank you, we are on it.")
    run_jobs(sms_app)
    second = reply_and_queue(sms_app, "Thank you, we are on it.")
    assert first is not None and second is not None
    _as_if_the_sender_died_mid_send(sms_app, second)  # resumed before its own send
    _send_again(sms_app, second)
    assert len(twilio.created()) == 2
    assert outbound_status(sms_app, second) is OutboundStatus.SENT


def test_without_an_approved_notice_a_text_whatsapp_refused_stays_undelivered(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    phone.whatsapp = True
    report_by_sms(phone, consent=True)
    outbound_id = reply_and_queue(sms_app, "are you there")
    assert outbound_id is not None
    run_jobs(sms_app)
    response = phone.post({"MessageSid": twilio.messages[-1]["sid"],
                           "MessageStatus": "undelivered", "ErrorCode": "63016"},
                          path="/twilio/sms/status")
    assert response.status_code == 204
    run_jobs(sms_app)
    assert len(twilio.created()) == 1
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.FAILED


def test_what_twilio_still_lists_a_week_on_is_deleted_too(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """The safety net: a message silenced under a flood was never sealed (so never queued),
    and a text's callbacks may never come. A week on, the daily sweep finds them."""
    def planted(days_ago: float, *, to: str, from_: str) -> str:
        sid = new_sid()
        sent = format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago))
        twilio.messages.append({"sid": sid, "status": "delivered", "to": to, "from": from_,
                                "body": "", "account_sid": "AC" + "0" * 32,
                                "date_created": sent, "date_sent": sent})
        return sid

    silenced = planted(8, to=MY_NUMBER, from_=phone.number)
    forgotten = planted(9, to="whatsapp:" + phone.number, from_="whatsapp:" + MY_NUMBER)
    planted(2, to=phone.number, from_=MY_NUMBER)  # recent: its callbacks may still come
    planted(30, to="+60390000000", from_="+60123456789")  # not one of our numbers
    with sms_app.app_context():
        sweep_left_at_twilio()
    run_jobs(sms_app)
    assert sorted(deleted_sids(twilio)) == sorted([silenced, forgotten])
    with database(sms_app).transaction() as session:
        assert session.scalars(select(PendingDeletion)).all() == []
        assert counter(session, "twilio_inbound_deleted") == 1
        assert counter(session, "twilio_outbound_deleted") == 1
