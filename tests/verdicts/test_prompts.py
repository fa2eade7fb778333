"""The verdict question: within the SMS budget in every language even for a long workplace
name, and the answers "1/2/3 [comment]" in any script's digits."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from intake.db import Database
from intake.i18n import LANGUAGES
from intake.messaging.conversation import verdict_answer
from intake.messaging.segments import count_segments
from intake.remedy.models import Verdict
from intake.remedy.verdicts import question_text
from intake.reports.models import Report
from tests import factories
from tests.monitor.conftest import DeskWorld, submit

LONG_NAME = "Penang Precision Circuit Assembly and Electronics Manufacturing Sdn Bhd Plant 2"


@pytest.mark.parametrize("lang", [language.code for language in LANGUAGES])
def test_the_question_fits_the_budget_even_for_a_long_name(
        app: Flask, db: Database, desks: DeskWorld, lang: str) -> None:
    with db.transaction() as session:
        long_named = factories.facility(session, name=LONG_NAME, code="MY9999")
        factories.cover(session, desks.a, long_named)
    report_id, _ = submit(db, long_named, "x", language=lang)
    with app.test_request_context(), db.transaction() as session:
        text = question_text(session, session.get_one(Report, uuid.UUID(report_id)))
    counted = count_segments(text)
    assert counted.segments <= (1 if counted.encoding == "GSM-7" else 2), text
    assert "Penang Precision" in text


@pytest.mark.parametrize(("body", "expected"), [
    ("3 nothing changed", (Verdict.NO, "nothing changed")),
    ("1", (Verdict.YES, "")),
    (" 2. only some of us", (Verdict.PARTLY, "only some of us")),
    ("3-no", (Verdict.NO, "no")),
    ("\u09e9 \u0995\u09bf\u099b\u09c1", (Verdict.NO, "\u0995\u09bf\u099b\u09c1")),  # BENGALI 3
    ("\u0e51", (Verdict.YES, "")),  # THAI DIGIT ONE
])
def test_answers_are_understood(body: str, expected: tuple[Verdict, str]) -> None:
    assert verdict_answer(body) == expected


@pytest.mark.parametrize("body", ["", "yes", "4", "12", "0 nothing", "31 days"])
def test_other_messages_are_not_answers(body: str) -> None:
    assert verdict_answer(body) is None
