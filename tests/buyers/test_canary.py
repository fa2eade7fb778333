"""Nothing buyer-facing carries a report's words, a desk reply, a receipt, a phone number, a
case title or note, or a worker's verdict comment: words planted in each are looked for on
every buyer page, while the approved summary, the plan and the thread do show."""

from __future__ import annotations

import re
import uuid

from crypto.envelope import seal
from crypto.keys import PublicKey
from intake.accounts.models import Desk
from intake.db import Database
from intake.remedy.models import Verdict, WorkerVerdict
from intake.reports.service import verdict_context
from intake.triage.replies import reply
from tests.buyers.conftest import SUMMARY, BuyerWorld, add_alert
from tests.monitor.conftest import Browser, submit
from tests.monitor.test_cases import case_url, open_case_form, review_form, write_summary

WORDS = "CANARY-WORDS the supervisor Tan locked the gate"
REPLY = "CANARY-REPLY we will call you on Tuesday"
TITLE = "CANARY-TITLE Tan gate case"
NOTE = "CANARY-NOTE the worker lives in dorm B"
VERDICT = "CANARY-VERDICT nothing changed at all"
PHONE = "+60 12-345 6789"


def crawl(browser: Browser) -> list[str]:
    """Every buyer page reachable from the alert list, as the buyer sees it."""
    pages = [browser.get("/buyer/").get_data(as_text=True)]
    for alert_id in sorted(set(re.findall(r"/buyer/alerts/([0-9a-f-]{36})", pages[0]))):
        pages.append(browser.get(f"/buyer/alerts/{alert_id}").get_data(as_text=True))
    pages.append(browser.get("/buyer/webhooks").get_data(as_text=True))
    return pages


def test_no_buyer_page_shows_anything_but_what_was_written_for_buyers(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    desks = buyers.desks
    report_id, receipt = submit(db, desks.factory_a, WORDS, number=PHONE)
    with db.transaction() as session:
        reply(session, desk_id=desks.a.desk.id, report_id=uuid.UUID(report_id), text=REPLY,
              actor_id=desks.alice.account_id)
    browser.login(desks.alice)
    response = open_case_form(browser, desks, [report_id], title=TITLE)
    assert response.status_code == 303
    case_id = response.headers["Location"].rsplit("/", 1)[1]
    browser.get(case_url(desks, case_id))
    assert browser.post(case_url(desks, case_id, "/notes"), {"text": NOTE}).status_code == 303
    page = write_summary(browser, desks, case_id, SUMMARY)
    assert browser.post(case_url(desks, case_id, "/summary/review"),
                        review_form(page)).status_code == 303
    with db.transaction() as session:
        key = PublicKey.from_bytes(session.get_one(Desk, desks.a.desk.id).public_key)
        verdict_id = uuid.uuid4()
        session.add(WorkerVerdict(
            id=verdict_id, case_id=uuid.UUID(case_id), report_id=uuid.UUID(report_id),
            verdict=Verdict.NO, channel="web", comment_sealed=seal(
                VERDICT.encode(), [key], context=verdict_context(verdict_id))))
    alert = add_alert(db, case_id, buyers.westhaven, count=1)
    desk_page = browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert all(planted in desk_page for planted in (WORDS, REPLY, TITLE, NOTE))  # planted
    assert browser.post(case_url(desks, case_id, "/remedy/actions"),
                        {"description": "Pay the back wages", "owner": "supplier"}
                        ).status_code == 303
    browser.get(case_url(desks, case_id))
    assert browser.post(case_url(desks, case_id, "/thread"),
                        {"body": "The desk is on it."}).status_code == 303

    other_browser.login(buyers.buyer_a)
    other_browser.get(f"/buyer/alerts/{alert}")
    other_browser.post(f"/buyer/alerts/{alert}/acknowledge")
    pages = crawl(other_browser)
    assert len(pages) == 3
    everything = "\n".join(pages)
    for secret in ("CANARY", receipt, PHONE, "12-345", "6789", "Tan ", "dorm B", "Tuesday"):
        assert secret not in everything, secret
    assert SUMMARY in everything
    assert "Pay the back wages" in everything and "The desk is on it." in everything
    assert "fewer than 3" in everything
