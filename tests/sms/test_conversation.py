"""The conversation of DESIGN 5.2 from first message to receipt, and its keywords."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select, update

from crypto.envelope import open_sealed
from crypto.keys import PrivateKey
from intake.db import Database
from intake.i18n import LANGUAGES
from intake.messaging import prompts
from intake.messaging.conversation import language_menu as menu_page
from intake.messaging.models import Conversation, OptOut
from intake.reports.burmese import zawgyi_spelling
from intake.reports.models import Report, ReportMessage
from intake.reports.service import add_desk_reply, message_context, open_contact
from intake.supplychain.models import Facility
from tests.sms.conftest import MX_NUMBER, RECEIPT, Phone, SmsWorld, run_jobs, say, sent_report


def language_menu(app: Flask, page: int) -> str:
    with app.test_request_context():
        return menu_page(page)


def database(app: Flask) -> Database:
    return app.extensions["intake.db"]  # type: ignore[no-any-return]


def choose_language(phone: Phone, lang: str) -> list[str]:
    index = [language.code for language in LANGUAGES].index(lang)
    phone.text("0")
    if index < 7:
        return phone.text(str(index + 1))
    phone.text("9")
    return phone.text(str(index - 6))


@pytest.mark.parametrize("lang", ["en", "ms", "es", "th", "vi", "zh_Hans"])
def test_whole_conversation_from_first_message_to_receipt(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask, lang: str
) -> None:
    if lang == "es":
        phone.to = MX_NUMBER
        assert phone.text("hola") == [say(sms_app, prompts.WELCOME, "es")]
    else:
        phone.text("hello")
        # the workplace question in the language chosen (not "we could not find it")
        assert choose_language(phone, lang) == [say(sms_app, prompts.WORKPLACE, lang)]
    assert phone.text("MY 4821") == [say(sms_app, prompts.CATEGORY_MENU, lang)]
    assert phone.text("1") == [say(sms_app, prompts.DETAILS, lang)]
    assert phone.text("They did not pay us for March.") == []
    assert phone.text("Forty of us, line 3.") == []
    assert phone.text("DONE") == [say(sms_app, prompts.CONSENT, lang)]
    [receipt_text] = phone.text("2")
    receipt = RECEIPT.search(receipt_text)
    assert receipt, receipt_text
    assert receipt_text == say(sms_app, prompts.RECEIPT, lang, receipt=receipt.group(1))
    with database(sms_app).transaction() as session:
        report = session.scalars(select(Report)).one()
        assert report.language == lang and report.categories == "wages"
        assert report.receipt_lookup is not None and not report.contact_consent
        words = [open_sealed(m.body_sealed, sms_world.union.key,
                             context=message_context(report.id, m.id)).decode()
                 for m in report.messages]
        assert words == ["They did not pay us for March.", "Forty of us, line 3."]
        assert session.scalars(select(Conversation)).all() == []


def test_poster_code_in_the_first_message_skips_the_workplace_question(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask
) -> None:
    assert phone.text("help me MY4821 please") == [say(sms_app, prompts.CATEGORY_MENU, "en")]


def words_of(app: Flask, world: SmsWorld) -> list[tuple[str, list[str]]]:
    """Each report's categories and words, as its desk opens them (sorted)."""
    with database(app).transaction() as session:
        return sorted((report.categories, [
            open_sealed(m.body_sealed, world.union.key,
                        context=message_context(report.id, m.id)).decode()
            for m in report.messages])
            for report in session.scalars(select(Report)))


@pytest.mark.parametrize(("first", "kept", "language"), [
    ("MY4821 they took our passports", "they took our passports", "en"),
    ("Kilang MY4821: majikan ambil pasport kami #", "Kilang: majikan ambil pasport kami", "en"),
    ("工厂ＭＹ４８２１扣工资", "工厂 扣工资", "zh_Hans"),
])
def test_what_happened_told_beside_the_poster_code_is_kept(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, first: str, kept: str,
        language: str) -> None:
    """Many workers send their story with the code in one message: it is the report's first
    part (sealed on arrival), and the worker is told it is kept, not asked again (in the
    language the words are written in, if their letters show it)."""
    assert phone.text(first) == [say(sms_app, prompts.CATEGORY_MENU, language)]
    assert words_of(sms_app, sms_world) == [("", [kept])]
    assert phone.text("4") == [say(sms_app, prompts.DETAILS_MORE, language)]
    assert phone.text("Since January.") == []
    assert phone.text("#") == [say(sms_app, prompts.CONSENT, language)]
    assert RECEIPT.search(phone.text("2")[0])
    assert words_of(sms_app, sms_world) == [("forced_labour", [kept, "Since January."])]


