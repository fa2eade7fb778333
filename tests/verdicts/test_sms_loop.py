"""The verdict loop by SMS: the desk asks, the worker's phone gets the question in the
worker's language, and "3 nothing changed" is recorded with the comment sealed to the desk."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from crypto.envelope import open_sealed
from crypto.hierarchy import TEST_FAST
from intake.cases.models import Case
from intake.db import Database, today
from intake.messaging import prompts
from intake.messaging.conversation import VERDICT_TIMEOUT, Inbound, handle
from intake.messaging.models import Conversation, OutboundMessage, OutboundStatus
from intake.remedy.models import Verdict, WorkerVerdict
from intake.remedy.verdicts import VERDICT_KIND
from intake.reports.burmese import zawgyi_spelling
from intake.reports.service import verdict_context
from intake.retention.service import run
from intake.settings import Settings
from tests import factories, leaks
from tests.burmese import ZAWGYI_WORDS, burmese
from tests.monitor.conftest import Browser, DeskWorld
from tests.races import while_retention_deletes
from tests.sms.conftest import Phone, run_jobs
from tests.twilio_fake import TwilioFake
from tests.verdicts.conftest import VERDICT_NUMBER, ask, open_case, report_by_sms, sms_reports

CANARY = "CANARY-VERDICT the supervisor still takes our pay"
BURMESE_VERDICT_NUMBER = "+95900000155"  # answers in Burmese (no other test uses it)


def malay(app: Flask, text: Any, **values: str) -> str:
    with app.test_request_context(), force_locale("ms"):
        rendered = str(text)
    return rendered % values if values else rendered


def asked_by_sms(app: Flask, db: Database, desks: DeskWorld, phone: Phone,
                 browser: Browser) -> None:
    """A Malay-speaking worker reports by SMS and says yes to texts; the desk asks."""
    report_by_sms(phone)
    case = open_case(db, desks, sms_reports(db))
    browser.login(desks.alice)
    assert ask(browser, desks, case).status_code == 303
    run_jobs(app)


def verdicts(db: Database) -> list[WorkerVerdict]:
    with db.transaction() as session:
        rows = list(session.scalars(select(WorkerVerdict)))
        session.expunge_all()
        return rows


def test_the_question_reaches_the_phone_in_the_workers_language(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        twilio: TwilioFake) -> None:
    asked_by_sms(sms_app, db, numbers, phone, browser)
    [sent] = twilio.created()
    assert sent.form["To"] == phone.number and sent.form["From"] == VERDICT_NUMBER
    assert sent.form["Body"] == malay(sms_app, prompts.VERDICT_QUESTION,
                                      name="Penang Circuit Assembly")
    assert sent.form["Body"].startswith("Adakah masalah di Penang Circuit Assembly")
    with db.transaction() as session:
        outbound = session.scalars(select(OutboundMessage)).one()
        assert outbound.kind == VERDICT_KIND and outbound.message_id is None
        assert outbound.status is OutboundStatus.SENT


def test_an_answer_with_a_comment_is_recorded_and_the_comment_sealed_to_the_desk(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        settings: Settings, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    asked_by_sms(sms_app, db, numbers, phone, browser)
    assert phone.text("3 " + CANARY) == [malay(sms_app, prompts.VERDICT_THANKS)]
    [given] = verdicts(db)
    assert given.verdict is Verdict.NO and given.channel == "sms"
    assert given.comment_sealed is not None
    opened = open_sealed(given.comment_sealed, numbers.a.key, context=verdict_context(given.id))
    assert opened.decode() == CANARY
    for place, stored in leaks.resting_places(settings).items():
        assert leaks.found_in(stored, {"comment": CANARY}) == [], place
    assert leaks.found_in(leaks.captured_logs(caplog, capsys), {"comment": CANARY}) == []
    with db.transaction() as session:  # the conversation is over
        assert session.scalars(select(Conversation)).all() == []


def test_the_panel_shows_the_count_below_k_and_the_comment(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone,
        browser: Browser) -> None:
    asked_by_sms(sms_app, db, numbers, phone, browser)
    phone.text("3 nothing changed")
    page = browser.get(f"/monitor/d/{numbers.a.desk.id}/cases/"
                       f"{_case_id(db)}").get_data(as_text=True)
    assert "<dt>No, not fixed</dt><dd>&lt;3</dd>" in page
    assert "<dt>Answers</dt><dd>&lt;3</dd>" in page
    assert "nothing changed" in page


def test_a_wrong_answer_is_asked_again_once(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone,
        browser: Browser) -> None:
    asked_by_sms(sms_app, db, numbers, phone, browser)
    question = malay(sms_app, prompts.VERDICT_QUESTION, name="Penang Circuit Assembly")
    assert phone.text("maybe") == [question]
    assert phone.text("2 only some of us were paid") == [
        malay(sms_app, prompts.VERDICT_THANKS)]
    [given] = verdicts(db)
    assert given.verdict is Verdict.PARTLY


def test_a_second_wrong_answer_starts_a_new_conversation(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone,
        browser: Browser) -> None:
    asked_by_sms(sms_app, db, numbers, phone, browser)
    phone.text("maybe")
    assert phone.text("hello") == [malay(sms_app, prompts.WELCOME)]
    assert phone.text("3") == [malay(sms_app, prompts.WORKPLACE_AGAIN)]
    assert verdicts(db) == []


def test_digits_of_the_workers_script_are_understood(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone,
        browser: Browser) -> None:
    asked_by_sms(sms_app, db, numbers, phone, browser)
    phone.text("\u0661")  # ARABIC-INDIC DIGIT ONE
    [given] = verdicts(db)
    assert given.verdict is Verdict.YES and given.comment_sealed is None


@pytest.mark.parametrize(("waited", "recorded"), [
    (VERDICT_TIMEOUT - dt.timedelta(hours=1), True),
    (VERDICT_TIMEOUT + dt.timedelta(hours=1), False),
])
def test_the_verdict_step_waits_two_weeks(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        waited: dt.timedelta, recorded: bool) -> None:
    asked_by_sms(sms_app, db, numbers, phone, browser)
    with db.transaction() as session:
        asked_at = session.scalars(select(Conversation)).one().updated_at
    later = asked_at + waited
    with sms_app.test_request_context(), db.transaction() as session:
        handle(session, Inbound(sender=phone.number, to=VERDICT_NUMBER, body="3"),
               pepper=phone.settings.pepper, profile=TEST_FAST, now=later)
    assert (len(verdicts(db)) == 1) is recorded


def test_a_worker_who_said_no_to_texts_gets_no_text(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        twilio: TwilioFake) -> None:
    report_by_sms(phone, consent=False)
    case = open_case(db, numbers, sms_reports(db))
    browser.login(numbers.alice)
    assert ask(browser, numbers, case).status_code == 303
    run_jobs(sms_app)
    assert twilio.created() == []
    with db.transaction() as session:
        assert session.scalars(select(OutboundMessage)).all() == []


def test_a_failed_send_is_retried_and_sent_once(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        twilio: TwilioFake) -> None:
    report_by_sms(phone)
    run_jobs(sms_app)
    twilio.fail_next(1, status=500)
    case = open_case(db, numbers, sms_reports(db))
    browser.login(numbers.alice)
    ask(browser, numbers, case)
    run_jobs(sms_app)
    assert len(twilio.created()) == 2
    assert phone.text("1")[0] == malay(sms_app, prompts.VERDICT_THANKS)


def test_a_report_in_progress_is_not_taken_over_by_the_question(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        twilio: TwilioFake) -> None:
    report_by_sms(phone)
    case = open_case(db, numbers, sms_reports(db))
    phone.text("MY4821")  # the same worker begins a new report meanwhile
    browser.login(numbers.alice)
    ask(browser, numbers, case)
    run_jobs(sms_app)
    assert len(twilio.created()) == 1  # asked all the same; the answer may come on the web
    assert phone.text("3") == [malay(sms_app, prompts.DETAILS)]  # 3 = Safety, as it was
    assert verdicts(db) == []


def _case_id(db: Database) -> str:
    from intake.cases.models import Case

    with db.transaction() as session:
        return str(session.scalars(select(Case.id)).one())


def test_an_answer_for_a_report_retention_has_deleted_is_told_so(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone,
        browser: Browser) -> None:
    """The case closed long ago and retention deleted the report (its time was up) before
    the worker answered: the answer is not kept, and the worker is told why, in their
    language (not greeted as if they had never written)."""
    asked_by_sms(sms_app, db, numbers, phone, browser)
    with db.transaction() as session:
        session.scalars(select(Case)).one().closed_on = today()
    assert run(db, today=today() + dt.timedelta(days=800)).reports_deleted == 1
    assert phone.text("1") == [malay(sms_app, prompts.VERDICT_GONE)]
    assert verdicts(db) == []
    assert phone.text("MY4821") == [malay(sms_app, prompts.CATEGORY_MENU)]


def test_an_answer_that_arrives_while_retention_deletes_the_report_is_told_so(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone,
        browser: Browser) -> None:
    """The same when retention deletes the report while the answer is on the way: the
    answer, which found the report, waits for its row and then finds it gone. Nothing is
    kept and the worker is told the answer was not saved (not a 500 to Twilio)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: retention cannot delete meanwhile")
    asked_by_sms(sms_app, db, numbers, phone, browser)
    with db.transaction() as session:
        session.scalars(select(Case)).one().closed_on = today()
    answer = while_retention_deletes(db, lambda: phone.text("3 nothing changed"),
                                     today=today() + dt.timedelta(days=800))
    assert answer == [malay(sms_app, prompts.VERDICT_GONE)]
    assert verdicts(db) == []


