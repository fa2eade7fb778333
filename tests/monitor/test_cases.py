"""Cases: grouping reports of one workplace, sealed notes and titles, status, and the
de-identified summary a monitor reviews before anything reaches buyers."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from crypto.envelope import seal
from intake.audit.models import AuditEvent
from intake.cases import service
from intake.cases.models import Case, CaseNote, CaseReport, CaseStatus
from intake.db import Database, today
from intake.reports.models import Channel, Report, ReportDesk, Severity, TriageStatus
from intake.reports.service import add_worker_message, body_context
from intake.retention.service import RetentionResult, run
from tests import factories, leaks
from tests.monitor.conftest import Browser, DeskWorld, submit
from tests.races import at_once, until_all_wait

PHONE = "012-345 6789"
SUMMARY = (f"Workers on the night shift were not paid overtime for three months. "
           f"Call {PHONE} or ask supervisor Lim about it.")
LOCATION = re.compile(r"/cases/([0-9a-f-]{36})$")


# --- helpers ----------------------------------------------------------------------------


def cases_url(desks: DeskWorld) -> str:
    return f"/monitor/d/{desks.a.desk.id}/cases/"


def case_url(desks: DeskWorld, case_id: str, action: str = "") -> str:
    return f"/monitor/d/{desks.a.desk.id}/cases/{case_id}{action}"


def open_case_form(browser: Browser, desks: DeskWorld, report_ids: list[str], *,
                   facility_id: int | None = None, title: str = "Unpaid overtime, night shift",
                   severity: str = "serious") -> Any:
    browser.get(cases_url(desks))
    return browser.post(cases_url(desks), {
        "title": title, "category": "wages", "severity": severity,
        "facility": str(facility_id or desks.factory_a.id), "reports": "\n".join(report_ids)})


def new_case(browser: Browser, desks: DeskWorld, db: Database,
             count: int = 2) -> tuple[str, list[str]]:
    """Alice signed in, a case of ``count`` reports of desk A's workplace: (case id, report ids)."""
    reports = [submit(db, desks.factory_a, f"Overtime not paid, report {i}.")[0]
               for i in range(count)]
    browser.login(desks.alice)
    response = open_case_form(browser, desks, reports)
    assert response.status_code == 303, response.get_data(as_text=True)
    found = LOCATION.search(response.headers["Location"])
    assert found is not None
    return found.group(1), reports


def write_summary(browser: Browser, desks: DeskWorld, case_id: str, text: str = SUMMARY,
                  names: str = "") -> str:
    """Save a draft and return the case page that shows its review."""
    browser.get(case_url(desks, case_id))
    response = browser.post(case_url(desks, case_id, "/summary"),
                            {"summary": text, "names": names})
    assert response.status_code == 303
    return browser.get(case_url(desks, case_id)).get_data(as_text=True)


def review_form(page: str) -> dict[str, str]:
    """The review form as the browser would send it: every radio at its default (accept)."""
    draft_id = re.search(r'name="draft_id" value="([^"]+)"', page)
    assert draft_id is not None
    fields = {"draft_id": draft_id.group(1)}
    for name in re.findall(r'name="(decision-[^"]+)" value="accept"', page):
        fields[name] = "accept"
    return fields


def stored_case(db: Database, case_id: str) -> Case:
    with db.transaction() as session:
        case = session.get_one(Case, uuid.UUID(case_id))
        session.expunge(case)
        return case


def statuses(db: Database, desks: DeskWorld, report_ids: list[str]) -> list[TriageStatus]:
    with db.transaction() as session:
        return [session.get_one(ReportDesk, (uuid.UUID(r), desks.a.desk.id)).status
                for r in report_ids]


def audit_actions(db: Database, desks: DeskWorld) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.desk_id == desks.a.desk.id).order_by(AuditEvent.id)))


# --- opening a case -----------------------------------------------------------------------


