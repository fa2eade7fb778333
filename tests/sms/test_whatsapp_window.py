"""WhatsApp's 24-hour window: a desk reply WhatsApp refuses (Twilio error 63016) is held,
the worker gets the approved notice (a Content template), and their answer to it releases
the reply. Twilio's REST API is the local fake; its callbacks are signed as Twilio signs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from twilio.rest.api.v2010.account.message import MessageList

from intake import create_app
from intake.errors import ConfigError
from intake.messaging import outbound, prompts
from intake.messaging.models import Conversation, OutboundMessage, OutboundStatus
from intake.messaging.outbound import SEND_TEXT_JOB, delivery_notes, queue_text
from intake.reports.models import Author, Report, ReportMessage
from intake.reports.service import add_desk_reply
from intake.settings import Settings
from tests.sms.conftest import RECEIPT, Phone, SmsWorld, run_jobs, say
from tests.sms.test_outbound import database, outbound_status, reply_and_queue, report_by_sms
from tests.twilio_fake import TwilioFake

EN_NOTICE = "HX" + "1" * 32
MS_NOTICE = "HX" + "2" * 32
REPLY = "We called the manager; your pay comes on Friday."


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """This install has the approved notice in English and Malay."""
    return dataclasses.replace(settings, whatsapp_templates=(("en", EN_NOTICE),
                                                             ("ms", MS_NOTICE)))


def refused_by_whatsapp(phone: Phone, app: Flask, twilio: TwilioFake) -> uuid.UUID:
    """A WhatsApp worker's report; the desk's reply texted, and WhatsApp refusing it."""
    outbound_id = texted_on_whatsapp(phone, app, twilio)
    whatsapp_refuses(phone, twilio)
    return outbound_id


def texted_on_whatsapp(phone: Phone, app: Flask, twilio: TwilioFake) -> uuid.UUID:
    phone.whatsapp = True
    report_by_sms(phone, consent=True)
    outbound_id = reply_and_queue(app, REPLY)
    assert outbound_id is not None
    run_jobs(app)
    assert twilio.created()[-1].form["Body"] == REPLY
    return outbound_id


def whatsapp_refuses(phone: Phone, twilio: TwilioFake) -> None:
    """Twilio's callback: the last text was refused, the window closed. The notice's job is
    queued (the embedded queue may run it at once: set up what it meets before this)."""
    callback(phone, twilio.messages[-1]["sid"], "undelivered", "63016")


def callback(phone: Phone, sid: str, state: str, code: str = "") -> None:
    answer = phone.post({"MessageSid": sid, "MessageStatus": state, "ErrorCode": code},
                        path="/twilio/sms/status")
    assert answer.status_code == 204


def row(app: Flask, outbound_id: uuid.UUID) -> OutboundMessage:
    with database(app).transaction() as session:
        found = session.get(OutboundMessage, outbound_id)
        assert found is not None
        session.expunge(found)
        return found


def step(app: Flask) -> str:
    with database(app).transaction() as session:
        return session.scalars(select(Conversation.step)).one()


def worker_messages(app: Flask) -> int:
    with database(app).transaction() as session:
        return session.scalar(select(func.count()).select_from(ReportMessage)
                              .where(ReportMessage.author == Author.WORKER)) or 0


def test_a_refused_reply_is_held_and_the_worker_gets_the_approved_notice(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.HELD
    run_jobs(sms_app)
    notice = twilio.created()[-1]
    assert len(twilio.created()) == 2
    assert notice.form["ContentSid"] == EN_NOTICE
    assert notice.form["To"] == f"whatsapp:{phone.number}"
    assert notice.form["From"] == "whatsapp:+60326000100"
    assert "Body" not in notice.form  # the template is the whole text: none of the reply
    assert notice.form["StatusCallback"] == "https://intake.test/twilio/sms/status"
    held = row(sms_app, outbound_id)
    assert held.status is OutboundStatus.HELD
    assert held.nudge_sid == twilio.messages[-1]["sid"]
    assert step(sms_app) == "window"
    with database(sms_app).transaction() as session:
        assert delivery_notes(session, [held.report_id]) == {held.message_id: (
            "held: WhatsApp lets us write freely only within 24 hours of the worker's last "
            "message, so we sent WhatsApp's approved notice; the reply goes out when the "
            "worker answers it (we wait 14 days)")}
    # The notice's own callbacks leave the text held; so does a late one about the text.
    callback(phone, twilio.messages[-1]["sid"], "delivered")
    callback(phone, twilio.messages[0]["sid"], "sent")
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.HELD


def test_a_tap_on_the_notice_releases_the_reply_and_adds_no_words(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    words_before = worker_messages(sms_app)
    assert phone.text("Read it", ButtonPayload="read", ButtonText="Read it") == []
    run_jobs(sms_app)
    again = twilio.created()[-1]
    assert len(twilio.created()) == 3
    assert again.form["Body"] == REPLY
    assert again.form["To"] == f"whatsapp:{phone.number}"
    sent = row(sms_app, outbound_id)
    assert sent.status is OutboundStatus.SENT
    assert sent.provider_sid == twilio.messages[-1]["sid"]
    assert worker_messages(sms_app) == words_before
    # Their next words answer the desk, as after any reply.
    assert phone.text("Thank you") == [say(sms_app, prompts.ANSWER_ADDED, "en")]
    assert worker_messages(sms_app) == words_before + 1


def test_words_typed_in_answer_to_the_notice_are_kept_and_release_the_reply(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    words_before = worker_messages(sms_app)
    assert phone.text("Still not paid") == [say(sms_app, prompts.ANSWER_ADDED, "en")]
    assert worker_messages(sms_app) == words_before + 1
    run_jobs(sms_app)
    assert twilio.created()[-1].form["Body"] == REPLY
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT


def test_a_second_refusal_fails_the_text_without_a_second_notice(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    phone.text("Read it", ButtonPayload="read")
    run_jobs(sms_app)
    callback(phone, twilio.messages[-1]["sid"], "undelivered", "63016")
    run_jobs(sms_app)
    assert len(twilio.created()) == 3  # the text, the notice, the text again: no more
    failed = row(sms_app, outbound_id)
    assert (failed.status, failed.error_code) == (OutboundStatus.FAILED, "63016")


def test_a_notice_that_fails_fails_its_text_with_the_notices_reason(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    callback(phone, twilio.messages[-1]["sid"], "failed", "63024")  # not a WhatsApp user
    failed = row(sms_app, outbound_id)
    assert (failed.status, failed.error_code) == (OutboundStatus.FAILED, "63024")


def test_a_notice_twilio_refuses_for_good_fails_its_text_at_once(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    outbound_id = texted_on_whatsapp(phone, sms_app, twilio)
    twilio.fail_next(1, status=400, code=21211)
    whatsapp_refuses(phone, twilio)
    run_jobs(sms_app)
    assert len([c for c in twilio.created() if "ContentSid" in c.form]) == 1  # not again
    failed = row(sms_app, outbound_id)
    assert (failed.status, failed.error_code) == (OutboundStatus.FAILED, "21211")


def test_the_notice_is_retried_after_a_500_and_sent_once(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    outbound_id = texted_on_whatsapp(phone, sms_app, twilio)
    twilio.fail_next(1, status=500)
    whatsapp_refuses(phone, twilio)
    run_jobs(sms_app)
    notices = [c for c in twilio.created() if "ContentSid" in c.form]
    assert len(notices) == 2  # refused once, then sent
    assert row(sms_app, outbound_id).nudge_sid == twilio.messages[-1]["sid"]
    run_jobs(sms_app)
    assert len([c for c in twilio.created() if "ContentSid" in c.form]) == 2


@pytest.mark.parametrize(("language", "notice"), [("Bahasa Melayu", MS_NOTICE),
                                                  ("Español", EN_NOTICE)])  # none in Spanish
def test_the_notice_is_in_the_reports_language_else_english(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake, language: str,
        notice: str) -> None:
    phone.whatsapp = True
    phone.text("0")  # the language menu
    phone.text(language)
    refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    assert twilio.created()[-1].form["ContentSid"] == notice


def test_a_worker_writing_to_us_now_gets_the_text_itself_again(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """A new report under way when the notice would go: their window is open already."""
    outbound_id = texted_on_whatsapp(phone, sms_app, twilio)
    phone.text("NEW")
    phone.text("MY4821")
    assert step(sms_app) == "category"
    whatsapp_refuses(phone, twilio)
    run_jobs(sms_app)
    assert [c.form.get("Body") for c in twilio.created()] == [REPLY, REPLY]
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT
    assert step(sms_app) == "category"  # their new report goes on


def test_stop_while_a_text_is_held_means_it_is_never_sent(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    phone.text("STOP")
    run_jobs(sms_app)
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.OPTED_OUT
    phone.text("START")
    phone.text("hello")
    run_jobs(sms_app)
    assert len(twilio.created()) == 2  # the text and the notice, nothing since


def test_a_notice_in_a_language_we_do_not_have_stops_the_start(settings: Settings) -> None:
    wrong = dataclasses.replace(settings, whatsapp_templates=(("en", EN_NOTICE),
                                                              ("xx", MS_NOTICE)))
    with pytest.raises(ConfigError, match=r"INTAKE_WHATSAPP_TEMPLATES.*xx"):
        create_app(wrong)


def test_a_text_by_sms_opens_no_whatsapp_window(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """Their words are kept; the reply waits for their next WhatsApp message."""
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    phone.whatsapp = False
    assert phone.text("Still not paid") == [say(sms_app, prompts.ANSWER_ADDED, "en")]
    run_jobs(sms_app)
    assert len(twilio.created()) == 2
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.HELD
    phone.whatsapp = True
    phone.text("Read it", ButtonPayload="read")
    run_jobs(sms_app)
    assert twilio.created()[-1].form["Body"] == REPLY
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT


def test_a_notice_twilio_never_answered_about_is_not_sent_twice(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Sent or not, we cannot tell: a shared phone must not get the notice twice. The reply
    still goes out if the worker writes."""
    outbound_id = texted_on_whatsapp(phone, sms_app, twilio)
    calls = []

    def no_answer(*args: object, **kwargs: object) -> None:
        calls.append(kwargs)
        raise requests.ConnectionError("connection reset")

    monkeypatch.setattr(MessageList, "create", no_answer)
    whatsapp_refuses(phone, twilio)
    run_jobs(sms_app)
    monkeypatch.undo()
    run_jobs(sms_app)
    assert len(calls) == 1
    assert len(twilio.created()) == 1  # the text alone
    held = row(sms_app, outbound_id)
    assert held.status is OutboundStatus.HELD
    assert held.nudge_sid is not None and held.nudge_sid.startswith("claim-")
    phone.text("hello?")
    run_jobs(sms_app)
    assert twilio.created()[-1].form["Body"] == REPLY


