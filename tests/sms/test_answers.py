"""A worker answers a text from the desk by replying to it: the words are added to that
report, sealed to its desks, as on the follow-up page; a new report is one keyword away."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select, update

from crypto.envelope import open_sealed
from intake.db import Database
from intake.messaging import prompts
from intake.messaging.conversation import ANSWER, VERDICT, await_answer, await_verdict
from intake.messaging.models import Conversation
from intake.reports.models import Author, Report, ReportMessage
from intake.reports.service import message_context
from intake.settings import Settings
from tests import leaks
from tests.sms.conftest import Phone, SmsWorld, run_jobs, say
from tests.sms.test_outbound import WORDS, reply_and_queue, report_by_sms
from tests.twilio_fake import TwilioFake

QUESTION = "Which line do you work on, and since when?"
CANARY = "CANARY-ANSWER line 3, night shift, since June"


def asked(phone: Phone, app: Flask) -> None:
    """The worker reported by SMS, said yes to texts, and the desk's question was texted."""
    report_by_sms(phone, consent=True)
    assert reply_and_queue(app, QUESTION) is not None
    run_jobs(app)


def worker_words(db: Database, world: SmsWorld) -> list[str]:
    """What the worker sent to their report, opened by its desk, oldest first."""
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        return [open_sealed(m.body_sealed, world.union.key,
                            context=message_context(report.id, m.id)).decode()
                for m in session.scalars(select(ReportMessage).where(
                    ReportMessage.author == Author.WORKER).order_by(ReportMessage.seq))]


def test_a_reply_to_the_desks_text_is_added_to_the_report(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, db: Database, settings: Settings,
        twilio: TwilioFake, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    asked(phone, sms_app)
    assert [sent.form["Body"] for sent in twilio.created()] == [QUESTION]
    added = say(sms_app, prompts.ANSWER_ADDED)
    assert phone.text(CANARY) == [added]
    assert phone.text("and two others on line 4 #") == [added]  # more than one message
    assert worker_words(db, sms_world) == [WORDS, CANARY, "and two others on line 4"]
    with db.transaction() as session:
        assert session.scalars(select(Conversation.step)).one() == ANSWER
    for place, stored in leaks.resting_places(settings).items():
        assert leaks.found_in(stored, {"answer": CANARY}) == [], place
    assert leaks.found_in(leaks.captured_logs(caplog, capsys), {"answer": CANARY}) == []


@pytest.mark.parametrize("code", ["MY4821", "ＭＹ４８２１"])  # the second: full-width
def test_a_poster_code_or_new_after_the_desks_text_begins_a_new_report(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, db: Database, code: str) -> None:
    asked(phone, sms_app)
    assert phone.text(code) == [say(sms_app, prompts.CATEGORY_MENU)]
    assert phone.text("NEW") == [say(sms_app, prompts.WELCOME)]
    assert worker_words(db, sms_world) == [WORDS]  # neither was taken for an answer


def test_status_still_works_while_the_answer_is_awaited(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask) -> None:
    asked(phone, sms_app)
    [answer] = phone.text("STATUS 0000 0000 0000 0000")
    assert answer == say(sms_app, prompts.STATUS_NOT_FOUND)


def test_the_answer_is_awaited_two_weeks(phone: Phone, sms_world: SmsWorld, sms_app: Flask,
                                         db: Database) -> None:
    asked(phone, sms_app)
    for days_since, answer, added in [(5, "line 3", prompts.ANSWER_ADDED),
                                      (15, "line 4", prompts.WELCOME)]:
        with db.transaction() as session:
            session.execute(update(Conversation).values(
                updated_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days_since)))
        assert phone.text(answer) == [say(sms_app, added)]
    assert worker_words(db, sms_world) == [WORDS, "line 3"]


def test_a_report_in_progress_is_not_taken_over_by_the_desks_text(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, db: Database) -> None:
    report_by_sms(phone, consent=True)
    phone.text("MY4821")  # a second report, begun before the desk's text goes out
    assert reply_and_queue(sms_app, QUESTION) is not None
    run_jobs(sms_app)
    assert phone.text("3") == [say(sms_app, prompts.DETAILS)]  # still the second report
    with db.transaction() as session:
        assert session.scalars(select(Conversation.step)).one() == "details"


def test_a_verdict_question_outranks_the_desks_text(sms_world: SmsWorld, sms_app: Flask,
                                                   phone: Phone, db: Database) -> None:
    """Its answer is asked for once: a desk's text sent meanwhile does not take its place;
    the question, sent after a desk's text, does."""
    report_by_sms(phone, consent=True)
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        report_id = session.scalars(select(Report.id)).one()
        waiting = {"report_id": report_id, "inbound_number": "+60326000100",
                   "language": "en", "now": now}
        assert await_verdict(session, tag="t", **waiting)
        assert not await_answer(session, tag="t", **waiting)
        assert session.get(Conversation, "t").step == VERDICT  # type: ignore[union-attr]
        assert await_answer(session, tag="u", **waiting)
        assert await_verdict(session, tag="u", **waiting)
        assert session.get(Conversation, "u").step == VERDICT  # type: ignore[union-attr]
