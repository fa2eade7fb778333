"""The verdict loop on the web: the desk asks, a worker without SMS opens the follow-up page
with the receipt, answers, and the desk sees the count and the comment."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from intake.audit.models import AuditEvent
from intake.db import Database
from intake.messaging.models import OutboundMessage
from intake.messaging.outbound import SEND_TEXT_JOB
from intake.remedy.models import Verdict, WorkerVerdict
from tests.held_jobs import held
from tests.monitor.conftest import Browser, DeskWorld, submit
from tests.races import at_once
from tests.twilio_fake import TwilioFake
from tests.verdicts.conftest import ask, case_row, open_case
from tests.web.conftest import Worker

QUESTION = "Was the problem really fixed?"


def test_a_worker_answers_on_the_follow_up_page(
        app: Flask, db: Database, desks: DeskWorld, browser: Browser,
        twilio: TwilioFake) -> None:
    report_id, receipt = submit(db, desks.factory_a, "Overtime not paid.")
    case = open_case(db, desks, [uuid.UUID(report_id)])
    worker = Worker(app.test_client())
    worker.get("/en/followup")
    assert QUESTION not in worker.post("/en/followup", {"receipt": receipt}).get_data(
        as_text=True)
    browser.login(desks.alice)
    answer = ask(browser, desks, case)
    assert answer.status_code == 303
    assert "1 report(s)" in browser.get(answer.headers["Location"]).get_data(as_text=True)
    assert QUESTION in worker.post("/en/followup", {"receipt": receipt}).get_data(as_text=True)
    saved = worker.post("/en/followup", {"receipt": receipt, "action": "verdict",
                                         "verdict": "yes", "comment": "We got paid in full"})
    assert "Your answer was saved" in saved.get_data(as_text=True)
    with db.transaction() as session:
        given = session.scalars(select(WorkerVerdict)).one()
        assert given.verdict is Verdict.YES and given.channel == "web"
        assert session.scalars(select(OutboundMessage)).all() == []  # nobody to text
    assert twilio.created() == []
    page = browser.get(case.url(desks)).get_data(as_text=True)
    assert "<dt>Yes, fixed</dt><dd>&lt;3</dd>" in page and "We got paid in full" in page


def test_asking_sets_the_date_and_is_audited(
        db: Database, desks: DeskWorld, browser: Browser) -> None:
    report_id, _ = submit(db, desks.factory_a, "Overtime not paid.")
    case = open_case(db, desks, [uuid.UUID(report_id)])
    browser.login(desks.alice)
    ask(browser, desks, case)
    assert case_row(db, case).verdict_requested_on is not None
    with db.transaction() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case.verdicts_requested")).one()
        assert event.object_id == str(case.id) and event.detail == "reports=1 texts=0"


def test_the_workers_are_asked_only_once(
        db: Database, desks: DeskWorld, browser: Browser) -> None:
    report_id, _ = submit(db, desks.factory_a, "Overtime not paid.")
    case = open_case(db, desks, [uuid.UUID(report_id)])
    browser.login(desks.alice)
    ask(browser, desks, case)
    again = ask(browser, desks, case)
    assert again.status_code == 400
    assert "the workers were asked already" in again.get_data(as_text=True)
    with db.transaction() as session:
        assert len(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case.verdicts_requested")).all()) == 1


def test_a_closed_case_cannot_ask(db: Database, desks: DeskWorld, browser: Browser) -> None:
    from intake.cases.models import Case, CaseStatus

    report_id, _ = submit(db, desks.factory_a, "Overtime not paid.")
    case = open_case(db, desks, [uuid.UUID(report_id)])
    with db.transaction() as session:
        session.get_one(Case, case.id).status = CaseStatus.CLOSED_OTHER
    browser.login(desks.alice)
    refused = ask(browser, desks, case)
    assert refused.status_code == 400 and "the case is closed" in refused.get_data(as_text=True)
    assert case_row(db, case).verdict_requested_on is None


def test_another_desks_member_gets_404(
        db: Database, desks: DeskWorld, browser: Browser) -> None:
    report_id, _ = submit(db, desks.factory_a, "Overtime not paid.")
    case = open_case(db, desks, [uuid.UUID(report_id)])
    browser.login(desks.bella)
    browser.get("/monitor/password")
    response = browser.post(case.url(desks, "/verdicts/request"))
    assert response.status_code == 404
    desk_b = f"/monitor/d/{desks.b.desk.id}/cases/{case.id}/verdicts/request"
    assert browser.post(desk_b).status_code == 404  # desk B does not hold this case
    assert case_row(db, case).verdict_requested_on is None


def test_a_stale_form_asks_nobody(db: Database, desks: DeskWorld, browser: Browser) -> None:
    report_id, _ = submit(db, desks.factory_a, "Overtime not paid.")
    case = open_case(db, desks, [uuid.UUID(report_id)])
    browser.login(desks.alice)
    browser.token = "stale"
    assert browser.post(case.url(desks, "/verdicts/request")).status_code == 400
    assert case_row(db, case).verdict_requested_on is None


def test_an_answer_sent_twice_at_once_is_stored_once_and_the_last_one_counts(
        app: Flask, db: Database, desks: DeskWorld, browser: Browser,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A double click on "Send my answer": the second request looked for an answer before
    the first one was stored (made deterministic by letting its look-up find nothing), so
    its insert meets the first answer's row: it replaces that answer instead of a 500."""
    from intake.reports import service as reports

    report_id, receipt = submit(db, desks.factory_a, "Overtime not paid.")
    case = open_case(db, desks, [uuid.UUID(report_id)])
    browser.login(desks.alice)
    ask(browser, desks, case)
    worker = Worker(app.test_client())
    worker.get("/en/followup")
    worker.post("/en/followup", {"receipt": receipt})
    first = worker.post("/en/followup", {"receipt": receipt, "action": "verdict",
                                         "verdict": "no", "comment": ""})
    assert "Your answer was saved" in first.get_data(as_text=True)
    looked = reports._verdict_of
    missed: list[bool] = []

    def before_the_first_was_stored(*args: Any) -> WorkerVerdict | None:
        if not missed:
            missed.append(True)
            return None
        return looked(*args)

    monkeypatch.setattr(reports, "_verdict_of", before_the_first_was_stored)
    second = worker.post("/en/followup", {"receipt": receipt, "action": "verdict",
                                          "verdict": "partly", "comment": "Half of it"})
    assert missed and second.status_code == 200
    assert "Your answer was saved" in second.get_data(as_text=True)
    with db.transaction() as session:
        given = session.scalars(select(WorkerVerdict)).one()
        assert given.verdict is Verdict.PARTLY and given.comment_sealed is not None