def test_a_late_tap_on_the_notice_adds_no_words(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """The worker wrote first (releasing the reply), then tapped the notice's button."""
    refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    phone.text("Still not paid")
    run_jobs(sms_app)
    words = worker_messages(sms_app)
    assert phone.text("Read it", ButtonPayload="read", ButtonText="Read it") == []
    assert worker_messages(sms_app) == words


def test_a_keyword_in_answer_to_the_notice_releases_the_reply_too(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """STATUS without a receipt answers as ever (with the held report's: the next test),
    and the window it opens is used."""
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    assert phone.text("STATUS")  # answered as STATUS always is
    run_jobs(sms_app)
    assert twilio.created()[-1].form["Body"] == REPLY
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT


def test_status_with_the_receipt_in_answer_to_the_notice_says_the_reply_once(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """The held reply itself goes out: STATUS's short form of it besides would be the same
    answer twice. STATUS for a report with nothing held answers as ever."""
    phone.whatsapp = True
    phone.text("MY4821")
    phone.text("5")
    phone.text("The supervisor shouts at us #")
    receipt = RECEIPT.search(phone.text("1")[0])
    assert receipt is not None
    outbound_id = reply_and_queue(sms_app, REPLY)
    run_jobs(sms_app)
    whatsapp_refuses(phone, twilio)
    run_jobs(sms_app)
    assert phone.text(f"STATUS {receipt.group(1)}") == []
    run_jobs(sms_app)
    assert twilio.created()[-1].form["Body"] == REPLY
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT
    assert phone.text(f"STATUS {receipt.group(1)}") == [
        say(sms_app, prompts.STATUS_REPLY, "en", text=REPLY)]


def test_words_too_long_to_keep_release_the_reply_too(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """The worker wrote on WhatsApp, so the window is open, though their words are not
    kept (and they are told so)."""
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    words = worker_messages(sms_app)
    assert phone.text("x" * 1601) == [say(sms_app, prompts.TOO_LONG, "en")]
    run_jobs(sms_app)
    assert twilio.created()[-1].form["Body"] == REPLY
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT
    assert worker_messages(sms_app) == words


def held_days_ago(app: Flask, outbound_id: uuid.UUID, days: float) -> None:
    """The text was held (and the notice sent) ``days`` ago: both clocks moved back."""
    back = dt.timedelta(days=days)
    with database(app).transaction() as session:
        held = session.get(OutboundMessage, outbound_id)
        assert held is not None and held.held_at is not None
        held.held_at -= back
        for conversation in session.scalars(select(Conversation)):
            conversation.updated_at -= back


def test_a_notice_unanswered_for_two_weeks_gives_the_text_up(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake,
        caplog: pytest.LogCaptureFixture) -> None:
    """Past the wait the worker's next message begins a new conversation, which releases
    nothing: the desk is told the text will not go, not "held" for good."""
    caplog.set_level("INFO", logger="intake.messaging.outbound")
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    held_days_ago(sms_app, outbound_id, 13.9)
    with sms_app.app_context():
        outbound.expire_held_job()
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.HELD
    assert not [r for r in caplog.records if r.getMessage() == "held texts given up"]
    held_days_ago(sms_app, outbound_id, 0.2)
    with sms_app.app_context():
        outbound.expire_held_job()
    given_up = row(sms_app, outbound_id)
    assert given_up.status is OutboundStatus.FAILED
    with database(sms_app).transaction() as session:
        assert delivery_notes(session, [given_up.report_id]) == {given_up.message_id: (
            "not delivered: WhatsApp refused it outside its 24-hour window and the worker did "
            "not answer WhatsApp's approved notice within 14 days; they can still read the "
            "reply with STATUS and their receipt, or on the follow-up page")}
    lines = [r for r in caplog.records if r.getMessage() == "held texts given up"]
    assert [r.__dict__["count"] for r in lines] == [1]
    # Their next message, on WhatsApp, begins anew and sends nothing of the old reply.
    assert phone.text("hello") == [say(sms_app, prompts.WELCOME, "en")]
    run_jobs(sms_app)
    assert len(twilio.created()) == 2  # the text and the notice, nothing since
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.FAILED


def test_words_by_sms_do_not_make_the_notice_wait_longer_than_the_text(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """The wait counts from the notice: an SMS on day 10 is kept, and once the text has been
    given up the worker's next WhatsApp message begins a new report, not an answer to the
    old one."""
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    held_days_ago(sms_app, outbound_id, 10)
    phone.whatsapp = False
    words = worker_messages(sms_app)
    assert phone.text("Still not paid") == [say(sms_app, prompts.ANSWER_ADDED, "en")]
    assert worker_messages(sms_app) == words + 1
    assert step(sms_app) == "window"
    held_days_ago(sms_app, outbound_id, 4.2)
    with sms_app.app_context():
        outbound.expire_held_job()
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.FAILED
    phone.whatsapp = True
    assert phone.text("hello") == [say(sms_app, prompts.WELCOME, "en")]
    assert worker_messages(sms_app) == words + 1


def test_a_keyword_on_whatsapp_opens_the_window_for_the_words_after_it(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """HELP in answer to the notice releases the text; the worker's next words answer the
    desk as after any text of theirs, and release nothing more."""
    outbound_id = refused_by_whatsapp(phone, sms_app, twilio)
    run_jobs(sms_app)
    assert phone.text("HELP") == [say(sms_app, prompts.HELP, "en")]
    run_jobs(sms_app)
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT
    assert step(sms_app) == "answer"
    sent = len(twilio.created())
    assert phone.text("Thank you") == [say(sms_app, prompts.ANSWER_ADDED, "en")]
    run_jobs(sms_app)
    assert len(twilio.created()) == sent


def reply_to(app: Flask, report_id: uuid.UUID, text: str) -> uuid.UUID:
    with database(app).transaction() as session:
        report = session.get(Report, report_id)
        assert report is not None
        outbound = queue_text(session, report, add_desk_reply(session, report, text,
                                                               author_account_id=None),
                              kind="reply")
        assert outbound is not None
        outbound_id = outbound.id
    app.extensions["intake.jobs"].enqueue(SEND_TEXT_JOB, outbound_id=str(outbound_id))
    run_jobs(app)
    return outbound_id


def new_report(app: Flask, worker: Phone) -> uuid.UUID:
    with database(app).transaction() as session:
        before = set(session.scalars(select(Report.id)))
    report_by_sms(worker, consent=True)
    with database(app).transaction() as session:
        (made,) = set(session.scalars(select(Report.id))) - before
    return made


def test_one_answer_releases_what_is_held_for_each_of_the_workers_reports(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """A worker with two reports gets a notice for each refused reply; their conversation
    waits for the last one, and their one answer sends both replies. Another worker's held
    text stays held."""
    other = dataclasses.replace(phone, number="+60198765432", whatsapp=True, sent=[])
    phone.whatsapp = True
    theirs, first, second = (new_report(sms_app, worker) for worker in (other, phone, phone))
    held = {}
    for worker, report_id, text in ((other, theirs, "Not yours"), (phone, first, REPLY),
                                    (phone, second, "And your second report: we went there.")):
        held[text] = reply_to(sms_app, report_id, text)
        whatsapp_refuses(worker, twilio)
        run_jobs(sms_app)
    notices = [c for c in twilio.created() if "ContentSid" in c.form]
    assert [n.form["To"] for n in notices] == [f"whatsapp:{other.number}"] + [
        f"whatsapp:{phone.number}"] * 2
    assert all(row(sms_app, i).status is OutboundStatus.HELD for i in held.values())
    phone.text("Read it", ButtonPayload="read")
    run_jobs(sms_app)
    # Queued in the order they were written; two jobs may finish in either order.
    assert sorted(c.form.get("Body") or "" for c in twilio.created()[-2:]) == sorted(
        [REPLY, "And your second report: we went there."])
    assert all(c.form["To"] == f"whatsapp:{phone.number}" for c in twilio.created()[-2:])
    assert [row(sms_app, i).status for i in held.values()] == [
        OutboundStatus.HELD, OutboundStatus.SENT, OutboundStatus.SENT]
