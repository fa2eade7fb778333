"""The triage queue, opening a report, triage decisions, replies and reports entered for a
worker, end to end through the monitor UI."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from crypto.hierarchy import TEST_FAST
from intake.audit.models import AuditEvent
from intake.db import Database, today
from intake.messaging.models import OutboundMessage
from intake.reports.models import Channel, Report, ReportDesk, Severity, TriageStatus
from intake.reports.service import (
    add_desk_reply,
    add_worker_message,
    find_by_receipt,
    thread_for,
)
from intake.retention.service import run
from intake.settings import Settings
from tests import factories
from tests.monitor.conftest import Browser, DeskWorld, submit
from tests.races import at_once, while_retention_deletes
from tests.sms.conftest import Phone, run_jobs
from tests.twilio_fake import TwilioFake

ROW = re.compile(r'/reports/([0-9a-f-]{36})"')


def queue_ids(browser: Browser, desks: DeskWorld, query: str = "") -> list[str]:
    page = browser.get(f"/monitor/d/{desks.a.desk.id}/?{query}")
    assert page.status_code == 200
    return ROW.findall(page.get_data(as_text=True))


def test_queue_shows_only_this_desks_new_reports_newest_first(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    older, _ = submit(db, desks.factory_a, "first")
    newer, _ = submit(db, desks.factory_a, "second")
    other_desk, _ = submit(db, desks.factory_b, "for desk B")
    with db.transaction() as session:
        session.execute(update(ReportDesk).where(ReportDesk.report_id == uuid.UUID(older))
                        .values(received_on=dt.date.today() - dt.timedelta(days=3)))
    browser.login(desks.alice)
    assert queue_ids(browser, desks) == [newer, older]
    assert other_desk not in queue_ids(browser, desks, "status=all")


def test_filters_narrow_the_queue_and_counts_follow(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    ms, _ = submit(db, desks.factory_a, "gaji", language="ms", categories=("wages",))
    en, _ = submit(db, desks.factory_a, "hours", language="en", categories=("hours",))
    phone, _ = submit(db, desks.factory_a, "by phone", channel=Channel.PHONE)
    browser.login(desks.alice)
    assert queue_ids(browser, desks, "language=ms") == [ms]
    assert queue_ids(browser, desks, "category=hours") == [en]
    assert queue_ids(browser, desks, "channel=phone") == [phone]
    assert set(queue_ids(browser, desks, "country=MY")) == {ms, en, phone}
    assert queue_ids(browser, desks, "country=MX") == []
    assert queue_ids(browser, desks, "age=older") == []
    page = browser.get(f"/monitor/d/{desks.a.desk.id}/?language=ms").get_data(as_text=True)
    assert "Malay (1)" in page and "English (2)" in page  # counts for each value of the facet


def test_languages_and_the_workers_choices_are_named_not_coded(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """A monitor reads "Burmese", not "my" (which reads as a word), and the categories in
    the words the worker chose from, not their codes."""
    report_id, _ = submit(db, desks.factory_a, "words", language="my",
                          categories=("wages", "forced_labour"))
    browser.login(desks.alice)
    queue = browser.get(f"/monitor/d/{desks.a.desk.id}/").get_data(as_text=True)
    assert "<td>Burmese</td>" in queue and "Burmese (1)" in queue
    page = browser.get(f"/monitor/d/{desks.a.desk.id}/reports/{report_id}").get_data(
        as_text=True)
    assert "<dt>Language</dt><dd>Burmese</dd>" in page
    assert "<dt>Worker chose</dt><dd>Forced work or debt, Pay</dd>" in page
    assert "Ready-made answers in Burmese" in page
    form = browser.get(f"/monitor/d/{desks.a.desk.id}/enter").get_data(as_text=True)
    assert '<option value="my" >Burmese (မြန်မာ)</option>' in form
    assert '<option value="en" >English</option>' in form


def test_queue_pages_with_a_keyset_cursor_without_gaps_or_repeats(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    from intake.triage.service import QueueFilter, queue_page

    made = {submit(db, desks.factory_a, f"report {n}")[0] for n in range(7)}
    seen: list[str] = []
    with db.transaction() as session:
        rows, cursor = queue_page(session, desks.a.desk.id, QueueFilter(), limit=3)
        seen += [str(r.report_id) for r in rows]
        while cursor is not None:
            rows, cursor = queue_page(session, desks.a.desk.id, QueueFilter(), after=cursor,
                                      limit=3)
            seen += [str(r.report_id) for r in rows]
    assert sorted(seen) == sorted(made) and len(seen) == 7


def test_a_cursor_with_a_rank_the_queue_never_has_is_ignored(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """Ranks are small integers: PostgreSQL refused to compare 40000 with one (a 500)."""
    made, _ = submit(db, desks.factory_a, "first")
    browser.login(desks.alice)
    cursor = f"40000.{dt.date.today().isoformat()}.{uuid.uuid4().hex}"
    assert queue_ids(browser, desks, f"after={cursor}") == [made]


def test_opening_a_report_decrypts_it_audits_it_and_moves_it_to_triage(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "The supervisor keeps our passports")
    browser.login(desks.alice)
    page = browser.get(f"/monitor/d/{desks.a.desk.id}/reports/{report_id}")
    assert page.status_code == 200
    assert "The supervisor keeps our passports" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    with db.transaction() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "report.open"))
        triage = session.get_one(ReportDesk, (uuid.UUID(report_id), desks.a.desk.id))
        assert event is not None and event.object_id == report_id
        assert event.actor_id == desks.alice.account_id
        assert triage.status is TriageStatus.IN_TRIAGE


def test_the_queue_marks_words_the_worker_sent_since_the_desk_last_opened_the_report(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """An answer to the desk's text, or an addition on the follow-up page: marked in the
    queue until a member opens the report. The desk's own reply is not the worker's."""
    marker = "new words from the worker"
    report_id, _ = submit(db, desks.factory_a, "The supervisor keeps our passports")
    browser.login(desks.alice)

    def marked() -> bool:
        page = browser.get(f"/monitor/d/{desks.a.desk.id}/?status=all")
        assert page.status_code == 200 and report_id in page.get_data(as_text=True)
        return marker in page.get_data(as_text=True)

    def add(text: str, *, desk: bool = False) -> None:
        with db.transaction() as session:
            report = session.get_one(Report, uuid.UUID(report_id))
            if desk:
                add_desk_reply(session, report, text, author_account_id=desks.alice.account_id)
            else:
                add_worker_message(session, report, text)

    add("It is still going on")  # before any opening: the report is new anyway
    assert not marked()
    browser.get(f"/monitor/d/{desks.a.desk.id}/reports/{report_id}")
    add("Which line?", desk=True)
    assert not marked()
    add("Line 3")
    assert marked()
    browser.get(f"/monitor/d/{desks.a.desk.id}/reports/{report_id}")
    assert not marked()


def test_triage_decisions_are_saved_and_audited(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "locked fire exit")
    duplicate, _ = submit(db, desks.factory_a, "the fire exit is locked")
    browser.login(desks.alice)
    browser.get(f"/monitor/d/{desks.a.desk.id}/reports/{duplicate}")
    saved = browser.post(f"/monitor/d/{desks.a.desk.id}/reports/{duplicate}/triage", {
        "category": "safety", "severity": "immediate_danger", "tags": "Fire, exits, fire",
        "assignee": str(desks.amir.account_id), "status": "no_action",
        "reason": "duplicate", "duplicate_of": report_id})
    assert saved.status_code == 303
    with db.transaction() as session:
        triage = session.get_one(ReportDesk, (uuid.UUID(duplicate), desks.a.desk.id))
        assert (triage.category, triage.severity, triage.tags) == (
            "safety", Severity.IMMEDIATE_DANGER, "fire,exits")
        assert triage.assignee_id == desks.amir.account_id
        assert triage.status is TriageStatus.NO_ACTION and triage.no_action_reason == "duplicate"
        assert triage.duplicate_of_id == uuid.UUID(report_id)
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"report.category", "report.severity", "report.tags", "report.assign",
            "report.status", "report.duplicate"} <= actions


def test_a_decision_at_the_moment_another_monitor_opens_the_report_stands(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """Alice decides "no action" on a new report while Amir opens it: both read it as new
    before either wrote (tests.races lines them up). Opening moves only a report that is
    still new to triage, so Alice's decision is never undone."""
    report_id, _ = submit(db, desks.factory_a, "locked fire exit")
    browser.login(desks.alice)
    queue_ids(browser, desks)
    other_browser.login(desks.amir)
    url = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    answers = at_once(
        db.engine,
        lambda: browser.post(url + "/triage", {"status": "no_action", "reason": "duplicate"}),
        lambda: other_browser.get(url))
    assert [a.status_code for a in answers] == [303, 200]
    with db.transaction() as session:
        triage = session.get_one(ReportDesk, (uuid.UUID(report_id), desks.a.desk.id))
        assert triage.status is TriageStatus.NO_ACTION and triage.no_action_reason == "duplicate"
        assert triage.opened_on is not None


