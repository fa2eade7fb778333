"""The verdict question's send job when the case changed after the desk asked: a worker whose
report was taken out of the case, or who answered on the follow-up page meanwhile, gets no
text (the job finishes quietly); a case closed meanwhile is still asked about, as the
follow-up page still asks."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from intake.cases.models import CaseStatus
from intake.cases.service import set_status, unlink_report
from intake.db import Database
from intake.messaging.models import OutboundMessage, OutboundStatus
from intake.remedy.models import Verdict
from intake.reports.models import Report
from intake.reports.service import record_verdict
from tests.held_jobs import HeldQueue, held
from tests.leaks import captured_logs, found_in, logs
from tests.monitor.conftest import Browser, DeskWorld
from tests.sms.conftest import Phone
from tests.twilio_fake import TwilioFake
from tests.verdicts.conftest import WORDS, CaseAt, ask, open_case, report_by_sms

__all__ = ["logs"]  # a fixture

SEND = "channels.sms.outbound.send_outbound"
OTHER_NUMBER = "+60123400077"


def reported(db: Database, phone: Phone) -> uuid.UUID:
    """``phone`` reports by SMS, saying yes to texts; its report's id."""
    with db.transaction() as session:
        before = set(session.scalars(select(Report.id)))
    report_by_sms(phone)
    with db.transaction() as session:
        [report_id] = set(session.scalars(select(Report.id))) - before
        return report_id


def asked(app: Flask, db: Database, desks: DeskWorld, phone: Phone,
          browser: Browser) -> tuple[HeldQueue, CaseAt, uuid.UUID]:
    """Two workers in one case; the desk asks them; the texts' jobs are held."""
    other = Phone(phone.client, phone.settings, number=OTHER_NUMBER, to=phone.to)
    with held(app) as queue:
        mine, theirs = reported(db, phone), reported(db, other)
        case = open_case(db, desks, [mine, theirs])
        browser.login(desks.alice)
        assert ask(browser, desks, case).status_code == 303
    assert queue.names().count(SEND) == 2
    return queue, case, mine


def sent_to(twilio: TwilioFake) -> list[str]:
    return [call.form["To"] for call in twilio.created()]


def status_of(db: Database, report_id: uuid.UUID) -> OutboundStatus:
    with db.transaction() as session:
        return session.scalars(select(OutboundMessage.status).where(
            OutboundMessage.report_id == report_id)).one()


def skipped(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The events of the send job's "text not sent" lines."""
    return [record.__dict__["event"] for record in caplog.records
            if record.getMessage() == "text not sent"]


def leaked(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> list[str]:
    return found_in(captured_logs(caplog, capsys),
                    {"number": Phone.number, "other": OTHER_NUMBER, "words": WORDS})


def test_a_worker_whose_report_left_the_case_is_not_asked_by_text(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        twilio: TwilioFake, logs: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    queue, case, mine = asked(sms_app, db, numbers, phone, browser)
    with db.transaction() as session:
        unlink_report(session, desk_id=numbers.a.desk.id, case_id=case.id, report_id=mine,
                      actor_id=numbers.alice.account_id)
    queue.run(sms_app, only=SEND)
    assert sent_to(twilio) == [OTHER_NUMBER]
    assert status_of(db, mine) is OutboundStatus.FAILED
    assert skipped(logs) == ["verdict_not_wanted"]
    assert leaked(logs, capsys) == []


def test_a_worker_who_answered_on_the_follow_up_page_is_not_asked_again_by_text(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        twilio: TwilioFake, logs: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    queue, _case, mine = asked(sms_app, db, numbers, phone, browser)
    with db.transaction() as session:
        record_verdict(session, session.get_one(Report, mine), Verdict.YES, "", channel="web")
    queue.run(sms_app, only=SEND)
    assert sent_to(twilio) == [OTHER_NUMBER]
    assert status_of(db, mine) is OutboundStatus.FAILED
    assert skipped(logs) == ["verdict_not_wanted"]
    assert leaked(logs, capsys) == []


def test_the_workers_are_still_asked_after_the_case_closed(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        twilio: TwilioFake) -> None:
    queue, case, mine = asked(sms_app, db, numbers, phone, browser)
    with db.transaction() as session:
        set_status(session, desk_id=numbers.a.desk.id, case_id=case.id,
                   status=CaseStatus.CLOSED_NOT_REMEDIED, desk_key=numbers.a.key,
                   actor_id=numbers.alice.account_id)
    queue.run(sms_app, only=SEND)
    assert sorted(sent_to(twilio)) == sorted([phone.number, OTHER_NUMBER])
    assert status_of(db, mine) is OutboundStatus.SENT


def _died_mid_send(db: Database, report_id: uuid.UUID) -> None:
    """What a sender killed between Twilio's answer and its own commit leaves (or killed
    just before it called Twilio: the row cannot tell)."""
    with db.transaction() as session:
        row = session.scalars(select(OutboundMessage).where(
            OutboundMessage.report_id == report_id)).one()
        row.status, row.provider_sid = OutboundStatus.SENDING, None


@pytest.mark.parametrize("reached_twilio", [True, False])
def test_a_question_cut_short_by_a_crash_is_settled_by_twilios_list_once_answered_on_the_web(
        sms_app: Flask, db: Database, numbers: DeskWorld, phone: Phone, browser: Browser,
        twilio: TwilioFake, reached_twilio: bool) -> None:
    """The sender died mid-send; the worker then answered on the follow-up page. The resumed
    job sends nothing, and records what Twilio's list says: sent, or never sent."""
    queue, _case, mine = asked(sms_app, db, numbers, phone, browser)
    if reached_twilio:
        queue.run(sms_app, only=SEND)
    _died_mid_send(db, mine)
    with db.transaction() as session:
        record_verdict(session, session.get_one(Report, mine), Verdict.YES, "", channel="web")
    queue.held.append((SEND, {"outbound_id": str(outbound_of(db, mine))}))
    queue.run(sms_app, only=SEND)
    assert sorted(sent_to(twilio)) == sorted([phone.number, OTHER_NUMBER][not reached_twilio:])
    with db.transaction() as session:
        row = session.scalars(select(OutboundMessage).where(
            OutboundMessage.report_id == mine)).one()
        if reached_twilio:
            assert row.status is OutboundStatus.SENT
            assert row.provider_sid in {m["sid"] for m in twilio.messages}
        else:
            assert row.status is OutboundStatus.FAILED and row.provider_sid is None


def outbound_of(db: Database, report_id: uuid.UUID) -> uuid.UUID:
    with db.transaction() as session:
        return session.scalars(select(OutboundMessage.id).where(
            OutboundMessage.report_id == report_id)).one()
