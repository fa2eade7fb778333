"""Leak canaries across the whole product (issue 9, item 3).

One scenario drives every channel with planted canaries — a web report's words, a follow-up
addition, an SMS conversation in several messages, phone numbers, a client IP and
User-Agent, a desk reply, a case title, a case note, a verdict comment and the receipts —
then searches every place data rests or leaves: the raw database (SQLite file or pg_dump),
every Redis key and value, every job payload, the instance folder, the captured logs, the
Twilio fake's recorded requests, the buyer pages, the webhook bodies and the digest e-mails.
Expected count: zero everywhere. The approved summary (distinct from every canary) is the
only case text that may reach buyers, and the reply texted to a worker who consented is the
only canary that may reach Twilio (as the whole message body, to that worker's number).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import logging
import re
import uuid
from email import message_from_bytes, policy
from urllib.parse import parse_qs

import pytest
from flask import Flask

from intake.alerts import service as alerts
from intake.alerts.delivery import deliver_due
from intake.db import Database
from intake.settings import Settings
from intake.supplychain.models import BuyerOrg, Facility
from tests import factories
from tests.alerts.conftest import Mailbox, Receiver, contract, mailbox, receiver
from tests.buyers.conftest import BuyerWorld, buyers
from tests.leaks import (
    captured_logs,
    database_bytes,
    folder_bytes,
    found_in,
    record_jobs,
    redis_bytes,
    rq_job_payloads,
)
from tests.monitor.conftest import Browser, browser, desks, other_browser
from tests.monitor.test_cases import case_url, open_case_form, review_form, write_summary
from tests.sms.conftest import Phone, run_jobs, twilio
from tests.twilio_fake import TwilioFake
from tests.web.conftest import Worker

__all__ = ["browser", "buyers", "desks", "mailbox", "other_browser", "receiver", "twilio"]

SMS_NUMBER_OURS = "+60326000177"  # our inbound number for this module only
CANARIES = {
    "web_words": "CANARY-WEB foreman Osman bolted the dormitory door",
    "addition": "CANARY-ADDITION the agency kept 4 passports",
    "sms_words": "CANARY-SMS-ONE canteen manager Rizal hit Dewi",
    "sms_more": "CANARY-SMS-TWO it happened beside loading bay 9",
    "web_number": "+60123987651",
    "sms_number": "+60139871234",
    "ip": "203.0.113.58",
    "user_agent": "CANARY-UA-Mozilla/5.0 (Linux; Android 14; SM-A146B)",
    "web_reply": "CANARY-DESK-REPLY we met the manager of Osman",
    "sms_reply": "CANARY-SMS-REPLY we spoke to the canteen",
    "title": "CANARY-TITLE Osman dormitory door",
    "note": "CANARY-NOTE the worker sleeps in block F",
    "verdict": "CANARY-VERDICT the door is still bolted",
}
# What buyers may read: written for them, sharing no canary's words.
SUMMARY = "Workers at the plant reported that exits were locked during night shifts."
NOW = dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC)
BATCH = dt.datetime(2026, 3, 11, 6, 0, tzinfo=dt.UTC)  # desk A's default batch hour


@pytest.fixture
def settings(settings: Settings, twilio: TwilioFake, mailbox: Mailbox) -> Settings:
    """The shared settings with Twilio on the local fake, SMTP on the loopback server and
    webhooks allowed to reach 127.0.0.1."""
    return dataclasses.replace(
        settings, twilio_api_base=twilio.url,
        smtp_url=f"smtp://127.0.0.1:{mailbox.port}",  # type: ignore[attr-defined]
        mail_from="alerts@intake.test", webhook_timeout=2.0, webhook_allow_private=True)


@dataclasses.dataclass
class Scenario:
    canaries: dict[str, str]
    places: dict[str, bytes]
    twilio: TwilioFake
    buyer_pages: str
    webhooks: list[bytes]
    mails: list[bytes]


def sms_receipt(replies: list[str]) -> str:
    digits = re.search(r"\d{4} ?\d{4} ?\d{4} ?\d{4}", " ".join(replies))
    assert digits, replies
    return digits.group(0).replace(" ", "")


def mail_bytes(raw: bytes) -> bytes:
    """A message as sent and as read: the raw bytes plus every decoded part (a body may be
    base64 or quoted-printable on the wire)."""
    message = message_from_bytes(raw, policy=policy.default)
    parts = [raw]
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload)
    parts.extend(str(value).encode() for value in message.values())
    return b"\n".join(parts)


def crawl(buyer: Browser) -> str:
    """Every buyer page reachable from the alert list, as the buyer sees it."""
    pages = [buyer.get("/buyer/").get_data(as_text=True)]
    for alert_id in sorted(set(re.findall(r"/buyer/alerts/([0-9a-f-]{36})", pages[0]))):
        pages.append(buyer.get(f"/buyer/alerts/{alert_id}").get_data(as_text=True))
    pages.append(buyer.get("/buyer/webhooks").get_data(as_text=True))
    assert len(pages) >= 3, "the buyer sees the alert"
    return "\n".join(pages + [html.unescape(page) for page in pages])


@pytest.fixture
def scenario(app: Flask, db: Database, settings: Settings, buyers: BuyerWorld,
             browser: Browser, other_browser: Browser, twilio: TwilioFake, mailbox: Mailbox,
             receiver: Receiver, caplog: pytest.LogCaptureFixture,
             capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Scenario:
    desks = buyers.desks
    c = CANARIES
    payloads = record_jobs(app.extensions["intake.jobs"], monkeypatch)
    queued: list[bytes] = []

    def jobs() -> None:  # RQ keeps payloads only until a job has run: read them first
        queued.append(rq_job_payloads(settings.redis_url))
        run_jobs(app)

    with db.transaction() as session:
        factories.sms_number(session, SMS_NUMBER_OURS, country="MY", language="en")
        org = session.get_one(BuyerOrg, buyers.westhaven)
        contract(session, org, desks.factory_a.id, starts=dt.date(2020, 1, 1))
        alerts.create_webhook(session, buyer_org_id=buyers.westhaven, url=receiver.url,
                              secret_key=settings.secret_key)
    environ = {"REMOTE_ADDR": c["ip"], "HTTP_USER_AGENT": c["user_agent"]}
    caplog.set_level(logging.DEBUG, logger="intake")  # our loggers stop at INFO otherwise
    with caplog.at_level(logging.DEBUG):
        # A worker on the web: report (SMS replies allowed), then a follow-up addition.
        worker = Worker(app.test_client(), environ=dict(environ))
        web_receipt = worker.report(facility=desks.factory_a, categories=["forced_labour"],
                                    details=c["web_words"], contact="sms",
                                    number=c["web_number"])
        assert len(web_receipt) == 16
        worker.get("/en/followup")
        added = worker.add_more(web_receipt, c["addition"])
        assert added.status_code == 200
        # A worker by SMS, in several messages, consenting to replies.
        phone = Phone(app.test_client(), settings, number=c["sms_number"], to=SMS_NUMBER_OURS)
        phone.text("MY4821")
        phone.text("4")
        phone.text(c["sms_words"])
        phone.text(c["sms_more"] + " #")
        sms_receipt_text = sms_receipt(phone.text("1"))
        jobs()
        # The desk: replies to both, opens a case with a title, writes a note and a summary.
        browser.environ = dict(environ)
        browser.login(desks.alice)
        desk = f"/monitor/d/{desks.a.desk.id}"
        queue = browser.get(f"{desk}/").get_data(as_text=True)
        report_ids = sorted(set(re.findall(r"/reports/([0-9a-f-]{36})", queue)))
        assert len(report_ids) == 2, queue
        for report_id in report_ids:
            page = browser.get(f"{desk}/reports/{report_id}").get_data(as_text=True)
            text = c["web_reply"] if c["web_words"] in page else c["sms_reply"]
            sent = browser.post(f"{desk}/reports/{report_id}/reply",
                                {"text": text, "action": "send"})
            assert sent.status_code in (200, 303)
        jobs()
        opened = open_case_form(browser, desks, report_ids, title=c["title"])
        assert opened.status_code == 303, opened.get_data(as_text=True)
        case_id = opened.headers["Location"].rsplit("/", 1)[1]
        browser.get(case_url(desks, case_id))
        assert browser.post(case_url(desks, case_id, "/notes"),
                            {"text": c["note"]}).status_code == 303
        page = write_summary(browser, desks, case_id, SUMMARY)
        assert browser.post(case_url(desks, case_id, "/summary/review"),
                            review_form(page)).status_code == 303
        # The desk asks whether it was fixed; the web worker answers with a comment.
        browser.get(case_url(desks, case_id))
        assert browser.post(case_url(desks, case_id, "/verdicts/request")).status_code == 303
        jobs()
        saved = worker.post("/en/followup", {"receipt": web_receipt, "action": "verdict",
                                             "verdict": "no", "comment": c["verdict"]})
        assert "Your answer was saved" in saved.get_data(as_text=True)
        desk_page = browser.get(case_url(desks, case_id)).get_data(as_text=True)
        for planted in ("web_words", "sms_words", "title", "note", "verdict"):
            assert c[planted] in desk_page, planted  # every canary was really stored
        # Buyers are alerted; the batch delivers the digest e-mail and the webhook.
        with db.transaction() as session:
            made = alerts.alert_case(session, desk_id=desks.a.desk.id,
                                     case_id=uuid.UUID(case_id), desk_key=desks.a.key,
                                     actor_id=desks.alice.account_id, now=NOW,
                                     confirm_reidentification=True)
            assert made
        with app.app_context():
            assert deliver_due(BATCH) >= 1
        jobs()
        other_browser.environ = dict(environ)
        other_browser.login(buyers.buyer_a)
        buyer_pages = crawl(other_browser)
        assert SUMMARY in buyer_pages
    assert payloads, "jobs were queued"
    assert b"".join(queued) or not settings.redis_url, "RQ's stored job data was read"
    canaries = {**c, "web_receipt": web_receipt, "sms_receipt": sms_receipt_text}
    places = {
        "database": database_bytes(settings.database_url),
        "redis": redis_bytes(settings.redis_url),
        "jobs": json.dumps(payloads, default=str).encode() + b"\n".join(queued),
        "instance": folder_bytes(settings.instance_path),
        "logs": captured_logs(caplog, capsys),
    }
    return Scenario(canaries, places, twilio, buyer_pages,
                    [r.body for r in receiver.received],
                    [mail_bytes(m.content if isinstance(m.content, bytes)
                                else m.content.encode()) for m in mailbox.messages])


@pytest.mark.parametrize("place", ["database", "redis", "jobs", "instance", "logs"])
def test_no_canary_rests_anywhere(scenario: Scenario, place: str) -> None:
    assert found_in(scenario.places[place], scenario.canaries) == [], place


def test_twilio_gets_only_the_reply_for_the_worker_who_consented(scenario: Scenario) -> None:
    """Every request to Twilio is clean but for a consented reply: that message's body is
    exactly the reply and it goes to the worker's own number."""
    c = scenario.canaries
    consented = {c["web_number"]: c["web_reply"], c["sms_number"]: c["sms_reply"]}
    created = scenario.twilio.created()
    assert {call.form.get("Body") for call in created} >= set(consented.values())
    for call in scenario.twilio.calls:
        form = {k: v[0] for k, v in parse_qs(call.raw.decode(), keep_blank_values=True).items()}
        body, to = form.pop("Body", ""), form.pop("To", "")
        assert to in ("", *consented), "texts go only to workers who gave their number"
        if body in consented.values():
            assert consented[to] == body, "a reply goes only to its own worker"
        else:
            assert found_in(body.encode(), c) == [], body
        rest = json.dumps([call.path, form]).encode()
        assert found_in(rest, c) == [], call.path