def test_invalid_triage_changes_nothing_and_says_why(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "x")
    other, _ = submit(db, desks.factory_b, "desk B's")
    browser.login(desks.alice)
    path = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    browser.get(path)
    for form in ({"status": "no_action"}, {"severity": "apocalyptic"},
                 {"assignee": str(desks.bella.account_id)}, {"duplicate_of": other},
                 {"category": "safety", "duplicate_of": "not-a-uuid"}):
        response = browser.post(path + "/triage", form)
        assert response.status_code == 303
        page = browser.get(path).get_data(as_text=True)
        assert "Nothing was changed" in page
    with db.transaction() as session:
        triage = session.get_one(ReportDesk, (uuid.UUID(report_id), desks.a.desk.id))
        assert triage.category == "wages" and triage.assignee_id is None
        assert triage.status is TriageStatus.IN_TRIAGE


def test_reply_preview_shows_segments_and_send_reaches_followup_and_sms(
    app: Flask, browser: Browser, desks: DeskWorld, db: Database, twilio: TwilioFake
) -> None:
    with db.transaction() as session:
        factories.sms_number(session, "+60326000100", country="MY", language="en")
    report_id, receipt = submit(db, desks.factory_a, "no pay for 2 months",
                                number="+60123456789")
    browser.login(desks.alice)
    path = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    browser.get(path)
    preview = browser.post(path + "/reply", {"text": "We got it. " * 20, "action": "preview"})
    assert "costs 2 SMS segments (GSM-7" in preview.get_data(as_text=True)
    unicode = browser.post(path + "/reply", {"text": "Kami terima 你好", "action": "preview"})
    assert "1 SMS segment (UCS-2" in unicode.get_data(as_text=True)
    sent = browser.post(path + "/reply", {"text": "We are looking into it.", "action": "send"})
    assert sent.status_code == 303
    run_jobs(app)
    assert [call.form.get("Body") for call in twilio.created()] == ["We are looking into it."]
    with db.transaction() as session:
        report, worker_key = find_by_receipt(session, receipt, profile=TEST_FAST)
        texts = [e.text for e in thread_for(session, report, worker_key).entries]
        assert "We are looking into it." in texts
        assert session.scalar(select(OutboundMessage.report_id)) == report.id


