"""The Twilio webhook: signatures, required fields, retries, WhatsApp, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import func, select

from intake.db import Database
from intake.messaging import inbound, prompts
from intake.messaging.inbound import REPLAY_WINDOW
from intake.messaging.models import Conversation, ProcessedInbound
from intake.reports.models import Channel, Report, ReportMessage
from tests.sms.conftest import MX_NUMBER, Phone, SmsWorld, new_sid, replies, say


def count(app: Flask, model: type) -> int:
    database: Database = app.extensions["intake.db"]
    with database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_signed_message_is_answered_with_twiml(phone: Phone, sms_world: SmsWorld) -> None:
    response = phone.post(phone.params("hello"))
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert "Send the code on the poster" in replies(response)[0]


@pytest.mark.parametrize("case", ["missing", "garbage", "wrong_url", "altered", "other_token"])
def test_bad_signature_is_403_and_changes_nothing(phone: Phone, sms_world: SmsWorld,
                                                  sms_app: Flask, case: str) -> None:
    from twilio.request_validator import RequestValidator

    params = phone.params("MY4821 they kept our passports")
    token = phone.settings.twilio_auth_token or ""
    url = phone.settings.public_url + "/twilio/sms"
    signature = {
        "missing": "",
        "garbage": "not-a-signature",
        "wrong_url": RequestValidator(token).compute_signature("https://evil.test/twilio/sms",
                                                               params),
        "altered": RequestValidator(token).compute_signature(url, {**params, "Body": "hi"}),
        "other_token": RequestValidator("0" * 32).compute_signature(url, params),
    }[case]
    response = phone.client.post("/twilio/sms", data=params,
                                 headers={"X-Twilio-Signature": signature} if signature else {})
    assert response.status_code == 403
    assert count(sms_app, Conversation) == 0
    assert count(sms_app, ProcessedInbound) == 0


def test_a_signature_over_the_url_with_its_port_is_accepted(phone: Phone,
                                                           sms_world: SmsWorld) -> None:
    """Twilio signs some URLs with the default port written out (https://host:443/...); the
    SDK's ``validate`` accepts both forms, and so does the webhook."""
    from twilio.request_validator import RequestValidator

    params = phone.params("hello")
    with_port = phone.settings.public_url.replace("intake.test", "intake.test:443")
    assert with_port != phone.settings.public_url
    signature = RequestValidator(phone.settings.twilio_auth_token or "").compute_signature(
        with_port + "/twilio/sms", params)
    response = phone.post(params, signature=signature)
    assert response.status_code == 200
    assert "Send the code on the poster" in replies(response)[0]


@pytest.mark.parametrize("field", ["MessageSid", "From", "To", "Body"])
def test_missing_required_field_is_400(phone: Phone, sms_world: SmsWorld, field: str) -> None:
    params = phone.params("hello")
    del params[field]
    assert phone.post(params).status_code == 400


@pytest.mark.parametrize("length", [65, 200])
def test_message_sid_too_long_to_keep_is_400_and_changes_nothing(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, length: int) -> None:
    """Twilio's MessageSids have 34 characters; one longer than the column that keeps it for
    the deletion at Twilio (64) is refused, not a 500 (found by tests/fuzz)."""
    response = phone.post({**phone.params("hello"), "MessageSid": "SM" + "a" * (length - 2)})
    assert response.status_code == 400
    assert count(sms_app, Conversation) == 0
    assert count(sms_app, ProcessedInbound) == 0


@pytest.mark.parametrize("sender", ["not-a-number", "+60123", "whatsapp:+60123",
                                    "+1234567890123456", "whatsapp:"])
def test_sender_that_is_not_a_number_is_400(phone: Phone, sms_world: SmsWorld,
                                            sender: str) -> None:
    """Not a number, one too short for its country, one beyond E.164's 15 digits."""
    assert phone.post({**phone.params("hi"), "From": sender}).status_code == 400


@pytest.mark.parametrize("whatsapp", [True, False])
def test_a_mexican_mobile_written_with_its_old_1_is_answered(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, whatsapp: bool) -> None:
    """WhatsApp gives every Mexican mobile with the "1" Mexico's dial plan dropped (13
    digits, which phonenumbers calls too long): it was refused with a 400, and the worker's
    words were lost at Twilio."""
    phone.number, phone.to, phone.whatsapp = "+5213312345678", MX_NUMBER, whatsapp
    response = phone.post(phone.params("MX2045 no nos pagan las horas extra"))
    assert response.status_code == 200
    assert replies(response) == [say(sms_app, prompts.CATEGORY_MENU, "es")]
    assert count(sms_app, Conversation) == 1


def test_retried_webhook_creates_no_second_report_and_gets_the_same_reply(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask
) -> None:
    phone.text("MY4821")
    phone.text("1")
    phone.text("No pay for two months")
    phone.text("#")
    params = phone.params("2")
    first = replies(phone.post(params))
    again = replies(phone.post(params))
    assert first == again and "receipt" in first[0]
    assert count(sms_app, Report) == 1
    assert count(sms_app, ReportMessage) == 1


def test_replay_after_the_window_gets_an_empty_answer(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask
) -> None:
    params = phone.params("hello")
    assert replies(phone.post(params))
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
        assert inbound.forget_old_replies(session, now=later) == 1
    assert replies(phone.post(params)) == []
    assert count(sms_app, Conversation) == 1


def test_a_reply_is_not_replayed_after_its_window_even_before_the_sweep(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask
) -> None:
    params = phone.params("hello")
    assert replies(phone.post(params))
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        kept = session.scalars(select(ProcessedInbound)).one()
        assert kept.keep_until == kept.processed_at + REPLAY_WINDOW
        kept.keep_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert replies(phone.post(params)) == []


def test_the_periodic_sweep_drops_replies_past_their_window_and_keeps_the_others(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replies past their window go, in batches (here of one), and with them the minute of
    their message: the tag stays, dated to its day."""
    for body in ("hello", "0", "9"):
        assert replies(phone.post(phone.params(body)))
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        rows = list(session.scalars(select(ProcessedInbound)
                                    .order_by(ProcessedInbound.processed_at)))
        for row in rows[:2]:
            row.keep_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        moments = {row.sid_tag: row.processed_at for row in rows}
    monkeypatch.setattr(inbound, "SWEEP_BATCH", 1)
    caplog.set_level("INFO", logger="intake.messaging.inbound")
    with sms_app.app_context():
        inbound.forget_replies_job()
        inbound.forget_replies_job()  # nothing more is due: no second line
    with database.transaction() as session:
        after = {row.sid_tag: row for row in session.scalars(select(ProcessedInbound))}
    dropped = [tag for tag, row in after.items() if row.reply_sealed is None]
    assert len(dropped) == 2 and len(after) == 3
    for tag, row in after.items():
        if tag in dropped:
            assert row.processed_at == moments[tag].replace(hour=0, minute=0, second=0,
                                                            microsecond=0)
            assert row.keep_until is None
        else:
            assert row.processed_at == moments[tag]
    assert [r.__dict__.get("count") for r in caplog.records
            if r.getMessage() == "kept replies dropped"] == [2]


def test_whatsapp_sender_makes_a_whatsapp_report(phone: Phone, sms_world: SmsWorld,
                                                 sms_app: Flask) -> None:
    phone.whatsapp = True
    phone.text("MY4821")
    phone.text("3")
    phone.text("Fire exit locked #")
    assert "receipt" in phone.text("2")[0]
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        assert session.scalars(select(Report.channel)).one() is Channel.WHATSAPP


@pytest.mark.parametrize(("kind", "named"), [("image/jpeg", "Pictures"),
                                             ("audio/ogg", "voice messages"),
                                             ("application/pdf", "files")])
def test_media_only_message_asks_for_words(phone: Phone, sms_world: SmsWorld, sms_app: Flask,
                                           kind: str, named: str) -> None:
    """A WhatsApp voice note was answered "Pictures are not kept": the answer names each."""
    phone.text("MY4821")
    phone.text("1")
    answer = phone.text("", NumMedia="1", MediaContentType0=kind,
                        MediaUrl0="https://api.twilio.test/media/1")
    assert answer == [say(sms_app, prompts.PICTURES, "en")]
    assert named in answer[0]
    assert count(sms_app, ReportMessage) == 0


def test_over_long_body_is_not_kept_and_the_worker_is_told(phone: Phone, sms_world: SmsWorld,
                                                           sms_app: Flask) -> None:
    phone.text("MY4821")
    phone.text("1")
    answer = phone.text("x" * 1601)
    assert "too long" in answer[0]
    assert count(sms_app, ReportMessage) == 0


@pytest.mark.parametrize("body", ["", "😀🙏", "Gaji ကျွန်ုပ် 工资 🙏 mixed"])
def test_odd_bodies_never_500(phone: Phone, sms_world: SmsWorld, body: str) -> None:
    phone.text("MY4821")
    phone.text("1")
    response = phone.post(phone.params(body))
    assert response.status_code == 200


def test_unknown_to_number_is_answered_in_english(phone: Phone, sms_world: SmsWorld,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    phone.to = "+14155550100"
    answer = phone.text("hola")
    assert "Send the code on the poster" in answer[0]
    assert "not configured" in caplog.text and "4155550100" not in caplog.text


def test_a_flood_from_one_sender_gets_silence_not_replies(
    phone: Phone, sms_world: SmsWorld
) -> None:
    answers = [phone.text("hello") for _ in range(31)]
    assert all(answers[:30]) and answers[30] == []
    other = Phone(phone.client, phone.settings, number="+60198765432")
    assert other.text("hello")


def test_status_callback_is_signed_and_records_no_content(phone: Phone,
                                                          sms_world: SmsWorld) -> None:
    params = {"MessageSid": new_sid(), "MessageStatus": "delivered"}
    assert phone.post(params, path="/twilio/sms/status", signature="bad").status_code == 403
    assert phone.post(params, path="/twilio/sms/status").status_code == 204


def test_twiml_is_kept_only_for_replies_that_hold_nothing_of_a_worker(
        phone: Phone, sms_world: SmsWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """Menus and fixed prompts are answered from TwiML built once; a receipt (or anything a
    worker was told alone) is built each time and never kept in the process."""
    from twilio.twiml.messaging_response import MessagingResponse

    from channels.sms import webhook

    monkeypatch.setattr(webhook, "_FIXED_TWIML", {})
    [welcome] = phone.text("hello")
    phone.text("MY4821")
    phone.text("1")
    phone.text("They kept our passports #")
    [receipt_text] = phone.text("1")
    receipt = "".join(c for c in receipt_text if c.isdigit())[:16]
    assert len(receipt) == 16

    kept = webhook._FIXED_TWIML
    action = "https://intake.test/twilio/sms/status?reply=1"
    assert (action, welcome) in kept, "the welcome and the menus are kept"
    with phone.client.application.app_context():
        fixed = webhook.fixed_replies()
    assert all(key[0] == action and fixed.issuperset(key[1:]) for key in kept)
    assert not any(receipt in body for body in kept.values())
    assert not any(receipt in text for key in kept for text in key)
    # what is kept is what the SDK builds
    for key, body in kept.items():
        expected = MessagingResponse()
        for text in key[1:]:
            expected.message(text, action=action, method="POST")
        assert body == str(expected)
