"""Keywords typed in any supported language, or in English, do what they say."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale, pgettext
from sqlalchemy import select

from intake.db import Database
from intake.i18n import LANGUAGES
from intake.messaging import prompts
from intake.messaging.conversation import keyword_in, yes_no_words, yes_or_no
from intake.messaging.models import OptOut
from intake.reports.burmese import zawgyi_spelling
from intake.reports.models import Report
from intake.reports.service import add_desk_reply
from tests.sms.conftest import Phone, SmsWorld, say, sent_report

CODES = [language.code for language in LANGUAGES]


def word(app: Flask, keyword: object, lang: str) -> str:
    with app.test_request_context(), force_locale(lang):
        return pgettext("sms keyword", keyword._args[1])  # type: ignore[attr-defined]


def sharing(app: Flask, keyword: object, lang: str) -> list[str]:
    """The languages whose word for ``keyword`` is the same as ``lang``'s (or English)."""
    mine = word(app, keyword, lang).casefold()
    return [code for code in CODES if word(app, keyword, code).casefold() == mine]


def said_in_one_of(app: Flask, prompt: object, languages: list[str]) -> list[list[str]]:
    return [[say(app, prompt, code)] for code in languages]


@pytest.mark.parametrize("lang", CODES)
def test_stop_and_start_in_each_language(phone: Phone, sms_world: SmsWorld, sms_app: Flask,
                                         lang: str) -> None:
    phone.text("hello")
    stopped = phone.text(word(sms_app, prompts.STOP, lang))
    assert stopped in said_in_one_of(sms_app, prompts.STOPPED,
                                     sharing(sms_app, prompts.STOP, lang))
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        assert session.scalars(select(OptOut)).one()
    assert phone.text("hello") == []
    started = phone.text(word(sms_app, prompts.START, lang))
    assert started in said_in_one_of(sms_app, prompts.STARTED,
                                     sharing(sms_app, prompts.START, lang))


@pytest.mark.parametrize("lang", CODES)
def test_help_and_status_in_each_language(phone: Phone, sms_world: SmsWorld, sms_app: Flask,
                                          lang: str) -> None:
    assert phone.text(word(sms_app, prompts.HELP_WORD, lang)) in said_in_one_of(
        sms_app, prompts.HELP, sharing(sms_app, prompts.HELP_WORD, lang))
    status = word(sms_app, prompts.STATUS, lang)
    assert phone.text(f"{status} 0000 0000 0000 0000") in said_in_one_of(
        sms_app, prompts.STATUS_NOT_FOUND, sharing(sms_app, prompts.STATUS, lang))


@pytest.mark.parametrize("lang", CODES)
def test_done_in_each_language_ends_the_details(phone: Phone, sms_world: SmsWorld,
                                                sms_app: Flask, lang: str) -> None:
    phone.text("MY4821")
    phone.text("1")
    phone.text("words")
    assert phone.text(word(sms_app, prompts.DONE, lang)) == [say(sms_app, prompts.CONSENT,
                                                                 "en")]


def test_a_keyword_of_two_words_works_as_they_are_written(phone: Phone, sms_world: SmsWorld,
                                                          sms_app: Flask) -> None:
    """Our Vietnamese texts say TRACUU and BATDAU (GSM-7, no spaces); workers write
    "Tra cứu" and "Bắt đầu"."""
    assert phone.text("Tra cứu 0000 0000 0000 0000") == [
        say(sms_app, prompts.STATUS_NOT_FOUND, "vi")]
    phone.text("HUY")
    assert phone.text("Bắt đầu") == [say(sms_app, prompts.STARTED, "vi")]
    assert phone.text("Bat dau lam viec o Penang") != [say(sms_app, prompts.STARTED, "vi")]


def test_a_keyword_typed_full_width_works(phone: Phone, sms_world: SmsWorld,
                                          sms_app: Flask) -> None:
    """A Chinese keyboard in full-width mode types wide letters, digits and spaces (U+3000)."""
    assert phone.text("ＳＴＡＴＵＳ　００００　００００　００００　００００") == [
        say(sms_app, prompts.STATUS_NOT_FOUND, "en")]
    assert phone.text("查询　0000 0000 0000 0000") == [
        say(sms_app, prompts.STATUS_NOT_FOUND, "zh_Hans")]