def test_the_desk_sees_what_became_of_each_text_to_the_worker(
    app: Flask, browser: Browser, desks: DeskWorld, db: Database, twilio: TwilioFake,
    settings: Settings,
) -> None:
    """Twilio's delivery callbacks, in the desk's words, on the report and the case page:
    a desk that knows a text did not arrive can try another way."""
    with db.transaction() as session:
        factories.sms_number(session, "+60326000100", country="MY", language="en")
    report_id, _ = submit(db, desks.factory_a, "no pay for 2 months", number="+60123456789")
    browser.login(desks.alice)
    path = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    for text in ("First", "Second", "Third"):
        browser.get(path)
        assert browser.post(path + "/reply", {"text": text, "action": "send"}).status_code == 303
    run_jobs(app)
    first, second, _third = (message["sid"] for message in twilio.messages)
    twilio_says = Phone(app.test_client(), settings)
    for sid, state, code in [(first, "delivered", ""), (first, "sent", ""),  # late, out of order
                             (second, "undelivered", "63016")]:
        answer = twilio_says.post({"MessageSid": sid, "MessageStatus": state, "ErrorCode": code},
                                  path="/twilio/sms/status")
        assert answer.status_code == 204
    expected = ["delivered", "not delivered: WhatsApp lets us write freely only within 24 "
                "hours of the worker's last message; the worker can still read the reply "
                "with STATUS and their receipt, or on the follow-up page", "sent"]
    page = browser.get(path).get_data(as_text=True)
    assert [html.unescape(m) for m in re.findall(r"texted: ([^<]*)</span>", page)] == expected
    with db.transaction() as session:
        case = factories.case_asking_verdict(session, desk_id=desks.a.desk.id,
                                             facility_id=desks.factory_a.id,
                                             report_id=uuid.UUID(report_id))
    case_page = browser.get(f"/monitor/d/{desks.a.desk.id}/cases/{case.id}")
    assert [html.unescape(m) for m in re.findall(
        r"texted: ([^<]*)</span>", case_page.get_data(as_text=True))] == expected


