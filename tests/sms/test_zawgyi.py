"""A worker whose phone types Burmese in Zawgyi reads Unicode Burmese as broken letters: once
their own words show it, the conversation answers in Zawgyi, and so do the texts the desk
sends them later. A worker who types Unicode keeps Unicode."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select, update

from crypto.keys import PrivateKey
from intake.db import Database
from intake.messaging import prompts
from intake.messaging.conversation import VERDICT_TIMEOUT
from intake.messaging.models import Conversation
from intake.reports.burmese import typed_in_zawgyi, zawgyi_spelling
from intake.reports.models import Report
from intake.reports.service import open_contact
from intake.settings import Settings
from tests import factories
from tests.burmese import UNICODE_WORDS, ZAWGYI_WORDS, burmese
from tests.sms.conftest import RECEIPT, Phone, SmsWorld, run_jobs
from tests.sms.test_outbound import reply_and_queue
from tests.twilio_fake import TwilioFake

# A number of our own that answers in Burmese (the conversation caches each number's
# language for a minute: no other test may give it another).
BURMESE_NUMBER = "+60326000166"
# "We will talk to the factory manager today.", as the desk writes it (in Unicode).
DESK_REPLY = "ကျွန်ုပ်တို့ စက်ရုံ မန်နေဂျာနှင့် ဒီနေ့ စကားပြောပါမည်။"


@pytest.fixture
def burmese_phone(sms_app: Flask, sms_settings: Settings, sms_world: SmsWorld,
                  db: Database) -> Phone:
    with db.transaction() as session:
        factories.sms_number(session, BURMESE_NUMBER, country="MY", language="my")
    return Phone(sms_app.test_client(), sms_settings, to=BURMESE_NUMBER)


def courier_of(settings: Settings) -> PrivateKey:
    assert settings.courier_key is not None
    return PrivateKey.from_bytes(settings.courier_key)


def test_the_words_are_what_each_keyboard_types() -> None:
    assert ZAWGYI_WORDS != UNICODE_WORDS
    assert typed_in_zawgyi(ZAWGYI_WORDS) is True
    assert typed_in_zawgyi(UNICODE_WORDS) is False
    assert typed_in_zawgyi("MY4821") is None  # no Burmese: it says nothing of the phone


def test_after_words_typed_in_zawgyi_the_answers_are_in_zawgyi(
        burmese_phone: Phone, sms_app: Flask, sms_settings: Settings, db: Database,
        twilio: TwilioFake) -> None:
    phone = burmese_phone
    # Before the worker has typed any Burmese, nothing tells how their phone spells it.
    assert phone.text("MY4821") == [burmese(sms_app, prompts.CATEGORY_MENU)]
    assert phone.text("1") == [burmese(sms_app, prompts.DETAILS)]
    consent = burmese(sms_app, prompts.CONSENT)
    assert zawgyi_spelling(consent) != consent
    assert phone.text(ZAWGYI_WORDS + " #") == [zawgyi_spelling(consent)]
    [last] = phone.text("1")
    found = RECEIPT.search(last)
    assert found is not None
    assert last == zawgyi_spelling(burmese(sms_app, prompts.RECEIPT, receipt=found.group(1)))
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        contact = open_contact(report, courier_of(sms_settings))
    assert contact.number == phone.number and contact.zawgyi
    # The desk writes Unicode; the worker's phone gets it in Zawgyi.
    assert reply_and_queue(sms_app, DESK_REPLY) is not None
    run_jobs(sms_app)
    [sent] = twilio.created()
    assert sent.form["Body"] == zawgyi_spelling(DESK_REPLY) != DESK_REPLY
    # The worker answers it: thanked in Zawgyi too.
    assert phone.text("2") == [zawgyi_spelling(burmese(sms_app, prompts.ANSWER_ADDED))]
    # While the desk's text awaits an answer, STATUS (even in English) answers in Zawgyi.
    [status] = phone.text(f"STATUS {found.group(1)}")
    assert status == zawgyi_spelling(burmese(sms_app, prompts.STATUS_REPLY, text=DESK_REPLY))
    # Weeks later no conversation is open, and STATUS in English says nothing of the
    # phone: how it spells Burmese outlives the conversation.
    with db.transaction() as session:
        session.execute(update(Conversation).values(
            updated_at=dt.datetime.now(dt.UTC) - VERDICT_TIMEOUT - dt.timedelta(days=1)))
    assert phone.text(f"STATUS {found.group(1)}") == [status]


def test_a_phone_that_types_unicode_keeps_unicode(
        burmese_phone: Phone, sms_app: Flask, sms_settings: Settings, db: Database,
        twilio: TwilioFake) -> None:
    phone = burmese_phone
    phone.text("MY4821")
    phone.text("1")
    assert phone.text(UNICODE_WORDS + " #") == [burmese(sms_app, prompts.CONSENT)]
    phone.text("1")
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        assert not open_contact(report, courier_of(sms_settings)).zawgyi
    reply_and_queue(sms_app, DESK_REPLY)
    run_jobs(sms_app)
    [sent] = twilio.created()
    assert sent.form["Body"] == DESK_REPLY


def test_the_latest_burmese_words_decide(burmese_phone: Phone, sms_app: Flask,
                                         db: Database) -> None:
    """A shared phone, or a worker who switched keyboards: the last words that tell win."""
    phone = burmese_phone
    phone.text("MY4821")
    phone.text("1")
    assert phone.text(ZAWGYI_WORDS) == []  # words kept, no answer until DONE
    with db.transaction() as session:
        assert session.scalars(select(Conversation.zawgyi)).one() is True
    phone.text(UNICODE_WORDS)
    assert phone.text("#") == [burmese(sms_app, prompts.CONSENT)]


def test_a_retry_gets_the_same_zawgyi_answer(burmese_phone: Phone, sms_app: Flask) -> None:
    phone = burmese_phone
    phone.text("MY4821")
    phone.text("1")
    params = phone.params(ZAWGYI_WORDS + " #")
    first = phone.post(params)
    again = phone.post(params)
    assert first.get_data() == again.get_data()
    assert zawgyi_spelling(burmese(sms_app, prompts.CONSENT)) in first.get_data(as_text=True)