def test_no_word_means_two_different_keywords(sms_app: Flask) -> None:
    from intake.messaging.conversation import _all_keywords

    with sms_app.test_request_context():
        table = _all_keywords()  # raises if one word meant two keywords
    assert {name for name, _ in table.values()} == {"STOP", "START", "HELP", "STATUS",
                                                    "NEW", "DONE"}


def test_english_keywords_work_in_every_conversation(phone: Phone, sms_world: SmsWorld,
                                                     sms_app: Flask) -> None:
    phone.text("0")
    phone.text("3")  # 简体中文
    assert phone.text("HELP") == [say(sms_app, prompts.HELP, "zh_Hans")]


def test_a_sentence_that_starts_with_stop_is_not_a_keyword(phone: Phone, sms_world: SmsWorld,
                                                           sms_app: Flask) -> None:
    phone.text("MY4821")
    phone.text("1")
    assert phone.text("Stop paying us overtime, they said") == []
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        assert session.scalars(select(OptOut)).all() == []


def test_a_long_answer_by_status_stays_within_two_segments(phone: Phone, sms_world: SmsWorld,
                                                           sms_app: Flask) -> None:
    from intake.messaging.segments import count_segments

    receipt = sent_report(phone, "x")
    database: Database = sms_app.extensions["intake.db"]
    with database.transaction() as session:
        report = session.scalars(select(Report)).one()
        add_desk_reply(session, report, "We visited the factory. " * 30, author_account_id=None)
    [answer] = phone.text(f"STATUS {receipt}")
    assert answer.endswith("...") and count_segments(answer).segments <= 2


# The Burmese keywords as a Zawgyi keyboard types them (an older font encoding many phones
# still use): the same words on other code points. Written out here, not derived. STOP and
# START differ from Unicode only by a mark the keyword match ignores; DONE and STATUS put
# their letters in another order.
ZAWGYI_STOP, ZAWGYI_START, ZAWGYI_DONE, ZAWGYI_STATUS = "ရပ္", "စတင္", "ၿပီးၿပီ", "အေျခအေန"


def test_burmese_keywords_typed_in_zawgyi_work(phone: Phone, sms_world: SmsWorld,
                                               sms_app: Flask) -> None:
    assert word(sms_app, prompts.STOP, "my") != ZAWGYI_STOP
    phone.text("MY4821")
    phone.text("1")
    phone.text("words")
    # DONE ends the words in the number's language; STOP answers in the word's language,
    # and in the spelling the worker typed it in (tests/sms/test_zawgyi.py).
    assert phone.text(ZAWGYI_DONE) == [say(sms_app, prompts.CONSENT, "en")]
    stopped = say(sms_app, prompts.STOPPED, "my")
    assert phone.text(ZAWGYI_STOP) == [zawgyi_spelling(stopped)] != [stopped]
    assert phone.text(ZAWGYI_START) == [zawgyi_spelling(say(sms_app, prompts.STARTED, "my"))]
    assert phone.text(f"{ZAWGYI_STATUS} 0000 0000 0000 0000") == [
        zawgyi_spelling(say(sms_app, prompts.STATUS_NOT_FOUND, "my"))]


@pytest.mark.parametrize("lang", CODES)
def test_yes_and_no_words_are_answers_and_nothing_else(app: Flask, lang: str) -> None:
    """Each catalog gives words for yes and for no: none of them is both, a keyword in any
    language (a keyword is read before any answer), or a number."""
    with app.test_request_context():
        words = yes_no_words(lang)
        with force_locale(lang):
            catalog = {choice: pgettext("sms answer", msgid).split("|")
                       for choice, msgid in ((1, "YES|Y|OK"), (2, "NO|N"))}
        for choice, typed in catalog.items():  # each word as the catalog writes it
            assert typed and all(yes_or_no(form, lang) == choice for form in typed), typed
    assert set(words.values()) == {1, 2}
    for form in words:
        assert keyword_in(form) is None, form
        assert not any(char.isdecimal() for char in form), form