@pytest.mark.parametrize(("channel", "way"), [(Channel.SMS, "by SMS"),
                                           (Channel.WHATSAPP, "on WhatsApp")])
def test_the_report_page_says_how_the_reply_reaches_the_worker(
    browser: Browser, desks: DeskWorld, db: Database, channel: Channel, way: str
) -> None:
    report_id, _ = submit(db, desks.factory_a, "no pay", channel=channel, number="+60123456789")
    browser.login(desks.alice)
    path = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    page = browser.get(path).get_data(as_text=True)
    assert f"the worker agreed to replies {way}" in page
    assert f"sent {way}: what the worker writes back" in page
    whatsapp = channel is Channel.WHATSAPP
    assert ("only within 24 hours of the worker's last message" in page) is whatsapp
    preview = browser.post(path + "/reply", {"text": "We got it.", "action": "preview"})
    assert ("SMS segment" in preview.get_data(as_text=True)) is not whatsapp  # no such cost


def test_snippet_fills_the_reply_in_the_workers_language(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "gaji tak dibayar", language="ms")
    browser.login(desks.alice)
    path = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    browser.get(path)
    page = browser.post(path + "/reply", {"text": "", "action": "snippet:received"})
    text = page.get_data(as_text=True)
    assert "We got your report" not in text.split("<textarea")[1]
    assert "SMS segment" in text


def test_empty_or_overlong_reply_is_refused_and_nothing_is_sent(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "x")
    browser.login(desks.alice)
    path = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    browser.get(path)
    assert browser.post(path + "/reply", {"text": "  ", "action": "send"}).status_code == 400
    long = browser.post(path + "/reply", {"text": "x" * 1001, "action": "send"})
    assert long.status_code == 400 and "at most 1000" in long.get_data(as_text=True)
    with db.transaction() as session:
        assert session.get_one(Report, uuid.UUID(report_id)).messages == []


def test_report_taken_by_phone_gets_a_receipt_that_opens_it(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    browser.login(desks.alice)
    browser.get(f"/monitor/d/{desks.a.desk.id}/enter")
    page = browser.post(f"/monitor/d/{desks.a.desk.id}/enter", {
        "channel": "phone", "language": "ms", "facility": str(desks.factory_b.id),
        "category": ["wages", "hours"], "details": "Caller says overtime is unpaid"})
    assert page.status_code == 200
    digits = re.search(r"<strong>([\d ]{19})</strong>", page.get_data(as_text=True))
    assert digits
    with db.transaction() as session:
        report, _ = find_by_receipt(session, digits.group(1), profile=TEST_FAST)
        assert report.channel is Channel.PHONE and report.entered_by_id == desks.alice.account_id
        desk_ids = {d.desk_id for d in report.desks}
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "report.enter"))
        assert event is not None and event.object_id == str(report.id)
    # Desk B covers that factory; desk A took the call, so both receive it.
    assert desk_ids == {desks.a.desk.id, desks.b.desk.id}


