"""The desk's "Alerts to buyers" section of a case page and its two forms."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from intake.alerts.delivery import deliver_due
from intake.alerts.models import Alert
from intake.audit.models import AuditEvent
from intake.db import Database
from tests.alerts.conftest import Mailbox, buyer, contract, ready_case, set_band
from tests.monitor.conftest import Browser, DeskWorld
from tests.races import at_once
from tests.sms.conftest import run_jobs


def case_url(desks: DeskWorld, case_id: uuid.UUID, action: str = "") -> str:
    return f"/monitor/d/{desks.a.desk.id}/cases/{case_id}{action}"


def with_buyers(db: Database, desks: DeskWorld) -> int:
    """City of Aston covers factory A; County of Brent has no contract (its id returned)."""
    with db.transaction() as session:
        contract(session, buyer(session, "City of Aston"), desks.factory_a.id,
                 starts=dt.date(2020, 1, 1))
        return buyer(session, "County of Brent").id


def alerts_of(db: Database, case_id: uuid.UUID) -> list[Alert]:
    with db.transaction() as session:
        rows = list(session.scalars(select(Alert).where(Alert.case_id == case_id)))
        session.expunge_all()
        return rows


def test_case_page_shows_the_buyers_that_would_be_alerted(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    with_buyers(db, desks)
    case_id = ready_case(db, desks)
    browser.login(desks.alice)
    page = browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert "Alerts to buyers" in page
    assert "City of Aston" in page and "2020-01-01" in page and "open-ended" in page
    assert 'value="yes"' not in page  # no re-identification checkbox for three reports
    assert "Alert buyers" in page and "Add a buyer by hand" in page


def test_alerting_from_the_case_page_waits_for_the_batch(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    with_buyers(db, desks)
    case_id = ready_case(db, desks)
    browser.login(desks.alice)
    browser.get(case_url(desks, case_id))
    response = browser.post(case_url(desks, case_id, "/alerts"))
    assert response.status_code == 303
    page = browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert "One buyer will be alerted with the next batch" in page
    assert "Waiting for the batch of" in page
    [alert] = alerts_of(db, case_id)
    assert alert.delivered_at is None and alert.deliver_after > dt.datetime.now(dt.UTC)


def test_alerting_twice_alerts_each_buyer_once(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    """A double click on "Alert buyers" needs no nonce: a second send reaches only the buyers
    not alerted yet, and says so."""
    with_buyers(db, desks)
    case_id = ready_case(db, desks)
    browser.login(desks.alice)
    browser.get(case_url(desks, case_id))
    answers = [browser.post(case_url(desks, case_id, "/alerts")) for _ in range(2)]
    assert [a.status_code for a in answers] == [303, 303]
    page = browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert "Every buyer covering this workplace has already been alerted" in page
    assert len(alerts_of(db, case_id)) == 1


def test_alerting_twice_at_the_same_moment_alerts_each_buyer_once(
    browser: Browser, other_browser: Browser, db: Database, desks: DeskWorld
) -> None:
    """Both sends pass their checks before either saves (tests.races lines them up at the
    audit chain): one alert per buyer and case still, so one delivery."""
    with_buyers(db, desks)
    case_id = ready_case(db, desks)
    for each in (browser, other_browser):
        each.login(desks.alice)
        each.get(case_url(desks, case_id))
    answers = at_once(db.engine, lambda: browser.post(case_url(desks, case_id, "/alerts")),
                      lambda: other_browser.post(case_url(desks, case_id, "/alerts")))
    assert all(a.status_code in (303, 409) for a in answers), [a.status_code for a in answers]
    assert len(alerts_of(db, case_id)) == 1


def test_reidentification_warning_must_be_confirmed_on_the_page(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    set_band(db, desks.factory_a.id, "1-99")
    with_buyers(db, desks)
    case_id = ready_case(db, desks, reports=1)
    browser.login(desks.alice)
    page = browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert "Re-identification risk" in page and 'name="confirm_reidentification"' in page
    refused = browser.post(case_url(desks, case_id, "/alerts"))
    assert refused.status_code == 400
    assert "confirm the warning" in refused.get_data(as_text=True)
    assert alerts_of(db, case_id) == []
    confirmed = browser.post(case_url(desks, case_id, "/alerts"),
                             {"confirm_reidentification": "yes"})
    assert confirmed.status_code == 303
    assert [a.reidentification_confirmed for a in alerts_of(db, case_id)] == [True]


def test_counts_below_k_render_as_fewer_than_k(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    with_buyers(db, desks)
    case_id = ready_case(db, desks, reports=2)
    browser.login(desks.alice)
    page = browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert "fewer than 3 reports" in page


def test_alerting_without_approved_summary_shows_why_and_saves_nothing(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    with_buyers(db, desks)
    case_id = ready_case(db, desks, approve=False)
    browser.login(desks.alice)
    page = browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert "Approve the summary above before alerting buyers" in page
    response = browser.post(case_url(desks, case_id, "/alerts"))
    assert response.status_code == 400
    assert "approve the summary" in response.get_data(as_text=True)
    assert alerts_of(db, case_id) == []


def test_adding_a_buyer_by_hand_from_the_page_is_audited(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    brent = with_buyers(db, desks)
    case_id = ready_case(db, desks)
    browser.login(desks.alice)
    browser.get(case_url(desks, case_id))
    response = browser.post(case_url(desks, case_id, "/alerts/buyers"),
                            {"buyer_org_id": str(brent)})
    assert response.status_code == 303
    page = browser.get(case_url(desks, case_id)).get_data(as_text=True)
    assert "County of Brent (added by hand)" in page
    with db.transaction() as session:
        assert session.scalar(select(AuditEvent.detail).where(
            AuditEvent.action == "alert.add_buyer")) is not None


def test_bad_buyer_choice_is_a_clear_400(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    with_buyers(db, desks)
    case_id = ready_case(db, desks)
    browser.login(desks.alice)
    browser.get(case_url(desks, case_id))
    # "²": isdigit, yet not int; 2**31: beyond the 32-bit id column (PostgreSQL: a 500)
    for value in ("", "abc", "999999", "1" * 40, "²", str(2**31)):
        response = browser.post(case_url(desks, case_id, "/alerts/buyers"),
                                {"buyer_org_id": value})
        assert response.status_code == 400, value
        assert "choose a buyer from the list" in response.get_data(as_text=True)
    assert alerts_of(db, case_id) == []


def test_monitor_of_another_desk_gets_404(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    brent = with_buyers(db, desks)
    case_id = ready_case(db, desks)
    browser.login(desks.bella)
    browser.get("/monitor/password")
    for path, data in ((case_url(desks, case_id, "/alerts"), {}),
                       (case_url(desks, case_id, "/alerts/buyers"), {"buyer_org_id": str(brent)})):
        assert browser.post(path, data).status_code == 404
        other_desk = path.replace(f"/d/{desks.a.desk.id}/", f"/d/{desks.b.desk.id}/")
        assert browser.post(other_desk, data).status_code == 404  # B's desk, A's case
    assert alerts_of(db, case_id) == []


def test_stale_form_is_refused_without_a_500(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    with_buyers(db, desks)
    case_id = ready_case(db, desks)
    browser.login(desks.alice)
    browser.token = "stale"
    response = browser.post(case_url(desks, case_id, "/alerts"))
    assert 400 <= response.status_code < 500
    assert alerts_of(db, case_id) == []


def add_brent(browser: Browser, desks: DeskWorld, case_id: uuid.UUID, brent: int) -> TestResponse:
    """The "Add a buyer by hand" form as the page sent it (the same token each time)."""
    return browser.client.post(case_url(desks, case_id, "/alerts/buyers"),
                               data={"csrf_token": browser.token, "buyer_org_id": str(brent)},
                               environ_base=browser.environ)


def alerts_to(db: Database, case_id: uuid.UUID, org_id: int) -> list[Alert]:
    return [alert for alert in alerts_of(db, case_id) if alert.buyer_org_id == org_id]


def test_a_buyer_added_by_hand_twice_is_alerted_once_and_the_second_send_is_told(
    browser: Browser, db: Database, desks: DeskWorld
) -> None:
    """A double click on "Add", or a resend after a timeout: one alert for the buyer, one
    audit event, and the second answer says the buyer was alerted already."""
    brent = with_buyers(db, desks)
    case_id = ready_case(db, desks)
    browser.login(desks.alice)
    browser.get(case_url(desks, case_id))
    answers = [add_brent(browser, desks, case_id, brent) for _ in range(2)]
    assert [a.status_code for a in answers] == [303, 400]
    assert ("County of Brent has already been alerted about this case"
            in answers[1].get_data(as_text=True))
    assert len(alerts_to(db, case_id, brent)) == 1
    with db.transaction() as session:
        assert len(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "alert.add_buyer")).all()) == 1


@pytest.mark.parametrize("already_alerted", [False, True])
def test_a_buyer_added_by_hand_twice_at_the_same_moment_gets_one_alert_and_one_email(
    app: Flask, browser: Browser, other_browser: Browser, db: Database, desks: DeskWorld,
    mailbox: Mailbox, already_alerted: bool
) -> None:
    """Both sends found the buyer not alerted before either saved (tests.races lines them up
    at the audit chain), on a case still open or alerted already (then no status change
    orders them): one alert, so one digest e-mail at the batch, and no 500."""
    brent = with_buyers(db, desks)
    case_id = ready_case(db, desks)
    for each in (browser, other_browser):
        each.login(desks.alice)
    if already_alerted:
        browser.get(case_url(desks, case_id))
        assert browser.post(case_url(desks, case_id, "/alerts")).status_code == 303
    for each in (browser, other_browser):
        each.get(case_url(desks, case_id))
    answers = at_once(db.engine, lambda: add_brent(browser, desks, case_id, brent),
                      lambda: add_brent(other_browser, desks, case_id, brent))
    assert sorted(a.status_code for a in answers) == [303, 400]
    assert any("County of Brent has already been alerted about this case"
               in a.get_data(as_text=True) for a in answers)
    [alert] = alerts_to(db, case_id, brent)
    with app.app_context():
        deliver_due(alert.deliver_after)
    run_jobs(app)
    assert [m.rcpt_tos for m in mailbox.messages].count(["procurement@brent.example"]) == 1