def test_asking_twice_at_the_same_moment_texts_each_worker_once(
        app: Flask, db: Database, desks: DeskWorld, browser: Browser) -> None:
    """Two monitors (or a double click) press "Ask" together: both found the workers not
    asked yet before either saved (tests.races lines them up); one asks, the other is told."""
    report_id, _ = submit(db, desks.factory_a, "Overtime not paid.", number="+60123456789")
    case = open_case(db, desks, [uuid.UUID(report_id)])
    browser.login(desks.alice)
    other = Browser(app.test_client(), db, environ={"REMOTE_ADDR": "198.51.100.99"})
    other.login(desks.amir)
    browser.get(case.url(desks)), other.get(case.url(desks))
    url = case.url(desks, "/verdicts/request")
    with held(app) as queue:
        answers = at_once(db.engine, lambda: browser.post(url), lambda: other.post(url))
    assert sorted(a.status_code for a in answers) == [303, 400]
    refused = next(a for a in answers if a.status_code == 400)
    assert "the workers were asked already" in refused.get_data(as_text=True)
    owed = texts_owed(db)
    assert len(owed) == 1 and queue.held == owed  # one question stored, one text queued
    with db.transaction() as session:
        assert len(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "case.verdicts_requested")).all()) == 1


def texts_owed(db: Database) -> list[tuple[str, dict[str, str | int]]]:
    """The send jobs the stored questions call for: one per OutboundMessage row."""
    with db.transaction() as session:
        return [(SEND_TEXT_JOB, {"outbound_id": str(outbound_id)})
                for outbound_id in session.scalars(select(OutboundMessage.id))]


def test_the_ask_form_sent_twice_texts_each_worker_once(
        app: Flask, db: Database, desks: DeskWorld, browser: Browser) -> None:
    """A double click on "Ask", or a resend after a timeout (the same form, the same token):
    the second send is told the workers were asked already, and queues no second text."""
    numbers = ("+60123456789", "+60123456790")
    report_ids = [submit(db, desks.factory_a, "Overtime not paid.", number=n)[0] for n in numbers]
    case = open_case(db, desks, [uuid.UUID(r) for r in report_ids])
    browser.login(desks.alice)
    browser.get(case.url(desks))
    form = {"csrf_token": browser.token}
    with held(app) as queue:
        answers = [browser.client.post(case.url(desks, "/verdicts/request"), data=form,
                                       environ_base=browser.environ) for _ in range(2)]
    assert [a.status_code for a in answers] == [303, 400]
    assert "the workers were asked already" in answers[1].get_data(as_text=True)
    owed = texts_owed(db)
    assert len(owed) == 2 and sorted(queue.held, key=str) == sorted(owed, key=str)