def test_entering_a_report_with_missing_fields_keeps_what_was_typed(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    browser.login(desks.alice)
    browser.get(f"/monitor/d/{desks.a.desk.id}/enter")
    page = browser.post(f"/monitor/d/{desks.a.desk.id}/enter", {
        "channel": "in_person", "language": "en", "details": "Told us in person: no breaks"})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Choose at least one category." in text and "Told us in person: no breaks" in text
    with db.transaction() as session:
        assert session.scalar(select(Report.id)) is None


def test_tampered_report_id_is_a_404(browser: Browser, desks: DeskWorld) -> None:
    browser.login(desks.alice)
    for rid in ("not-a-uuid", str(uuid.uuid4())):
        assert browser.get(f"/monitor/d/{desks.a.desk.id}/reports/{rid}").status_code == 404


# --- reports retention deletes ---------------------------------------------------------------

PAST_RETENTION = dt.timedelta(days=800)  # the desks keep reports 730 days by default


def age(db: Database, report_id: str, *, days: int) -> None:
    """Make a report as old as ``days`` (as if it had arrived then and nothing followed)."""
    received = today() - dt.timedelta(days=days)
    with db.transaction() as session:
        session.execute(update(Report).where(Report.id == uuid.UUID(report_id))
                        .values(received_on=received))
        session.execute(update(ReportDesk).where(ReportDesk.report_id == uuid.UUID(report_id))
                        .values(received_on=received))


def gone_text(report_id: str) -> str:
    return f"Report {report_id} is no longer kept: it was deleted when its retention period ended."


def audited(db: Database, action: str) -> list[str | None]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEvent.object_id)
                                    .where(AuditEvent.action == action)))


@dataclass(frozen=True)
class TwoAlike:
    """Two reports of one problem; Alice has the first one's page open."""

    duplicate: str
    original: str
    path: str  # the duplicate's page

    def mark(self, browser: Browser) -> TestResponse:
        return browser.post(self.path + "/triage", {
            "status": "no_action", "reason": "duplicate", "duplicate_of": self.original})


def two_alike(browser: Browser, desks: DeskWorld, db: Database, *, aged: str) -> TwoAlike:
    """``aged`` ("duplicate" or "original") is past its retention period."""
    duplicate, _ = submit(db, desks.factory_a, "the fire exit is locked")
    original, _ = submit(db, desks.factory_a, "locked fire exit")
    age(db, duplicate if aged == "duplicate" else original, days=PAST_RETENTION.days)
    browser.login(desks.alice)
    path = f"/monitor/d/{desks.a.desk.id}/reports/{duplicate}"
    browser.get(path)
    return TwoAlike(duplicate, original, path)


