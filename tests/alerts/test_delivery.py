"""Delivery in batches: nothing before the batch time, then a digest e-mail with no case text
through a real SMTP server, and Standard Webhooks calls verified with ``standardwebhooks``;
failures are recorded and retried by the job queue."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from email import message_from_bytes, policy

import pytest
from flask import Flask
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from intake.alerts import service
from intake.alerts.delivery import deliver_due
from intake.alerts.models import Alert, DeliveryAttempt, DeliveryChannel
from intake.db import Database
from intake.settings import Settings
from intake.supplychain.models import BuyerOrg
from tests.alerts.conftest import (
    SUMMARY,
    Mailbox,
    Receiver,
    buyer,
    contract,
    free_port,
    ready_case,
)
from tests.monitor.conftest import DeskWorld
from tests.sms.conftest import run_jobs

NOW = dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC)
BATCH = dt.datetime(2026, 3, 11, 6, 0, tzinfo=dt.UTC)  # desk A's default batch hour: 06:00


@dataclasses.dataclass
class World:
    case_id: uuid.UUID
    org_id: int
    secret: str | None


def alerted(db: Database, desks: DeskWorld, settings: Settings, *, url: str | None = None,
            reports: int = 3, email: str | None = "buy@aston.example") -> World:
    """A case alerted at NOW to one buyer (City of Aston), with a webhook at ``url``."""
    with db.transaction() as session:
        org = buyer(session, "City of Aston", email=email)
        if email is None:
            org.contact_email = None
        contract(session, org, desks.factory_a.id, starts=dt.date(2020, 1, 1))
        secret = None
        if url is not None:
            _hook, secret = service.create_webhook(session, buyer_org_id=org.id, url=url,
                                                   secret_key=settings.secret_key)
        org_id = org.id
    case_id = ready_case(db, desks, reports=reports)
    with db.transaction() as session:
        service.alert_case(session, desk_id=desks.a.desk.id, case_id=case_id,
                           desk_key=desks.a.key, actor_id=desks.alice.account_id, now=NOW,
                           confirm_reidentification=True)
    return World(case_id, org_id, secret)


def deliver(app: Flask, now: dt.datetime) -> int:
    with app.app_context():
        count = deliver_due(now)
    run_jobs(app)
    return count


def attempts(db: Database, channel: DeliveryChannel) -> list[DeliveryAttempt]:
    with db.transaction() as session:
        rows = list(session.scalars(select(DeliveryAttempt).where(
            DeliveryAttempt.channel == channel).order_by(DeliveryAttempt.id)))
        session.expunge_all()
        return rows


def delivered_at(db: Database, case_id: uuid.UUID) -> list[dt.datetime | None]:
    with db.transaction() as session:
        return list(session.scalars(select(Alert.delivered_at).where(Alert.case_id == case_id)))


# --- batching -------------------------------------------------------------------------------


def test_nothing_is_delivered_before_the_batch_time(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, mailbox: Mailbox,
    receiver: Receiver,
) -> None:
    world = alerted(db, desks, settings, url=receiver.url)
    for early in (NOW, NOW + dt.timedelta(seconds=59), BATCH - dt.timedelta(minutes=1)):
        assert deliver(app, early) == 0
    assert delivered_at(db, world.case_id) == [None]
    assert (mailbox.messages, receiver.received) == ([], [])


def test_alerts_are_delivered_at_the_batch_time_once(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, mailbox: Mailbox,
    receiver: Receiver,
) -> None:
    world = alerted(db, desks, settings, url=receiver.url)
    assert deliver(app, BATCH) == 1
    assert delivered_at(db, world.case_id) == [BATCH]
    assert (len(mailbox.messages), len(receiver.received)) == (1, 1)
    assert deliver(app, BATCH + dt.timedelta(hours=1)) == 0
    assert (len(mailbox.messages), len(receiver.received)) == (1, 1)


# --- the digest e-mail ----------------------------------------------------------------------


def test_digest_reaches_the_smtp_server_without_any_case_text(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, mailbox: Mailbox,
) -> None:
    alerted(db, desks, settings)
    deliver(app, BATCH)
    [envelope] = mailbox.messages
    assert envelope.rcpt_tos == ["buy@aston.example"]
    assert envelope.mail_from == "alerts@intake.test"
    raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
    message = message_from_bytes(raw, policy=policy.default)
    text = str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "https://intake.test/buyer/" in text
    assert "a new alert" in text
    whole = raw.decode("utf-8", "replace") + text
    for secret in (SUMMARY, "Overtime", "Penang", desks.factory_a.name, "MY4821", "wages",
                   "serious", "night shift"):
        assert secret.lower() not in whole.lower(), secret
    [attempt] = attempts(db, DeliveryChannel.EMAIL)
    assert (attempt.ok, attempt.status_code, attempt.alert_id) == (True, 250, None)


def test_smtp_server_down_is_recorded_and_retried_without_losing_the_alert(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings,
) -> None:
    down = dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")
    app.extensions["intake.settings"] = down
    world = alerted(db, desks, down)
    deliver(app, BATCH)
    tries = attempts(db, DeliveryChannel.EMAIL)
    assert len(tries) == 4  # the first try and three retries of the test queue's backoff
    assert {(t.ok, t.error) for t in tries} == {(False, "smtp_unreachable")}
    assert len({t.message_id for t in tries}) == 1
    assert delivered_at(db, world.case_id) == [BATCH]  # still in the portal


def test_no_smtp_configured_is_recorded_as_a_failed_attempt(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings,
) -> None:
    app.extensions["intake.settings"] = dataclasses.replace(settings, smtp_url=None)
    alerted(db, desks, settings)
    deliver(app, BATCH)
    tries = attempts(db, DeliveryChannel.EMAIL)
    assert tries and {(t.ok, t.error) for t in tries} == {(False, "smtp_not_configured")}


def test_buyer_without_contact_address_gets_no_mail_and_no_retries(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, mailbox: Mailbox,
) -> None:
    alerted(db, desks, settings, email=None)
    deliver(app, BATCH)
    assert mailbox.messages == []
    assert [(t.ok, t.error) for t in attempts(db, DeliveryChannel.EMAIL)] == [
        (False, "no_contact_email")]


# --- signed webhooks ------------------------------------------------------------------------


def test_webhook_is_signed_and_verifies_with_standardwebhooks(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
) -> None:
    world = alerted(db, desks, settings, url=receiver.url)
    deliver(app, BATCH)
    [call] = receiver.received
    assert world.secret is not None and world.secret.startswith("whsec_")
    payload = Webhook(world.secret).verify(call.body, call.headers)
    data = payload["data"]
    assert payload["type"] == "alert.created"
    assert data["summary"] == SUMMARY
    assert (data["category"], data["severity"], data["reports"], data["report_count"]) == (
        "wages", "serious", "3", 3)
    assert data["facility"] == {"name": desks.factory_a.name, "country": "MY", "os_id": None}
    assert data["link"].startswith("https://intake.test/buyer/")
    assert len(data["month"]) == 7
    [attempt] = attempts(db, DeliveryChannel.WEBHOOK)
    assert (attempt.ok, attempt.status_code, attempt.message_id) == (
        True, 200, call.headers["webhook-id"])


def test_webhook_counts_below_k_are_suppressed(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
) -> None:
    world = alerted(db, desks, settings, url=receiver.url, reports=1)
    deliver(app, BATCH)
    assert world.secret is not None
    data = Webhook(world.secret).verify(receiver.received[0].body,
                                        receiver.received[0].headers)["data"]
    assert (data["reports"], data["report_count"]) == ("fewer than 3", None)


def test_tampered_body_fails_verification(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
) -> None:
    world = alerted(db, desks, settings, url=receiver.url)
    deliver(app, BATCH)
    [call] = receiver.received
    assert world.secret is not None
    body = json.loads(call.body)
    body["data"]["summary"] = "Nothing happened."
    tampered = json.dumps(body, separators=(",", ":"), sort_keys=True)
    with pytest.raises(WebhookVerificationError):
        Webhook(world.secret).verify(tampered, call.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(call.body, call.headers)  # another secret


def test_stale_timestamp_fails_verification(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
) -> None:
    world = alerted(db, desks, settings, url=receiver.url)
    deliver(app, BATCH)
    [call] = receiver.received
    assert world.secret is not None
    old = dt.datetime.fromtimestamp(int(call.headers["webhook-timestamp"]) - 600, tz=dt.UTC)
    replayed = {**call.headers, "webhook-timestamp": str(int(old.timestamp())),
                "webhook-signature": Webhook(world.secret).sign(
                    call.headers["webhook-id"], old, call.body.decode())}
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(world.secret).verify(call.body, replayed)


def test_webhook_answering_500_is_retried_with_the_same_id_and_both_attempts_recorded(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
) -> None:
    receiver.statuses = [500]
    world = alerted(db, desks, settings, url=receiver.url)
    deliver(app, BATCH)
    assert len(receiver.received) == 2
    assert world.secret is not None
    for call in receiver.received:
        Webhook(world.secret).verify(call.body, call.headers)
    tries = attempts(db, DeliveryChannel.WEBHOOK)
    assert [(t.status_code, t.ok, t.error) for t in tries] == [
        (500, False, "http_500"), (200, True, None)]
    assert {t.message_id for t in tries} == {receiver.received[0].headers["webhook-id"]}
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers[
        "webhook-id"]


def test_webhook_endpoint_that_times_out_is_recorded_and_retried(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
    mailbox: Mailbox,
) -> None:
    receiver.hang = True
    world = alerted(db, desks, settings, url=receiver.url)
    deliver(app, BATCH)
    tries = attempts(db, DeliveryChannel.WEBHOOK)
    assert len(tries) == 4
    assert {(t.ok, t.error, t.status_code) for t in tries} == {(False, "timeout", None)}
    assert delivered_at(db, world.case_id) == [BATCH]
    assert len(mailbox.messages) == 1  # the digest does not wait for the webhook


def test_unreachable_webhook_endpoint_is_recorded(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings,
) -> None:
    alerted(db, desks, settings, url=f"http://127.0.0.1:{free_port()}/hook")
    deliver(app, BATCH)
    tries = attempts(db, DeliveryChannel.WEBHOOK)
    assert tries and {(t.ok, t.error) for t in tries} == {(False, "unreachable")}


def test_disabled_webhook_gets_nothing(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
) -> None:
    alerted(db, desks, settings, url=receiver.url)
    with db.transaction() as session:
        from intake.alerts.models import BuyerWebhook

        for hook in session.scalars(select(BuyerWebhook)):
            hook.enabled = False
    deliver(app, BATCH)
    assert receiver.received == []


# --- webhook endpoints ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "", "ftp://example.org/hook", "javascript:alert(1)", "https://", "https://u:p@example.org/",
    "https://example.org/a b", "https://example.org:99999/", "/relative/hook",
    "https://example.org/" + "a" * 600,
])
def test_bad_webhook_urls_are_refused(db: Database, settings: Settings, url: str) -> None:
    with db.transaction() as session:
        org = BuyerOrg(name="City of Aston")
        session.add(org)
        session.flush()
        with pytest.raises(service.WebhookRejected):
            service.create_webhook(session, buyer_org_id=org.id, url=url,
                                   secret_key=settings.secret_key)


def test_webhook_secret_is_stored_only_sealed(db: Database, settings: Settings) -> None:
    with db.transaction() as session:
        org = BuyerOrg(name="City of Aston")
        session.add(org)
        session.flush()
        hook, secret = service.create_webhook(session, buyer_org_id=org.id,
                                              url="https://hooks.aston.example/intake",
                                              secret_key=settings.secret_key)
        raw = service.webhook_secret(hook, secret_key=settings.secret_key)
        assert secret == "whsec_" + __import__("base64").b64encode(raw).decode()
        assert raw not in hook.secret_sealed


def test_batch_job_queued_by_name_delivers_what_is_due(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, mailbox: Mailbox,
) -> None:
    with db.transaction() as session:
        contract(session, buyer(session, "City of Aston"), desks.factory_a.id,
                 starts=dt.date(2020, 1, 1))
    case_id = ready_case(db, desks)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    with db.transaction() as session:
        service.alert_case(session, desk_id=desks.a.desk.id, case_id=case_id,
                           desk_key=desks.a.key, actor_id=desks.alice.account_id, now=long_ago)
    app.extensions["intake.jobs"].enqueue_coalesced("intake.alerts.delivery.deliver_due")
    run_jobs(app)
    run_jobs(app)  # the sends the batch queued
    assert delivered_at(db, case_id) != [None]
    assert len(mailbox.messages) == 1


def test_webhook_to_a_private_address_is_refused_unless_allowed(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
) -> None:
    app.extensions["intake.settings"] = dataclasses.replace(settings,
                                                            webhook_allow_private=False)
    alerted(db, desks, settings, url=receiver.url)
    deliver(app, BATCH)
    assert receiver.received == []
    tries = attempts(db, DeliveryChannel.WEBHOOK)
    assert tries and {(t.ok, t.error) for t in tries} == {(False, "private_address")}


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.1",
                                  "::1", "localhost"])
def test_private_or_unknown_hosts_are_not_public(host: str) -> None:
    from intake.alerts.delivery import public_host

    assert not public_host(host, 443)


def test_public_address_is_public() -> None:
    from intake.alerts.delivery import public_host

    assert public_host("93.184.215.14", 443)  # a literal address: no DNS lookup needed