def test_buyers_see_only_the_summary(scenario: Scenario) -> None:
    assert found_in(scenario.buyer_pages.encode(), scenario.canaries) == []


def test_webhooks_carry_no_canary(scenario: Scenario) -> None:
    assert scenario.webhooks, "the buyer's webhook was called"
    assert found_in(b"\n".join(scenario.webhooks), scenario.canaries) == []


def test_digest_mails_carry_no_canary(scenario: Scenario) -> None:
    assert scenario.mails, "the digest e-mail was sent"
    assert found_in(b"\n".join(scenario.mails), scenario.canaries) == []


def test_the_search_finds_a_canary_planted_in_a_log_line(
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    """The search can fail: a canary written to a log (or printed) is found."""
    caplog.set_level(logging.DEBUG, logger="intake")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("intake.test").debug("worker said %s", CANARIES["sms_words"])
    print("sent to", CANARIES["sms_number"][-9:])
    assert found_in(captured_logs(caplog, capsys), CANARIES) == ["sms_words", "sms_number"]


def test_the_search_finds_a_canary_planted_in_redis(settings: Settings) -> None:
    if not settings.redis_url:
        pytest.skip("Redis only when INTAKE_TEST_REDIS_URL is set")
    from redis import Redis

    Redis.from_url(settings.redis_url).hset("intake:planted", "k", CANARIES["note"])
    assert found_in(redis_bytes(settings.redis_url), CANARIES) == ["note"]


def test_the_search_finds_a_canary_planted_in_the_database(db: Database,
                                                           settings: Settings) -> None:
    with db.transaction() as session:
        session.add(Facility(name=CANARIES["title"], country="MY", poster_code="CN0077"))
    assert found_in(database_bytes(settings.database_url), CANARIES) == ["title"]