def test_a_report_retention_deletes_while_a_monitor_opens_it_is_a_404_that_says_so(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """Opening reads the report's triage row, then waits for the report's row, which
    retention holds while it deletes the report; once retention commits the row is gone.
    The monitor is told so (not a 500), and no opening is audited."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: retention cannot delete meanwhile")
    report_id, _ = submit(db, desks.factory_a, "The fire exit is locked at night.")
    browser.login(desks.alice)
    answer = while_retention_deletes(
        db, lambda: browser.get(f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"),
        today=today() + PAST_RETENTION)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404, page
    assert gone_text(report_id) in page
    assert audited(db, "report.open") == []


def test_a_report_retention_has_deleted_is_a_404_for_the_monitor(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "The fire exit is locked at night.")
    assert run(db, today=today() + PAST_RETENTION).reports_deleted == 1
    browser.login(desks.alice)
    answer = browser.get(f"/monitor/d/{desks.a.desk.id}/reports/{report_id}")
    assert answer.status_code == 404
    assert "There is no such report in this desk." in answer.get_data(as_text=True)


@pytest.mark.parametrize("deleted", ["duplicate", "original"])
def test_marking_a_duplicate_while_retention_deletes_either_report_is_a_404_that_says_so(
    browser: Browser, desks: DeskWorld, db: Database, deleted: str
) -> None:
    """Alice marks a report as a duplicate of another while retention deletes one of the two
    (the older, whose time is up). The decision waits for retention, then finds that report
    gone: nothing is saved (the link would point at nothing, the triage row is gone), and
    the monitor is told which report is no longer kept (not a 500)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: retention cannot delete meanwhile")
    two = two_alike(browser, desks, db, aged=deleted)
    old, kept = ((two.duplicate, two.original) if deleted == "duplicate"
                 else (two.original, two.duplicate))
    answer = while_retention_deletes(db, lambda: two.mark(browser), today=today())
    page = answer.get_data(as_text=True)
    assert answer.status_code == 404, page
    assert gone_text(old) in page and "Nothing was changed." in page
    with db.transaction() as session:
        assert session.get(Report, uuid.UUID(old)) is None
        triage = session.get_one(ReportDesk, (uuid.UUID(kept), desks.a.desk.id))
        assert triage.status is not TriageStatus.NO_ACTION and triage.duplicate_of_id is None
    assert audited(db, "report.duplicate") == []


def test_marking_a_duplicate_of_a_report_retention_has_deleted_changes_nothing_and_says_why(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    two = two_alike(browser, desks, db, aged="original")
    assert run(db, today=today()).reports_deleted == 1
    assert two.mark(browser).status_code == 303
    assert ("Nothing was changed: the report it duplicates is not in this desk (or is no "
            "longer kept).") in browser.get(two.path).get_data(as_text=True)
    with db.transaction() as session:
        triage = session.get_one(ReportDesk, (uuid.UUID(two.duplicate), desks.a.desk.id))
        assert triage.status is TriageStatus.IN_TRIAGE and triage.duplicate_of_id is None


def test_marking_a_report_retention_has_deleted_as_a_duplicate_is_a_404(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    two = two_alike(browser, desks, db, aged="duplicate")
    assert run(db, today=today()).reports_deleted == 1
    answer = two.mark(browser)
    assert answer.status_code == 404
    assert "There is no such report in this desk." in answer.get_data(as_text=True)


def test_a_reply_sent_twice_is_stored_and_texted_once(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "x", number="+60123456789")
    browser.login(desks.alice)
    path = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
    browser.get(path)
    nonce = browser.nonce
    first = browser.post(path + "/reply", {"text": "Once only", "action": "send"})
    second = browser.post(path + "/reply", {"text": "Once only", "action": "send",
                                            "nonce": nonce})
    assert first.status_code == second.status_code == 303
    assert "sent already" in browser.get(path).get_data(as_text=True)
    with db.transaction() as session:
        assert len(session.get_one(Report, uuid.UUID(report_id)).messages) == 1
        assert len(list(session.scalars(select(OutboundMessage.id)))) == 1


def test_a_report_entered_twice_is_stored_once_and_shows_the_same_receipt(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    browser.login(desks.alice)
    browser.get(f"/monitor/d/{desks.a.desk.id}/enter")
    form = {"channel": "in_person", "language": "en", "category": ["safety"],
            "details": "Told us at the union office", "nonce": browser.nonce}
    pages = [browser.post(f"/monitor/d/{desks.a.desk.id}/enter", form).get_data(as_text=True)
             for _ in range(2)]
    receipts = [re.search(r"<strong>([\d ]{19})</strong>", page) for page in pages]
    assert receipts[0] and receipts[1]
    assert receipts[0].group(1) == receipts[1].group(1)
    assert "sent twice" in pages[1]
    with db.transaction() as session:
        assert len(list(session.scalars(select(Report.id)))) == 1