def test_case_from_two_reports_of_one_workplace_puts_both_in_case_in_the_queue(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, reports = new_case(browser, desks, db)
    queue = browser.get(f"/monitor/d/{desks.a.desk.id}/?status=in_case").get_data(as_text=True)
    assert all(f"/reports/{r}" in queue for r in reports)
    assert statuses(db, desks, reports) == [TriageStatus.IN_CASE] * 2
    listing = browser.get(cases_url(desks)).get_data(as_text=True)
    assert "Unpaid overtime, night shift" in listing
    assert case_url(desks, case_id) in listing


def test_case_page_shows_the_words_of_every_linked_report(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, reports = new_case(browser, desks, db)
    page = browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert "Overtime not paid, report 0." in page and "Overtime not paid, report 1." in page
    assert all(f"/monitor/d/{desks.a.desk.id}/reports/{r}" in page for r in reports)


def test_words_read_on_the_case_page_are_no_longer_new_in_the_queue(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, reports = new_case(browser, desks, db)

    def marked() -> bool:
        page = browser.get(f"/monitor/d/{desks.a.desk.id}/?status=all")
        row = next(row for row in page.get_data(as_text=True).split("</tr>")
                   if reports[0] in row)
        return "new words from the worker" in row

    browser.get(case_url(desks, case_id))
    with db.transaction() as session:
        add_worker_message(session, session.get_one(Report, uuid.UUID(reports[0])), "Line 3")
    assert marked()
    assert "Line 3" in browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert not marked()


def test_report_of_another_workplace_is_refused_with_a_message(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    with db.transaction() as session:
        other = factories.facility(session, name="Penang Glove Works")
        factories.cover(session, desks.a, other)
        session.expunge(other)
    here = submit(db, desks.factory_a, "Overtime not paid.")[0]
    there = submit(db, other, "Overtime not paid either.")[0]
    browser.login(desks.alice)
    response = open_case_form(browser, desks, [here, there])
    assert response.status_code == 400
    assert "is about another workplace" in response.get_data(as_text=True)
    assert statuses(db, desks, [here, there]) == [TriageStatus.NEW] * 2
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_report_of_another_desk_cannot_join_a_case(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    theirs = submit(db, desks.factory_b, "Sealed to desk B only.")[0]
    browser.login(desks.alice)
    response = open_case_form(browser, desks, [theirs])
    assert response.status_code == 400
    assert f"there is no report {theirs} in this desk" in response.get_data(as_text=True)


def test_text_that_is_not_a_report_id_is_refused_and_the_form_is_kept(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    browser.login(desks.alice)
    response = open_case_form(browser, desks, ["not-an-id"], title="Kept title")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "is not a report id" in body and 'value="Kept title"' in body


@pytest.mark.parametrize("facility", ["²", str(2**31)])
def test_a_workplace_that_is_not_an_id_is_refused_and_nothing_is_opened(
    browser: Browser, desks: DeskWorld, db: Database, facility: str
) -> None:
    """"²" is a digit to str.isdigit but not to int() (a 500 on every database); 2**31 is
    beyond the 32-bit id column (PostgreSQL refused the comparison: a 500)."""
    report_id, _ = submit(db, desks.factory_a, "Overtime not paid.")
    browser.login(desks.alice)
    browser.get(cases_url(desks))
    response = browser.post(cases_url(desks), {
        "title": "Unpaid overtime", "category": "wages", "severity": "serious",
        "facility": facility, "reports": report_id})
    assert response.status_code == 400
    assert "choose the workplace" in response.get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_report_in_a_case_cannot_join_a_second_case(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    _case_id, reports = new_case(browser, desks, db)
    response = open_case_form(browser, desks, [reports[0]])
    assert response.status_code == 400
    assert "already in another case" in response.get_data(as_text=True)


def test_linking_adds_a_report_and_unlinking_sends_it_back_to_triage(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, reports = new_case(browser, desks, db)
    third = submit(db, desks.factory_a, "Me too.")[0]
    browser.get(case_url(desks, case_id))
    assert browser.post(case_url(desks, case_id, "/reports"),
                        {"reports": third}).status_code == 303
    assert statuses(db, desks, [third]) == [TriageStatus.IN_CASE]
    browser.get(case_url(desks, case_id))
    response = browser.post(case_url(desks, case_id, f"/reports/{reports[0]}/unlink"))
    assert response.status_code == 303
    assert statuses(db, desks, [reports[0]]) == [TriageStatus.IN_TRIAGE]
    with db.transaction() as session:
        linked = set(session.scalars(select(CaseReport.report_id).where(
            CaseReport.case_id == uuid.UUID(case_id))))
    assert linked == {uuid.UUID(reports[1]), uuid.UUID(third)}


# --- notes --------------------------------------------------------------------------------


def test_note_is_stored_sealed_and_shown_to_the_desk(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    note = "Spoke with the union rep on Tuesday: three more workers confirm."
    browser.get(case_url(desks, case_id))
    assert browser.post(case_url(desks, case_id, "/notes"), {"text": note}).status_code == 303
    with db.transaction() as session:
        raw = session.scalars(select(CaseNote.body_sealed)).one()
    assert note.encode() not in raw and b"union rep" not in raw
    assert note in browser.get(case_url(desks, case_id)).get_data(as_text=True)


def test_over_long_note_gets_400_keeps_the_text_and_saves_nothing(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    browser.get(case_url(desks, case_id))
    long_note = "x" * (service.MAX_NOTE_CHARS + 1)
    response = browser.post(case_url(desks, case_id, "/notes"), {"text": long_note})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"a note can have at most {service.MAX_NOTE_CHARS} characters" in body
    assert long_note in body
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(CaseNote)) == 0
    assert "case.note" not in audit_actions(db, desks)


# --- summary, de-identification and status ------------------------------------------------


def test_summary_with_a_phone_number_and_a_supervisor_gets_proposals(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    page = write_summary(browser, desks, case_id)
    marks = re.findall(r'<mark class="proposal[^"]*"[^>]*>([^<]+)</mark>', page)
    assert PHONE in marks and "Lim" in marks
    assert stored_case(db, case_id).summary_approved is None


def test_summary_is_stored_sealed(browser: Browser, desks: DeskWorld, db: Database) -> None:
    case_id, _ = new_case(browser, desks, db)
    write_summary(browser, desks, case_id)
    sealed = stored_case(db, case_id).summary_draft_sealed
    assert sealed is not None and PHONE.encode() not in sealed and b"Lim" not in sealed


def test_alerting_before_the_review_is_refused_with_the_reason(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    write_summary(browser, desks, case_id)
    response = browser.post(case_url(desks, case_id, "/status"), {"status": "alerted"})
    assert response.status_code == 400
    assert "review every proposed redaction first" in response.get_data(as_text=True)
    assert stored_case(db, case_id).status is CaseStatus.OPEN


def test_alerting_without_a_summary_is_refused_with_the_reason(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    browser.get(case_url(desks, case_id))
    response = browser.post(case_url(desks, case_id, "/status"), {"status": "alerted"})
    assert response.status_code == 400
    assert "write and approve the summary first" in response.get_data(as_text=True)


def test_accepting_every_proposal_approves_a_summary_without_number_or_name_and_alerts(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    page = write_summary(browser, desks, case_id)
    assert browser.post(case_url(desks, case_id, "/summary/review"),
                        review_form(page)).status_code == 303
    approved = stored_case(db, case_id).summary_approved
    assert approved is not None
    assert PHONE not in approved and "Lim" not in approved
    assert "[phone number]" in approved and "[name]" in approved
    browser.get(case_url(desks, case_id))
    assert browser.post(case_url(desks, case_id, "/status"),
                        {"status": "alerted"}).status_code == 303
    assert stored_case(db, case_id).status is CaseStatus.ALERTED


def test_rejecting_one_proposal_keeps_that_text(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    page = write_summary(browser, desks, case_id)
    form = review_form(page)
    name_field = next(k for k in form if k.endswith("-person_name"))
    form[name_field] = "reject"
    assert browser.post(case_url(desks, case_id, "/summary/review"), form).status_code == 303
    approved = stored_case(db, case_id).summary_approved
    assert approved is not None
    assert "supervisor Lim" in approved and PHONE not in approved


def test_a_draft_with_nothing_to_redact_is_approved_only_on_approve(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    page = write_summary(browser, desks, case_id, text="Overtime was not paid for months.")
    assert "Approve this summary" in page
    assert stored_case(db, case_id).summary_approved is None
    browser.post(case_url(desks, case_id, "/summary/review"), review_form(page))
    assert stored_case(db, case_id).summary_approved == "Overtime was not paid for months."


def test_names_given_by_the_monitor_are_proposed(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    page = write_summary(browser, desks, case_id, text="Siti Aminah was told to leave.",
                         names="Siti Aminah")
    assert '>Siti Aminah</mark>' in page


def test_a_new_draft_withdraws_the_approval_and_a_review_of_the_old_draft_is_refused(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    old_page = write_summary(browser, desks, case_id)
    browser.post(case_url(desks, case_id, "/summary/review"), review_form(old_page))
    assert stored_case(db, case_id).summary_approved is not None
    write_summary(browser, desks, case_id, text=SUMMARY + " Since March.")
    assert stored_case(db, case_id).summary_approved is None
    response = browser.post(case_url(desks, case_id, "/summary/review"), review_form(old_page))
    assert response.status_code == 400
    assert "changed since this page was loaded" in response.get_data(as_text=True)
    assert stored_case(db, case_id).summary_approved is None


def test_a_review_at_the_moment_a_new_draft_is_saved_never_loses_the_new_draft(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """Amir saves a new draft while Alice approves the old one: both read the case before
    either wrote (tests.races lines them up). The new draft is kept, unapproved; a review
    that comes after it is refused as made on an older draft."""
    case_id, _ = new_case(browser, desks, db)
    old_page = write_summary(browser, desks, case_id)
    other_browser.login(desks.amir)
    other_browser.get(case_url(desks, case_id))
    answers = at_once(
        db.engine,
        lambda: other_browser.post(case_url(desks, case_id, "/summary"),
                                   {"summary": SUMMARY + " Since March.", "names": ""}),
        lambda: browser.post(case_url(desks, case_id, "/summary/review"),
                             review_form(old_page)))
    assert answers[0].status_code == 303
    assert answers[1].status_code in (303, 400)
    if answers[1].status_code == 400:
        assert "changed since this page was loaded" in answers[1].get_data(as_text=True)
    assert "Since March." in browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert stored_case(db, case_id).summary_approved is None


@dataclass
class Alongside:
    """Work run in a thread of its own while a case change is under way (``while_audited``):
    what it returned, or raised, once ``finish`` has waited for it."""

    work: Callable[[], object]
    outcome: list[object] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self, db: Database) -> None:
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        with db.engine.connect() as watch:
            until_all_wait(watch, [self.thread])  # it waits for a lock, or has finished

    def _run(self) -> None:
        try:
            self.outcome.append(self.work())
        except BaseException as exc:  # for the test to see
            self.outcome.append(exc)

    def finish(self) -> list[object]:
        assert self.thread is not None, "the case change appended no audit event"
        self.thread.join(30)
        return self.outcome


def while_audited(monkeypatch: pytest.MonkeyPatch, db: Database,
                  work: Callable[[], object]) -> Alongside:
    """Start ``work`` as soon as the next case change has appended its first audit event
    (holding the audit chain's lock to its commit); the change goes on once ``work`` waits
    for a lock or has finished."""
    alongside = Alongside(work)
    real = service.record

    def record(*args: Any, **kwargs: Any) -> Any:
        event = real(*args, **kwargs)
        monkeypatch.setattr(service, "record", real)  # once
        alongside.start(db)
        return event

    monkeypatch.setattr(service, "record", record)
    return alongside


def test_a_case_made_while_retention_forgets_its_reports_number_both_go_through(
    browser: Browser, desks: DeskWorld, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retention locks a report whose sealed number is due, then appends to the audit
    chain. A case made meanwhile appends first ("case.create") and links the report, whose
    row its foreign key reads: retention's lock, which only changes the number, lets that
    be, and both go through (a lock that kept the link out made each wait for the other:
    PostgreSQL's deadlock error)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no row locks to take in turn")
    report_id, _ = submit(db, desks.factory_a, "They keep our passports.",
                          number="+60123456789")
    browser.login(desks.alice)
    retention = while_audited(monkeypatch, db, lambda: run(
        db, today=today() + dt.timedelta(days=400)))  # the number is due, the report is not
    response = open_case_form(browser, desks, [report_id])
    assert response.status_code == 303, response.get_data(as_text=True)
    assert retention.finish() == [RetentionResult(numbers_deleted=1, reports_deleted=0)]


def test_a_case_made_while_retention_deletes_old_reports_keeps_its_report(
    browser: Browser, desks: DeskWorld, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retention locks a report that is due, then deletes the rows that point at it (its
    triage rows among them). Making a case takes its reports' rows before their triage
    rows, as retention does: holding the triage rows while waiting for the report, it
    waited for retention while retention waited for it (PostgreSQL's deadlock error). A
    report being put in a case is not deleted."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: no row locks to take in turn")
    report_id, _ = submit(db, desks.factory_a, "The fire exit is locked at night.")
    browser.login(desks.alice)
    retention = while_audited(monkeypatch, db, lambda: run(
        db, today=today() + dt.timedelta(days=800)))  # past the desk's 730 days
    response = open_case_form(browser, desks, [report_id])
    assert response.status_code == 303, response.get_data(as_text=True)
    assert retention.finish() == [RetentionResult(numbers_deleted=0, reports_deleted=0)]
    assert statuses(db, desks, [report_id]) == [TriageStatus.IN_CASE]


def test_closing_sets_closed_on(browser: Browser, desks: DeskWorld, db: Database) -> None:
    case_id, _ = new_case(browser, desks, db)
    page = write_summary(browser, desks, case_id)
    browser.post(case_url(desks, case_id, "/summary/review"), review_form(page))
    assert stored_case(db, case_id).closed_on is None
    browser.get(case_url(desks, case_id))
    assert browser.post(case_url(desks, case_id, "/status"),
                        {"status": "closed_remedied"}).status_code == 303
    case = stored_case(db, case_id)
    assert case.status is CaseStatus.CLOSED_REMEDIED and case.closed_on is not None


def test_status_that_is_not_in_the_list_is_refused(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    browser.get(case_url(desks, case_id))
    response = browser.post(case_url(desks, case_id, "/status"), {"status": "deleted"})
    assert response.status_code == 400
    assert "choose a status from the list" in response.get_data(as_text=True)


def test_list_filters_by_status(browser: Browser, desks: DeskWorld, db: Database) -> None:
    case_id, _ = new_case(browser, desks, db)
    assert case_id in browser.get(cases_url(desks) + "?status=open").get_data(as_text=True)
    assert case_id not in browser.get(cases_url(desks) + "?status=alerted").get_data(
        as_text=True)


# --- who may see and change what ----------------------------------------------------------

CASE_ROUTES = [
    ("get", "/cases/", None),
    ("post", "/cases/", {"title": "x", "category": "wages", "severity": "serious"}),
    ("get", "/cases/{case}", None),
    ("post", "/cases/{case}/reports", {"reports": "{report}"}),
    ("post", "/cases/{case}/reports/{report}/unlink", {}),
    ("post", "/cases/{case}/notes", {"text": "a note from the wrong desk"}),
    ("post", "/cases/{case}/status", {"status": "open"}),
    ("post", "/cases/{case}/summary", {"summary": "From the wrong desk."}),
    ("post", "/cases/{case}/summary/review", {}),
]


@pytest.mark.parametrize(("method", "route", "data"), CASE_ROUTES)
def test_monitor_of_another_desk_gets_404_on_every_case_route(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database,
    method: str, route: str, data: dict[str, str] | None,
) -> None:
    case_id, reports = new_case(browser, desks, db, count=3)
    before = audit_actions(db, desks)
    other_browser.login(desks.bella)
    other_browser.get(f"/monitor/d/{desks.b.desk.id}/")
    path = f"/monitor/d/{desks.a.desk.id}" + route.format(case=case_id, report=reports[0])
    filled = {k: v.format(report=reports[1]) for k, v in (data or {}).items()}
    response = (other_browser.get(path) if method == "get"
                else other_browser.post(path, filled))
    assert response.status_code == 404
    assert audit_actions(db, desks) == before
    assert statuses(db, desks, reports) == [TriageStatus.IN_CASE] * 3


@pytest.mark.parametrize("case_id", ["not-a-case", str(uuid.uuid4()), "0" * 32 + "zz"])
@pytest.mark.parametrize("action", ["", "/notes", "/status"])
def test_tampered_case_id_gets_404(
    browser: Browser, desks: DeskWorld, db: Database, case_id: str, action: str
) -> None:
    browser.login(desks.alice)
    browser.get(cases_url(desks))
    path = case_url(desks, case_id, action)
    response = (browser.get(path) if not action
                else browser.post(path, {"text": "hello", "status": "open"}))
    assert response.status_code == 404
    assert "There is no such case in this desk." in response.get_data(as_text=True)


def test_tampered_report_id_in_unlink_gets_404(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, reports = new_case(browser, desks, db)
    browser.get(case_url(desks, case_id))
    for report in ("nonsense", str(uuid.uuid4())):
        response = browser.post(case_url(desks, case_id, f"/reports/{report}/unlink"))
        assert response.status_code == 404
    assert statuses(db, desks, reports) == [TriageStatus.IN_CASE] * 2


def test_stale_form_gets_a_clear_message_and_changes_nothing(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    browser.token = "stale"
    response = browser.post(case_url(desks, case_id, "/notes"), {"text": "hello"})
    assert response.status_code == 400
    assert "Nothing was saved" in response.get_data(as_text=True)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(CaseNote)) == 0


# --- audit and leaks ----------------------------------------------------------------------


def test_create_open_note_and_status_are_audited_without_words(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    browser.get(case_url(desks, case_id))
    browser.post(case_url(desks, case_id, "/notes"), {"text": "Secret note words"})
    page = write_summary(browser, desks, case_id)
    browser.post(case_url(desks, case_id, "/summary/review"), review_form(page))
    browser.get(case_url(desks, case_id))
    browser.post(case_url(desks, case_id, "/status"), {"status": "alerted"})
    with db.transaction() as session:
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.desk_id == desks.a.desk.id, AuditEvent.object_id == case_id)))
    actions = [e.action for e in events]
    for action in ("case.create", "case.open", "case.note", "case.summary_draft",
                   "case.summary_review", "case.status"):
        assert action in actions
    opened = next(e for e in events if e.action == "case.open")
    assert opened.detail == "count=2"
    details = " ".join(e.detail or "" for e in events)
    assert "Secret" not in details and PHONE not in details and "Lim" not in details


def test_opening_a_case_is_one_audit_event_however_many_reports(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db, count=4)
    before = audit_actions(db, desks)
    browser.get(case_url(desks, case_id))
    assert audit_actions(db, desks)[len(before):] == ["case.open"]


def test_title_note_and_draft_rest_only_sealed(
    browser: Browser, desks: DeskWorld, db: Database, database_url: str
) -> None:
    reports = [submit(db, desks.factory_a, "Overtime not paid.")[0]]
    browser.login(desks.alice)
    response = open_case_form(browser, desks, reports, title="Canary title Qx7Tz")
    found = LOCATION.search(response.headers["Location"])
    assert found is not None
    case_id = found.group(1)
    browser.get(case_url(desks, case_id))
    browser.post(case_url(desks, case_id, "/notes"), {"text": "Canary note Wq9Rv"})
    write_summary(browser, desks, case_id, text="Canary draft Jm4Kp, call +60 12-345 6789.")
    stored = leaks.database_bytes(database_url)
    for canary in ("Canary title Qx7Tz", "Canary note Wq9Rv", "Canary draft Jm4Kp"):
        assert all(v not in stored for v in leaks.variants(canary))


# --- the service --------------------------------------------------------------------------


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def linked_case(session: Session, desks: DeskWorld, count: int, *, messages: int = 1) -> Case:
    """A case of ``count`` reports of desk A, each with a body and ``messages`` messages,
    stored directly (fast) the way the intake stores them."""
    from intake.reports.models import Author, ReportMessage
    from intake.reports.service import message_context

    public = desks.a.key.public_key()
    case = Case(id=uuid.uuid4(), desk_id=desks.a.desk.id, facility_id=desks.factory_a.id,
                category="wages", severity=Severity.SERIOUS, title_sealed=b"")
    case.title_sealed = seal(b"A title", [public], context=service.title_context(case.id))
    session.add(case)
    for i in range(count):
        report = Report(id=uuid.uuid4(), channel=Channel.WEB, language="en",
                        facility_id=desks.factory_a.id, categories="wages")
        report.body_sealed = seal(f'{{"details": "words {i}"}}'.encode(), [public],
                                  context=body_context(report.id))
        report.desks = [ReportDesk(desk_id=desks.a.desk.id, status=TriageStatus.IN_CASE,
                                   queue_rank=2, channel=Channel.WEB, language="en",
                                   facility_id=desks.factory_a.id)]
        for seq in range(1, messages + 1):
            message_id = uuid.uuid4()
            report.messages.append(ReportMessage(
                id=message_id, seq=seq, author=Author.WORKER,
                body_sealed=seal(f"more {i}.{seq}".encode(), [public],
                                 context=message_context(report.id, message_id))))
        session.add(report)
        session.flush()
        session.add(CaseReport(case_id=case.id, report_id=report.id))
    session.flush()
    return case


def test_open_case_runs_the_same_number_of_queries_for_5_and_20_reports(
    db: Database, desks: DeskWorld
) -> None:
    counts = []
    for n in (5, 20):
        with db.transaction() as session:
            case = linked_case(session, desks, n, messages=2)
            service.add_note(session, desk_id=desks.a.desk.id, case_id=case.id,
                             text="A note.", actor_id=desks.alice.account_id)
            session.commit()
            session.expunge_all()
            with counted(session) as statements:
                view = service.open_case(session, desk_id=desks.a.desk.id, case_id=case.id,
                                         desk_key=desks.a.key, actor_id=desks.alice.account_id)
            assert len(view.reports) == n
            assert [r.details for r in view.reports].count("words 0") == 1
            assert all(len(r.entries) == 2 for r in view.reports)
            assert [(n.author_name, n.text) for n in view.notes] == [("Alice", "A note.")]
            counts.append(len(statements))
    assert counts[0] == counts[1]


@pytest.mark.slow
def test_a_case_of_1000_reports_opens_whole_in_a_fixed_number_of_statements(
    db: Database, desks: DeskWorld
) -> None:
    """How long it takes is measured by bench/triage.py, not asserted here."""
    with db.transaction() as session:
        case = linked_case(session, desks, 1000, messages=0)
        session.commit()
        session.expunge_all()
        with counted(session) as statements:
            view = service.open_case(session, desk_id=desks.a.desk.id, case_id=case.id,
                                     desk_key=desks.a.key, actor_id=desks.alice.account_id)
    assert len(view.reports) == 1000
    assert len({r.details for r in view.reports}) == 1000
    assert len(statements) < 20, len(statements)


def test_unlinking_the_last_report_is_refused(db: Database, desks: DeskWorld) -> None:
    with db.transaction() as session:
        case = linked_case(session, desks, 1)
        report_id = session.scalars(select(CaseReport.report_id)).one()
        with pytest.raises(service.CaseRejected, match="at least one report"):
            service.unlink_report(session, desk_id=desks.a.desk.id, case_id=case.id,
                                  report_id=report_id, actor_id=desks.alice.account_id)


def test_a_case_of_another_desk_is_not_found(db: Database, desks: DeskWorld) -> None:
    with db.transaction() as session:
        case = linked_case(session, desks, 1)
        with pytest.raises(service.CaseNotFound):
            service.open_case(session, desk_id=desks.b.desk.id, case_id=case.id,
                              desk_key=desks.b.key, actor_id=desks.bella.account_id)