def test_a_phone_that_types_zawgyi_is_asked_and_thanked_in_zawgyi(
        sms_app: Flask, sms_settings: Settings, db: Database, numbers: DeskWorld,
        browser: Browser, twilio: TwilioFake) -> None:
    """The spelling is kept sealed with the number: the question and the conversation it
    starts are in Zawgyi, weeks after the report's own conversation has ended."""
    with db.transaction() as session:
        factories.sms_number(session, BURMESE_VERDICT_NUMBER, country="MM", language="my")
    phone = Phone(sms_app.test_client(), sms_settings, to=BURMESE_VERDICT_NUMBER)
    phone.text("MY4821")
    phone.text("1")
    phone.text(ZAWGYI_WORDS + " #")
    phone.text("1")
    case = open_case(db, numbers, sms_reports(db))
    browser.login(numbers.alice)
    assert ask(browser, numbers, case).status_code == 303
    run_jobs(sms_app)
    [sent] = twilio.created()
    question = burmese(sms_app, prompts.VERDICT_QUESTION, name="Penang Circuit Assembly")
    assert sent.form["Body"] == zawgyi_spelling(question) != question
    thanks = burmese(sms_app, prompts.VERDICT_THANKS)
    assert phone.text("1") == [zawgyi_spelling(thanks)] != [thanks]
    assert [given.verdict for given in verdicts(db)] == [Verdict.YES]


@pytest.mark.parametrize(("answer", "verdict", "comment"), [
    ("Tidak", Verdict.NO, None),
    ("tidak, gaji masih belum dibayar", Verdict.NO, "tidak, gaji masih belum dibayar"),
    ("Ya!", Verdict.YES, None),
    ("yes", Verdict.YES, None),  # English words count in every language
    ("No. They pay late again", Verdict.NO, "No. They pay late again"),
])
def test_yes_or_no_in_words_is_an_answer(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        answer: str, verdict: Verdict, comment: str | None) -> None:
    """A worker asked "was it fixed? 1 yes, 2 partly, 3 no" who answers in words: yes or
    no, alone or first; what they wrote beyond it is the comment, word for word."""
    asked_by_sms(sms_app, db, numbers, phone, browser)
    assert phone.text(answer) == [malay(sms_app, prompts.VERDICT_THANKS)]
    [given] = verdicts(db)
    assert given.verdict is verdict
    if comment is None:
        assert given.comment_sealed is None
    else:
        assert given.comment_sealed is not None
        opened = open_sealed(given.comment_sealed, numbers.a.key,
                             context=verdict_context(given.id))
        assert opened.decode() == comment