def test_words_beside_the_code_at_the_workplace_question_are_kept(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    phone.text("hello")
    assert phone.text("It is MY4821, no overtime pay") == [
        say(sms_app, prompts.CATEGORY_MENU, "en")]
    assert phone.text("1") == [say(sms_app, prompts.DETAILS_MORE, "en")]
    assert words_of(sms_app, sms_world) == [("wages", ["It is, no overtime pay"])]


def test_after_stop_words_beside_the_code_open_no_report_until_start(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """STOP means no conversation, and silence, until START: the words are not kept in a
    report the worker would get no receipt for and could not add to."""
    phone.text("STOP")
    assert phone.text("MY4821 they took our passports") == []
    assert words_of(sms_app, sms_world) == []
    phone.text("START")
    assert phone.text("MY4821 they took our passports") == [
        say(sms_app, prompts.CATEGORY_MENU, "en")]
    assert words_of(sms_app, sms_world) == [("", ["they took our passports"])]


@pytest.mark.parametrize("first", ["MY4821", "MY4821!", "MY4821 2", "ＭＹ４８２１ ＃"])
def test_a_poster_code_alone_opens_no_report_before_the_category(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, first: str) -> None:
    assert phone.text(first) == [say(sms_app, prompts.CATEGORY_MENU, "en")]
    assert words_of(sms_app, sms_world) == []
    assert phone.text("1") == [say(sms_app, prompts.DETAILS, "en")]


def test_a_report_after_a_finished_one_is_a_new_report(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """A second report, begun by the code alone after a first one that its first message
    opened, is a report of its own: its category and words do not go to the first."""
    phone.text("MY4821 no pay for March")
    phone.text("1")
    phone.text("#")
    phone.text("1")
    assert phone.text("MY4821") == [say(sms_app, prompts.CATEGORY_MENU, "en")]
    assert phone.text("2") == [say(sms_app, prompts.DETAILS, "en")]
    phone.text("Sixteen hours a day #")
    phone.text("2")
    assert words_of(sms_app, sms_world) == [("hours", ["Sixteen hours a day"]),
                                           ("wages", ["no pay for March"])]


@pytest.mark.parametrize(("typed", "language"), [
    ("工厂ＭＹ４８２１扣工资", "zh_Hans"), ("ＭＹ４８２１", "en"), ("my４８２１", "en")])
def test_a_poster_code_typed_full_width_is_the_workplace(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, typed: str, language: str) -> None:
    """A Chinese keyboard in full-width mode types ＭＹ４８２１: in a first message, and
    alone at the workplace question (after a desk's text: tests/sms/test_answers.py). Its
    full-width letters are Latin ones: they show no language."""
    assert phone.text(typed) == [say(sms_app, prompts.CATEGORY_MENU, language)]
    phone.text("NEW")
    phone.text("hello")
    assert phone.text(typed) == [say(sms_app, prompts.CATEGORY_MENU, language)]


def test_a_full_width_hash_ends_the_details(phone: Phone, sms_world: SmsWorld,
                                            sms_app: Flask) -> None:
    """＃ is how a Chinese keyboard in full-width mode types #: alone, or ending the words."""
    phone.text("MY4821")
    phone.text("1")
    assert phone.text("他们扣了我们的护照＃") == [say(sms_app, prompts.CONSENT, "en")]
    phone.text("NEW")
    phone.text("MY4821")
    phone.text("1")
    assert phone.text("没有加班费") == []
    assert phone.text("＃") == [say(sms_app, prompts.CONSENT, "en")]


def test_misspelled_workplace_name_is_confirmed(phone: Phone, sms_world: SmsWorld,
                                               sms_app: Flask) -> None:
    phone.text("hi")
    assert phone.text("penang circit") == [
        say(sms_app, prompts.CONFIRM_WORKPLACE, "en", name="Penang Circuit Assembly")]
    assert phone.text("1") == [say(sms_app, prompts.CATEGORY_MENU, "en")]


@pytest.mark.parametrize("typed", ["ok", "2", "pe"])
def test_a_word_too_short_to_name_a_workplace_is_not_taken_for_one(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, typed: str) -> None:
    """Each is inside a factory's name ("Bangkok", "Penang"): no "Is it ...?" for them."""
    phone.text("hi")
    assert phone.text(typed) == [say(sms_app, prompts.WORKPLACE_AGAIN, "en")]
    assert phone.text("bangkk") == [
        say(sms_app, prompts.CONFIRM_WORKPLACE, "en", name="Bangkok Sensor Works")]


def test_a_name_typed_full_width_is_matched(phone: Phone, sms_world: SmsWorld,
                                            sms_app: Flask) -> None:
    phone.text("hi")
    assert phone.text("ｐｅｎａｎｇ　ｃｉｒｃｉｔ") == [
        say(sms_app, prompts.CONFIRM_WORKPLACE, "en", name="Penang Circuit Assembly")]


def test_a_workplace_named_in_the_workers_script_is_confirmed_in_it(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, db: Database) -> None:
    """A Chinese worker names the Penang factory as they know it; the map writes it in
    Latin letters and lists their name among its other names."""
    with db.transaction() as session:
        session.execute(update(Facility).where(Facility.id == sms_world.penang.id)
                        .values(other_names=["槟城电路装配厂"]))
    phone.text("hi")
    assert phone.text("槟城电路") == [
        say(sms_app, prompts.CONFIRM_WORKPLACE, "en", name="槟城电路装配厂")]
    assert phone.text("1") == [say(sms_app, prompts.CATEGORY_MENU, "en")]
    phone.text("1")
    phone.text("他们扣了工资 #")
    phone.text("2")
    with db.transaction() as session:
        assert session.scalars(select(Report.facility_id)).all() == [sms_world.penang.id]


def test_a_language_chosen_at_the_suggested_workplace_names_it_in_that_script(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, db: Database) -> None:
    with db.transaction() as session:
        session.execute(update(Facility).where(Facility.id == sms_world.penang.id)
                        .values(other_names=["Kilang Litar Pulau Pinang", "槟城电路装配厂"]))
    phone.text("hi")
    assert phone.text("penang circit") == [
        say(sms_app, prompts.CONFIRM_WORKPLACE, "en", name="Penang Circuit Assembly")]
    assert choose_language(phone, "zh_Hans") == [
        say(sms_app, prompts.CONFIRM_WORKPLACE, "zh_Hans", name="槟城电路装配厂")]
    assert choose_language(phone, "ms") == [  # Latin: the map's name
        say(sms_app, prompts.CONFIRM_WORKPLACE, "ms", name="Penang Circuit Assembly")]


def test_a_language_chosen_at_the_suggested_workplace_asks_about_it_again(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """0 while asked "Is it ...?": the same question comes back in the language chosen."""
    phone.text("hi")
    phone.text("penang circit")
    assert choose_language(phone, "ms") == [
        say(sms_app, prompts.CONFIRM_WORKPLACE, "ms", name="Penang Circuit Assembly")]
    assert phone.text("1") == [say(sms_app, prompts.CATEGORY_MENU, "ms")]


def test_no_to_the_suggested_workplace_asks_again(phone: Phone, sms_world: SmsWorld,
                                                  sms_app: Flask) -> None:
    phone.text("hi")
    phone.text("penang circit")
    assert phone.text("2") == [say(sms_app, prompts.WORKPLACE_AGAIN, "en")]


@pytest.mark.parametrize("digits", ["０１２", "๐๑๒", "٠١٢", "०१२", "০১২", "၀၁၂"],
                         ids=["fullwidth", "thai", "arabic", "devanagari", "bengali", "burmese"])
def test_every_menu_takes_the_digits_of_the_workers_keyboard(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, digits: str) -> None:
    """0 for the languages, 1 and 2 for yes and no, as a Chinese, Thai, Arabic, Hindi,
    Bengali or Burmese keyboard types them."""
    zero, one, two = digits
    phone.text("hi")
    assert phone.text(zero) == [language_menu(sms_app, 1)]
    phone.text("1")  # English
    assert phone.text("penang circit") == [
        say(sms_app, prompts.CONFIRM_WORKPLACE, "en", name="Penang Circuit Assembly")]
    assert phone.text(two) == [say(sms_app, prompts.WORKPLACE_AGAIN, "en")]
    phone.text("penang circit")
    assert phone.text(one) == [say(sms_app, prompts.CATEGORY_MENU, "en")]
    assert phone.text(one) == [say(sms_app, prompts.DETAILS, "en")]
    phone.text("They kept our passports.")
    assert phone.text("DONE") == [say(sms_app, prompts.CONSENT, "en")]
    [receipt_text] = phone.text(two)
    assert RECEIPT.search(receipt_text), receipt_text


def test_invalid_menu_answer_reprompts_then_sends_help(phone: Phone, sms_world: SmsWorld,
                                                       sms_app: Flask) -> None:
    phone.text("MY4821")
    menu = say(sms_app, prompts.CATEGORY_MENU, "en")
    assert phone.text("42") == [menu]
    assert phone.text("banana") == [menu]
    assert phone.text("x") == [say(sms_app, prompts.HELP, "en")]
    assert phone.text("1") == [say(sms_app, prompts.DETAILS, "en")]


def test_idle_conversation_starts_again(phone: Phone, sms_world: SmsWorld,
                                        sms_app: Flask) -> None:
    phone.text("MY4821")
    phone.text("1")
    phone.text("first words")
    with database(sms_app).transaction() as session:
        session.execute(update(Conversation).values(
            updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)))
    assert phone.text("hello again") == [say(sms_app, prompts.WELCOME, "en")]
    with database(sms_app).transaction() as session:
        assert len(session.scalars(select(ReportMessage)).all()) == 1  # nothing was lost


def test_hash_at_the_end_of_a_message_keeps_the_words_and_finishes(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask
) -> None:
    phone.text("MY4821")
    phone.text("2")
    assert phone.text("Sixteen hours a day #") == [say(sms_app, prompts.CONSENT, "en")]
    with database(sms_app).transaction() as session:
        assert len(session.scalars(select(ReportMessage)).all()) == 1


def test_yes_to_texts_keeps_the_number_sealed_to_the_courier(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask
) -> None:
    phone.text("MY4821")
    phone.text("1")
    phone.text("no pay #")
    phone.text("1")
    courier = PrivateKey.from_bytes(phone.settings.courier_key or b"")
    with database(sms_app).transaction() as session:
        report = session.scalars(select(Report)).one()
        assert report.contact_consent and report.contact_sealed is not None
        assert open_contact(report, courier).number == phone.number


def test_stop_forgets_the_number_and_start_begins_again(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask
) -> None:
    phone.text("MY4821")
    phone.text("1")
    phone.text("no pay #")
    phone.text("1")
    assert phone.text("STOP") == [say(sms_app, prompts.STOPPED, "en")]
    run_jobs(sms_app)
    with database(sms_app).transaction() as session:
        report = session.scalars(select(Report)).one()
        assert report.contact_sealed is None and not report.contact_consent
        assert session.scalars(select(OptOut)).one() is not None
    assert phone.text("hello") == []  # no more texts after STOP
    assert phone.text("START") == [say(sms_app, prompts.STARTED, "en")]
    assert phone.text("MY4821") == [say(sms_app, prompts.CATEGORY_MENU, "en")]


def test_status_with_the_right_receipt_shows_the_latest_answer(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask
) -> None:
    receipt = sent_report(phone, "no pay")
    assert phone.text(f"STATUS {receipt}") == [say(sms_app, prompts.STATUS_NONE, "en")]
    with database(sms_app).transaction() as session:
        report = session.scalars(select(Report)).one()
        add_desk_reply(session, report, "We meet the manager on Friday.", author_account_id=None)
    assert phone.text(f"status {receipt.replace(' ', '')}") == [
        say(sms_app, prompts.STATUS_REPLY, "en", text="We meet the manager on Friday.")]


def test_status_is_answered_in_the_language_of_the_report(
    phone: Phone, sms_world: SmsWorld, sms_app: Flask
) -> None:
    """A worker who chose Spanish on the Malaysian number (English by default) asks with the
    English keyword once the report is sent: the answer is in Spanish, as the report was."""
    phone.text("hello")
    choose_language(phone, "es")
    receipt = sent_report(phone, "no pagan")
    assert phone.text(f"STATUS {receipt}") == [say(sms_app, prompts.STATUS_NONE, "es")]
    with database(sms_app).transaction() as session:
        report = session.scalars(select(Report)).one()
        assert report.language == "es"
        add_desk_reply(session, report, "Nos reunimos el viernes.", author_account_id=None)
    assert phone.text(f"STATUS {receipt}") == [
        say(sms_app, prompts.STATUS_REPLY, "es", text="Nos reunimos el viernes.")]
    assert phone.text("STATUS 1234 5678 1234 5678") == [  # no report: the number's language
        say(sms_app, prompts.STATUS_NOT_FOUND, "en")]


def test_status_with_a_wrong_receipt_says_not_found(phone: Phone, sms_world: SmsWorld,
                                                    sms_app: Flask) -> None:
    assert phone.text("STATUS 1234 5678 1234 5678") == [
        say(sms_app, prompts.STATUS_NOT_FOUND, "en")]
    assert phone.text("STATUS abc") == [say(sms_app, prompts.STATUS_NOT_FOUND, "en")]


def test_help_is_answered_in_one_message(phone: Phone, sms_world: SmsWorld,
                                         sms_app: Flask) -> None:
    assert phone.text("HELP") == [say(sms_app, prompts.HELP, "en")]


def test_new_starts_over(phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    phone.text("MY4821")
    assert phone.text("NEW") == [say(sms_app, prompts.WELCOME, "en")]


def test_language_menu_lists_every_language_by_its_own_name(
    phone: Phone, sms_world: SmsWorld
) -> None:
    phone.text("hi")
    first = phone.text("0")[0]
    second = phone.text("9")[0]
    for language in LANGUAGES:
        assert language.name in first + second


def test_a_poster_code_sent_to_the_language_menu_is_the_workplace(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """A worker who opened the menu and then carries on: same language, no menu again."""
    phone.text("hello")
    phone.text("0")
    assert phone.text("MY4821") == [say(sms_app, prompts.CATEGORY_MENU, "en")]
    phone.text("0")  # the menu again, from the category question
    assert phone.text("wages") == [say(sms_app, prompts.CATEGORY_MENU, "en")]


@pytest.mark.parametrize("typed", ["Bahasa Melayu", "malay", "  BAHASA MELAYU "])
def test_a_language_named_at_the_menu_is_chosen(phone: Phone, sms_world: SmsWorld,
                                                sms_app: Flask, typed: str) -> None:
    phone.text("0")
    phone.text("9")  # its second page: the name works from either
    assert phone.text(typed) == [say(sms_app, prompts.WORKPLACE, "ms")]


def test_burmese_named_as_a_zawgyi_keyboard_types_it_is_chosen(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    phone.text("0")
    # "Myanmar" on a Zawgyi keyboard (written out: medial ra before the letter, U+1039 asat)
    assert phone.text("\u103b\u1019\u1014\u1039\u1019\u102c") == [
        zawgyi_spelling(say(sms_app, prompts.WORKPLACE, "my"))]


def test_a_number_the_menu_does_not_offer_shows_it_again(phone: Phone, sms_world: SmsWorld,
                                                         sms_app: Flask) -> None:
    phone.text("0")
    assert phone.text("8") == [language_menu(sms_app, 1)]
    phone.text("9")
    assert phone.text("0") == [language_menu(sms_app, 2)]


def test_no_desk_to_seal_to_is_said_and_the_place_kept(phone: Phone, sms_app: Flask) -> None:
    from tests import factories
    from tests.sms.conftest import MY_NUMBER

    with database(sms_app).transaction() as session:
        factories.desk(session, country="MX")  # covers nothing, and is no fallback
        factories.facility(session, name="Uncovered Works", code="TH7777")
        factories.sms_number(session, MY_NUMBER, country="MY", language="en")
    assert phone.text("TH7777") == [say(sms_app, prompts.CATEGORY_MENU, "en")]
    assert phone.text("1") == [say(sms_app, prompts.UNAVAILABLE, "en")]
    with database(sms_app).transaction() as session:
        assert session.scalars(select(Report)).all() == []
        assert session.scalars(select(Conversation)).one().step == "category"


@pytest.mark.parametrize(("first", "lang"), [
    ("สวัสดีครับ", "th"), ("你好", "zh_Hans"), ("xin chào", "vi"), ("মালিক বেতন দেয়নি", "bn"),
    ("مرحبا", "ar"), ("မင်္ဂလာပါ", "my"),
    ("hello", "en"), ("xin chao", "en"),  # Latin letters alone show no language of theirs
    ("नमस्ते", "en"),  # Devanagari: Hindi or Nepali, so the number's language and its menu
])
def test_a_first_message_is_answered_in_the_language_its_letters_show(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, first: str, lang: str) -> None:
    """A migrant worker texts the number of the country they work in (this one starts in
    English): words in Thai are answered in Thai, without the language menu's two texts."""
    assert phone.text(first) == [say(sms_app, prompts.WELCOME, lang)]
    assert phone.text("MY4821") == [say(sms_app, prompts.CATEGORY_MENU, lang)]


def test_a_first_message_in_zawgyi_is_answered_in_burmese_as_the_phone_spells_it(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    hello = "\u1019\u1004\u1039\u1002\u101c\u102c\u1015\u102b"  # မင်္ဂလာပါ typed in Zawgyi
    assert phone.text(hello) == [zawgyi_spelling(say(sms_app, prompts.WELCOME, "my"))]


def test_a_first_message_in_chinese_to_the_mexican_number_is_answered_in_chinese(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    phone.to = MX_NUMBER
    assert phone.text("你好") == [say(sms_app, prompts.WELCOME, "zh_Hans")]
    phone.number = "+525512345678"
    assert phone.text("hola") == [say(sms_app, prompts.WELCOME, "es")]


def test_a_report_from_a_first_message_in_thai_is_in_thai(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """The poster code with the story, in Thai: the whole conversation in Thai, the story
    kept, and the report's language Thai (the desk's translation starts from it)."""
    assert phone.text("MY4821 หัวหน้ายึดพาสปอร์ต") == [say(sms_app, prompts.CATEGORY_MENU, "th")]
    assert phone.text("4") == [say(sms_app, prompts.DETAILS_MORE, "th")]
    assert phone.text("#") == [say(sms_app, prompts.CONSENT, "th")]
    [receipt_text] = phone.text("2")
    receipt = RECEIPT.search(receipt_text)
    assert receipt is not None
    assert receipt_text == say(sms_app, prompts.RECEIPT, "th", receipt=receipt.group(1))
    with database(sms_app).transaction() as session:
        report = session.scalars(select(Report)).one()
        assert report.language == "th"
    assert words_of(sms_app, sms_world) == [("forced_labour", ["หัวหน้ายึดพาสปอร์ต"])]


def test_later_words_in_another_script_keep_the_language_chosen(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    """Only a first message says which language to answer in: after the menu, the
    worker's choice stands, whatever script a factory's name or their words are in."""
    phone.text("hello")
    choose_language(phone, "ms")
    assert phone.text("MY4821 หัวหน้ายึดพาสปอร์ต") == [say(sms_app, prompts.CATEGORY_MENU, "ms")]
    assert phone.text("1") == [say(sms_app, prompts.DETAILS_MORE, "ms")]
    assert phone.text("他们没有付工资") == []
    assert phone.text("#") == [say(sms_app, prompts.CONSENT, "ms")]


@pytest.mark.parametrize(("lang", "yes", "no"), [
    ("en", "yes", "No."), ("es", "Sí", "no"), ("zh_Hans", "可以", "不是"), ("th", "ได้", "ไม่ใช่"),
    ("vi", "Có", "không"), ("ms", "ya", "Tidak"), ("my", "ဟုတ်ကဲ့", "မဟုတ်"), ("ar", "نعم", "لا"),
])
def test_yes_and_no_in_words_answer_the_yes_or_no_questions(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, lang: str, yes: str,
        no: str) -> None:
    """"Is it …? 1 for yes, 2 for no" and "May we text you back?": the worker who answers
    in words, as the question says them, is understood (no paid text to say it again)."""
    phone.text("hello")
    if lang != "en":
        choose_language(phone, lang)
    assert phone.text("penang circuit") == [
        say(sms_app, prompts.CONFIRM_WORKPLACE, lang, name="Penang Circuit Assembly")]
    assert phone.text(no) == [say(sms_app, prompts.WORKPLACE_AGAIN, lang)]
    phone.text("penang circuit")
    assert phone.text(yes) == [say(sms_app, prompts.CATEGORY_MENU, lang)]
    phone.text("1")
    phone.text("no pay #")
    [receipt_text] = phone.text(yes)
    assert RECEIPT.search(receipt_text)
    with database(sms_app).transaction() as session:
        assert session.scalars(select(Report)).one().contact_consent


def test_no_in_words_to_being_texted_back_keeps_no_number(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    phone.text("MY4821")
    phone.text("1")
    phone.text("no pay #")
    assert RECEIPT.search(phone.text("no")[0])
    with database(sms_app).transaction() as session:
        report = session.scalars(select(Report)).one()
        assert not report.contact_consent and report.contact_sealed is None


@pytest.mark.parametrize("answer", ["yes please", "maybe", "ya"])  # "ya" is Malay, not English
def test_other_words_are_not_an_answer(phone: Phone, sms_world: SmsWorld, sms_app: Flask,
                                       answer: str) -> None:
    phone.text("MY4821")
    phone.text("1")
    phone.text("no pay #")
    assert phone.text(answer) == [say(sms_app, prompts.CONSENT, "en")]
