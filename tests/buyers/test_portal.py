"""The buyer portal end to end: a desk's approved case reaches a buyer's alerts, counts pass
the k gate, other buyers of the workplace show (named only when they opted in), the desk's
remedy plan with overdue actions, the buyer's own actions, and the shared thread."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from intake.accounts.models import Account, Desk, Role
from intake.alerts.models import Alert, BuyerWebhook, ThreadMessage
from intake.audit.models import AuditEvent
from intake.cases.models import Case
from intake.db import Database, today
from intake.remedy.models import BuyerAction, RemedyAction
from intake.supplychain.models import Facility
from tests.buyers.conftest import SUMMARY, BuyerWorld, add_alert, approved_case
from tests.monitor.conftest import Browser, make_member
from tests.monitor.test_cases import case_url
from tests.races import at_once

MONTH = today().strftime("%Y-%m")


def alert_url(alert_id: str, action: str = "") -> str:
    return f"/buyer/alerts/{alert_id}{action}"


def sign_in(browser: Browser, member: object) -> None:
    response = browser.login(member)  # type: ignore[arg-type]
    assert response.status_code == 302 and response.headers["Location"].endswith("/buyer/")


def count(db: Database, model: type) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def audit_actions(db: Database) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def add_plan_action(browser: Browser, buyers: BuyerWorld, case_id: str, *, description: str,
                    due_on: str = "", owner: str = "supplier", buyer: str = "") -> int:
    browser.get(case_url(buyers.desks, case_id))
    return browser.post(case_url(buyers.desks, case_id, "/remedy/actions"), {
        "description": description, "owner": owner, "buyer": buyer, "due_on": due_on,
        "evidence": "Payroll records for the months concerned"}).status_code


def plan_actions(db: Database) -> list[RemedyAction]:
    with db.transaction() as session:
        rows = list(session.scalars(select(RemedyAction).order_by(RemedyAction.description)))
        session.expunge_all()
        return rows


# --- the alert list and page ----------------------------------------------------------------


def test_buyer_sees_only_delivered_alerts_of_their_organisation(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    mine = add_alert(db, case_id, buyers.westhaven)
    theirs = add_alert(db, case_id, buyers.eastport)
    later_case, _ = approved_case(browser, buyers.desks, db)
    waiting = add_alert(db, later_case, buyers.westhaven, delivered=None)
    sign_in(other_browser, buyers.buyer_a)
    listing = other_browser.get("/buyer/").get_data(as_text=True)
    assert alert_url(mine) in listing
    assert alert_url(theirs) not in listing and alert_url(waiting) not in listing
    assert "Penang Circuit Assembly" in listing and "Wages and benefits" in listing
    assert MONTH in listing and today().isoformat() not in listing
    assert other_browser.get(alert_url(waiting)).status_code == 404
    assert other_browser.get(alert_url(theirs)).status_code == 404


def test_alerts_are_listed_newest_delivery_first(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    first_case, _ = approved_case(browser, buyers.desks, db)
    second_case, _ = approved_case(browser, buyers.desks, db)
    older = add_alert(db, first_case, buyers.westhaven,
                      delivered=dt.datetime(2026, 3, 2, 6, tzinfo=dt.UTC))
    newer = add_alert(db, second_case, buyers.westhaven,
                      delivered=dt.datetime(2026, 3, 3, 6, tzinfo=dt.UTC))
    sign_in(other_browser, buyers.buyer_a)
    listing = other_browser.get("/buyer/").get_data(as_text=True)
    assert listing.index(alert_url(newer)) < listing.index(alert_url(older))


def test_alert_page_shows_the_approved_summary_facility_and_month(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    with db.transaction() as session:
        session.get_one(Facility, buyers.desks.factory_a.id).os_id = "MY2026000ABCDEF"
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven, count=4)
    sign_in(other_browser, buyers.buyer_a)
    page = other_browser.get(alert_url(alert)).get_data(as_text=True)
    assert SUMMARY in page
    assert "MY2026000ABCDEF" in page and "Penang Circuit Assembly (MY)" in page
    assert f"<dd>{MONTH}</dd>" in page and "<dd>4</dd>" in page
    assert "Serious" in page and "Open" in page


def test_a_count_below_k_is_shown_as_fewer_than_k(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven, count=2)
    sign_in(other_browser, buyers.buyer_a)
    for page in (other_browser.get("/buyer/"), other_browser.get(alert_url(alert))):
        text = page.get_data(as_text=True)
        assert "fewer than 3" in text
        assert "<td>2</td>" not in text and "<dd>2</dd>" not in text


def test_the_desks_own_k_applies(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    with db.transaction() as session:
        session.get_one(Desk, buyers.desks.a.desk.id).k_threshold = 5
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven, count=4)
    sign_in(other_browser, buyers.buyer_a)
    assert "fewer than 5" in other_browser.get(alert_url(alert)).get_data(as_text=True)


def test_acknowledging_records_who_and_when_and_is_audited(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven)
    sign_in(other_browser, buyers.buyer_a)
    assert "Not yet" in other_browser.get("/buyer/").get_data(as_text=True)
    other_browser.get(alert_url(alert))
    assert other_browser.post(alert_url(alert, "/acknowledge")).status_code == 303
    with db.transaction() as session:
        row = session.get_one(Alert, uuid.UUID(alert))
        assert row.acknowledged_at is not None
        assert row.acknowledged_by_id == buyers.buyer_a.account_id
    assert "alert.acknowledge" in audit_actions(db)
    assert "Acknowledge this alert" not in other_browser.get(alert_url(alert)).get_data(
        as_text=True)


def test_two_colleagues_acknowledging_at_once_make_one_acknowledgement(
    browser: Browser, other_browser: Browser, third_browser: Browser, buyers: BuyerWorld,
    db: Database, settings: Any
) -> None:
    """Ann and her colleague at Westhaven acknowledge the alert together: both found it not
    acknowledged before either saved (tests.races lines them up). The first one counts,
    once; the second is answered as a second acknowledgement always is."""
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven)
    with db.transaction() as session:
        colleague = make_member(session, settings, None, "cy@westhaven.example",
                                role=Role.BUYER)
        session.get_one(Account, colleague.account_id).buyer_org_id = buyers.westhaven
    sign_in(other_browser, buyers.buyer_a)
    sign_in(third_browser, colleague)
    other_browser.get(alert_url(alert)), third_browser.get(alert_url(alert))
    answers = at_once(db.engine, lambda: other_browser.post(alert_url(alert, "/acknowledge")),
                      lambda: third_browser.post(alert_url(alert, "/acknowledge")))
    assert [a.status_code for a in answers] == [303, 303]
    with db.transaction() as session:
        acknowledged = session.get_one(Alert, uuid.UUID(alert))
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "alert.acknowledge")))
    assert len(events) == 1
    assert acknowledged.acknowledged_by_id == events[0].actor_id


# --- collective leverage --------------------------------------------------------------------


def test_other_buyers_are_counted_and_only_those_who_opted_in_are_named(
    browser: Browser, other_browser: Browser, third_browser: Browser, buyers: BuyerWorld,
    db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    other_case, _ = approved_case(browser, buyers.desks, db)
    westhaven = add_alert(db, case_id, buyers.westhaven)
    eastport = add_alert(db, case_id, buyers.eastport)
    add_alert(db, other_case, buyers.northfield)  # same workplace, another case
    sign_in(other_browser, buyers.buyer_b)
    page = other_browser.get(alert_url(eastport)).get_data(as_text=True)
    assert "2 other buyers have been alerted" in page
    assert "Northfield University" in page and "proc@northfield.example" in page
    assert "City of Westhaven" not in page and "buy@westhaven.example" not in page
    sign_in(third_browser, buyers.buyer_a)
    page = third_browser.get(alert_url(westhaven)).get_data(as_text=True)
    assert "Eastport Hospital Trust" in page and "ethics@eastport.example" in page


def test_an_alert_not_yet_delivered_to_another_buyer_is_not_counted(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    westhaven = add_alert(db, case_id, buyers.westhaven)
    add_alert(db, case_id, buyers.eastport, delivered=None)
    sign_in(other_browser, buyers.buyer_a)
    page = other_browser.get(alert_url(westhaven)).get_data(as_text=True)
    assert "No other buyer has been alerted" in page and "Eastport" not in page


# --- remedy plan ----------------------------------------------------------------------------


def test_desk_plan_reaches_the_buyer_with_overdue_actions_highlighted(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven)
    past = (today() - dt.timedelta(days=3)).isoformat()
    future = (today() + dt.timedelta(days=30)).isoformat()
    assert add_plan_action(browser, buyers, case_id, description="Pay the back wages",
                           due_on=past) == 303
    assert add_plan_action(browser, buyers, case_id, description="Send a joint letter",
                           owner="buyer", buyer=str(buyers.westhaven), due_on=future) == 303
    sign_in(other_browser, buyers.buyer_a)
    page = other_browser.get(alert_url(alert)).get_data(as_text=True)
    rows = re.findall(r"<tr( class=\"overdue\")?>\s*<td>([^<]+)</td>", page)
    assert {text: bool(flag) for flag, text in rows} == {
        "Pay the back wages": True, "Send a joint letter": False}
    assert page.count("overdue</strong>") == 1
    assert "Buyer: City of Westhaven" in page and "Payroll records" in page


def test_a_done_action_is_not_overdue(
    browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    add_plan_action(browser, buyers, case_id, description="Pay the back wages",
                    due_on="2020-01-31")
    (action,) = plan_actions(db)
    assert "overdue</strong>" in browser.get(case_url(buyers.desks, case_id)).get_data(
        as_text=True)
    response = browser.post(case_url(buyers.desks, case_id,
                                     f"/remedy/actions/{action.id}/status"), {"status": "done"})
    assert response.status_code == 303
    (action,) = plan_actions(db)
    assert action.done_on == today()
    assert "overdue</strong>" not in browser.get(case_url(buyers.desks, case_id)).get_data(
        as_text=True)


def test_marking_remedied_needs_every_action_done(
    browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    url = case_url(buyers.desks, case_id, "/remedy/remedied")
    browser.get(case_url(buyers.desks, case_id))
    assert browser.post(url).status_code == 400  # no plan yet
    add_plan_action(browser, buyers, case_id, description="Pay the back wages")
    response = browser.post(url)
    assert response.status_code == 400 and "not done yet" in response.get_data(as_text=True)
    (action,) = plan_actions(db)
    browser.post(case_url(buyers.desks, case_id, f"/remedy/actions/{action.id}/status"),
                 {"status": "done"})
    assert browser.post(url).status_code == 303
    with db.transaction() as session:
        assert session.get_one(Case, uuid.UUID(case_id)).remedied_on == today()
    assert {"remedy.action_add", "remedy.action_status", "case.remedied"} <= set(
        audit_actions(db))


def test_bad_plan_input_gets_400_and_saves_nothing(
    browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    add_alert(db, case_id, buyers.westhaven)
    cases = [
        {"description": "Pay", "due_on": "31/01/2026"},
        {"description": "Pay", "due_on": "2026-02-30"},
        {"description": "   "},
        {"description": "x" * 2001},
        {"description": "Pay", "owner": "nobody"},
        {"description": "Pay", "owner": "buyer"},  # no buyer named
        {"description": "Pay", "owner": "buyer", "buyer": str(buyers.northfield)},  # not alerted
        {"description": "Pay", "owner": "supplier", "buyer": str(buyers.westhaven)},
        {"description": "Pay", "owner": "buyer", "buyer": "1; drop table"},
        {"description": "Pay", "owner": "buyer", "buyer": "²"},  # isdigit, yet not int
    ]
    for fields in cases:
        status = add_plan_action(browser, buyers, case_id, **{"owner": "supplier", **fields})
        assert status == 400, fields
    assert plan_actions(db) == []


def test_tampered_action_and_message_ids_get_404(
    browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    browser.get(case_url(buyers.desks, case_id))
    for path in (f"/remedy/actions/{uuid.uuid4()}/status", "/remedy/actions/nope/status",
                 f"/thread/{uuid.uuid4()}/visibility", "/thread/nope/visibility"):
        response = browser.post(case_url(buyers.desks, case_id, path),
                                {"status": "done", "hidden": "1"})
        assert response.status_code == 404, path
    assert browser.post(f"/monitor/d/{buyers.desks.a.desk.id}/cases/nope/remedy/actions",
                        {"description": "x", "owner": "desk"}).status_code == 404


# --- the buyer's own actions ----------------------------------------------------------------


def test_buyer_records_an_action_for_a_plan_item(
    browser: Browser, other_browser: Browser, third_browser: Browser, buyers: BuyerWorld,
    db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert_a = add_alert(db, case_id, buyers.westhaven)
    alert_b = add_alert(db, case_id, buyers.eastport)
    add_plan_action(browser, buyers, case_id, description="Pay the back wages")
    (plan_item,) = plan_actions(db)
    sign_in(other_browser, buyers.buyer_a)
    other_browser.get(alert_url(alert_a))
    response = other_browser.post(alert_url(alert_a, "/actions"), {
        "kind": "contract_clause", "description": "Invoked clause 14 of our contract",
        "evidence": "Letter of 3 March", "remedy_action": str(plan_item.id)})
    assert response.status_code == 303
    page = other_browser.get(alert_url(alert_a)).get_data(as_text=True)
    assert "Invoked clause 14" in page and "for the plan's action “Pay the back wages”" in page
    desk_page = browser.get(case_url(buyers.desks, case_id)).get_data(as_text=True)
    assert "City of Westhaven: Used a contract clause" in desk_page
    sign_in(third_browser, buyers.buyer_b)
    assert "Invoked clause 14" not in third_browser.get(alert_url(alert_b)).get_data(
        as_text=True)
    assert "buyer.action" in audit_actions(db)


def test_bad_buyer_action_gets_400_or_404_and_saves_nothing(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    other_case, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven)
    add_plan_action(browser, buyers, other_case, description="Another case's action")
    (foreign,) = plan_actions(db)
    sign_in(other_browser, buyers.buyer_a)
    other_browser.get(alert_url(alert))
    good = {"kind": "audit_request", "description": "Asked for an audit", "evidence": ""}
    for fields, expected in [
        ({"kind": "bribe"}, 400),
        ({"description": ""}, 400),
        ({"description": "x" * 2001}, 400),
        ({"evidence": "x" * 2001}, 400),
        ({"remedy_action": str(foreign.id)}, 404),
        ({"remedy_action": "not-an-id"}, 404),
    ]:
        response = other_browser.post(alert_url(alert, "/actions"), {**good, **fields})
        assert response.status_code == expected, fields
        if expected == 400:
            assert "Nothing was saved" in response.get_data(as_text=True)
            other_browser._remember(response)
        else:
            other_browser.get(alert_url(alert))
    assert count(db, BuyerAction) == 0


# --- the buyers' thread ---------------------------------------------------------------------


def test_thread_is_shared_by_alerted_buyers_and_moderated_by_the_desk(
    browser: Browser, other_browser: Browser, third_browser: Browser, buyers: BuyerWorld,
    db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert_a = add_alert(db, case_id, buyers.westhaven)
    alert_b = add_alert(db, case_id, buyers.eastport)
    sign_in(other_browser, buyers.buyer_a)
    other_browser.get(alert_url(alert_a))
    assert other_browser.post(alert_url(alert_a, "/thread"),
                              {"body": "Shall we write a joint letter?"}).status_code == 303
    browser.get(case_url(buyers.desks, case_id))
    assert browser.post(case_url(buyers.desks, case_id, "/thread"),
                        {"body": "The desk can draft it."}).status_code == 303
    sign_in(third_browser, buyers.buyer_b)
    page = third_browser.get(alert_url(alert_b)).get_data(as_text=True)
    assert "Shall we write a joint letter?" in page and "The desk can draft it." in page
    with db.transaction() as session:
        message = session.scalar(select(ThreadMessage.id).where(
            ThreadMessage.buyer_org_id == buyers.westhaven))
    browser.get(case_url(buyers.desks, case_id))
    assert browser.post(case_url(buyers.desks, case_id, f"/thread/{message}/visibility"),
                        {"hidden": "1"}).status_code == 303
    assert "Shall we write" not in third_browser.get(alert_url(alert_b)).get_data(as_text=True)
    assert "Shall we write" not in other_browser.get(alert_url(alert_a)).get_data(as_text=True)
    desk_page = browser.get(case_url(buyers.desks, case_id)).get_data(as_text=True)
    assert "Shall we write a joint letter?" in desk_page and "hidden from buyers" in desk_page
    browser.post(case_url(buyers.desks, case_id, f"/thread/{message}/visibility"),
                 {"hidden": "0"})
    assert "Shall we write" in third_browser.get(alert_url(alert_b)).get_data(as_text=True)
    assert {"thread.post", "thread.hide", "thread.unhide"} <= set(audit_actions(db))


def test_over_long_or_empty_thread_post_gets_400_and_saves_nothing(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven)
    sign_in(other_browser, buyers.buyer_a)
    other_browser.get(alert_url(alert))
    response = other_browser.post(alert_url(alert, "/thread"), {"body": "y" * 2001})
    assert response.status_code == 400
    assert "at most 2000 characters" in response.get_data(as_text=True)
    assert other_browser.post(alert_url(alert, "/thread"), {"body": "  "}).status_code == 400
    browser.get(case_url(buyers.desks, case_id))
    assert browser.post(case_url(buyers.desks, case_id, "/thread"),
                        {"body": "z" * 2001}).status_code == 400
    assert count(db, ThreadMessage) == 0


# --- webhooks -------------------------------------------------------------------------------


def test_webhook_secret_is_shown_once_and_the_hook_can_be_disabled(
    other_browser: Browser, third_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    sign_in(other_browser, buyers.buyer_a)
    other_browser.get("/buyer/webhooks")
    response = other_browser.post("/buyer/webhooks", {"url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 200
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", response.get_data(as_text=True))
    assert secret is not None
    listing = other_browser.get("/buyer/webhooks").get_data(as_text=True)
    assert "http://127.0.0.1:9/hook" in listing and secret.group(0) not in listing
    with db.transaction() as session:
        hook_id = session.scalar(select(BuyerWebhook.id))
    sign_in(third_browser, buyers.buyer_b)
    third_browser.get("/buyer/webhooks")
    assert third_browser.post(f"/buyer/webhooks/{hook_id}/disable").status_code == 404
    assert "127.0.0.1:9" not in third_browser.get("/buyer/webhooks").get_data(as_text=True)
    assert other_browser.post(f"/buyer/webhooks/{hook_id}/disable").status_code == 303
    with db.transaction() as session:
        assert session.get_one(BuyerWebhook, hook_id).enabled is False


def test_a_webhook_id_beyond_the_id_column_is_not_found(
    other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    """Ids are 32-bit: PostgreSQL refused to compare 2**31 with one (a 500)."""
    sign_in(other_browser, buyers.buyer_a)
    other_browser.get("/buyer/webhooks")
    other_browser.post("/buyer/webhooks", {"url": "http://127.0.0.1:9/hook"})
    assert other_browser.post(f"/buyer/webhooks/{2**31}/disable").status_code == 404
    with db.transaction() as session:
        assert session.scalars(select(BuyerWebhook.enabled)).one() is True


def test_a_bad_webhook_url_gets_400_and_saves_nothing(
    other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    sign_in(other_browser, buyers.buyer_a)
    for url in ("", "ftp://example.org/x", "https://user:pw@example.org/", "x" * 600):
        other_browser.get("/buyer/webhooks")
        assert other_browser.post("/buyer/webhooks", {"url": url}).status_code == 400, url
    assert count(db, BuyerWebhook) == 0


# --- forms and accounts ---------------------------------------------------------------------


def test_a_stale_form_gets_a_clear_message_and_saves_nothing(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven)
    sign_in(other_browser, buyers.buyer_a)
    other_browser.token = "stale"
    response = other_browser.post(alert_url(alert, "/thread"), {"body": "Hello"})
    assert response.status_code == 400 and "Nothing was saved" in response.get_data(
        as_text=True)
    assert count(db, ThreadMessage) == 0


def test_a_buyer_account_without_an_organisation_sees_nothing(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven)
    with db.transaction() as session:
        session.get_one(Account, buyers.buyer_a.account_id).buyer_org_id = None
    sign_in(other_browser, buyers.buyer_a)
    assert other_browser.get("/buyer/").status_code == 404
    assert other_browser.get(alert_url(alert)).status_code == 404


def test_buyer_sees_the_workers_verdicts_only_through_the_k_gate(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    from intake.cases.models import Case, CaseStatus
    from intake.remedy.models import Verdict, WorkerVerdict

    case_id, reports = approved_case(browser, buyers.desks, db, count=4)
    alert = add_alert(db, case_id, buyers.westhaven, count=4)
    with db.transaction() as session:
        case = session.get_one(Case, uuid.UUID(case_id))
        case.verdict_requested_on = today()
        case.status = CaseStatus.CLOSED_REMEDIED
        answers = [Verdict.NO, Verdict.NO, Verdict.NO, Verdict.YES]
        for report_id, answer in zip(reports, answers, strict=True):
            session.add(WorkerVerdict(id=uuid.uuid4(), case_id=case.id,
                                      report_id=uuid.UUID(report_id), verdict=answer,
                                      channel="web"))
    sign_in(other_browser, buyers.buyer_a)
    page = other_browser.get(alert_url(alert)).get_data(as_text=True)
    answers_part = page.split('id="verdicts-h"')[1].split("</section>")[0]
    assert "<dd>3</dd>" in answers_part  # three said no: at k, shown
    assert "<dd>1</dd>" not in answers_part and "&lt;3" in answers_part  # one yes: suppressed
    assert "most workers who answered said the problem was not fixed" in page


@pytest.mark.parametrize("expired", [False, True])
def test_a_buyers_password_page_stays_in_the_buyer_portal(
    browser: Browser, buyers: BuyerWorld, expired: bool
) -> None:
    """The password page (and its form, expired) is shared by every role: a buyer's shows
    the portal's name, and its brand link leads to the portal, not to the desk (a 404)."""
    browser.login(buyers.buyer_a)
    page = browser.get("/monitor/password")
    if expired:
        browser.token = "stale"
        page = browser.post("/monitor/password", {"old": "x", "new": "y", "repeat": "y"})
        assert page.status_code == 400
    html = page.get_data(as_text=True)
    title = "Form expired" if expired else "Change password"
    assert f"<title>{title} – Worker Voice for buyers</title>" in html
    assert 'href="/monitor/"' not in html


def test_a_buyer_signs_in_and_enrols_in_the_buyer_portals_layout(
    browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    """Sent from the portal to sign in, and at the first sign-in's authenticator set-up, a
    buyer sees the buyer portal's name, not the desk's."""
    asked = browser.get("/buyer/")
    assert asked.status_code == 302
    login = browser.get(asked.headers["Location"]).get_data(as_text=True)
    assert "<title>Sign in – Worker Voice for buyers</title>" in login
    assert "<h1>Sign in to the buyer portal</h1>" in login
    with db.transaction() as session:
        session.get_one(Account, buyers.buyer_a.account_id).totp_enrolled = False
    signed = browser.login(buyers.buyer_a, code="")
    assert signed.headers["Location"].endswith("/monitor/enrol")
    enrol = browser.get("/monitor/enrol").get_data(as_text=True)
    assert "<title>Set up your authenticator – Worker Voice for buyers</title>" in enrol
    assert "Sign in – Worker Voice desk" in browser.client.get("/monitor/login").get_data(
        as_text=True)  # a desk's member, sent from nowhere in particular


# --- the portal's menu ------------------------------------------------------------------------

MENU = re.compile(r'<nav aria-label="Buyer portal">(.*?)</nav>', re.S)
MENU_LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>')


def test_every_buyer_page_has_the_same_menu_with_the_current_page_marked(
    browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven)
    sign_in(other_browser, buyers.buyer_a)
    for path, current in [("/buyer/", "Alerts"), ("/buyer/dashboard", "Dashboard"),
                          ("/buyer/webhooks", "Webhooks"), (alert_url(alert), None)]:
        page = other_browser.get(path).get_data(as_text=True)
        [menu] = MENU.findall(page)
        links = MENU_LINK.findall(menu)
        assert [(href, label) for href, _, label in links] == [
            ("/buyer/", "Alerts"), ("/buyer/dashboard", "Dashboard"),
            ("/buyer/webhooks", "Webhooks")], path
        assert [label for _, marked, label in links if marked] == ([current] if current else [])
