"""The delivery jobs when the world changed between the batch and the send: the webhook
disabled or deleted, the contact address removed, the send already done by an earlier run,
the app secret rotated. Each job finishes quietly (an exception here is a retry in a real
queue), sends nothing it should not, and logs no case text."""

from __future__ import annotations

import dataclasses
import secrets

import pytest
from flask import Flask
from sqlalchemy import delete, select
from standardwebhooks import Webhook

from intake.alerts.delivery import deliver_due
from intake.alerts.models import BuyerWebhook, DeliveryChannel
from intake.db import Database
from intake.rotation.secret_key import rotate_secret_key
from intake.settings import Settings
from intake.supplychain.models import BuyerOrg
from tests.alerts.conftest import SUMMARY, Mailbox, Receiver
from tests.alerts.test_delivery import BATCH, alerted, attempts
from tests.held_jobs import HeldQueue, held
from tests.leaks import captured_logs, found_in, logs
from tests.monitor.conftest import DeskWorld

__all__ = ["logs"]  # a fixture

DIGEST = "intake.alerts.delivery.send_digest"
WEBHOOK = "intake.alerts.delivery.deliver_webhook"


def batched(app: Flask) -> HeldQueue:
    """The batch job runs at the batch time; the sends it queues are held."""
    with held(app) as queue, app.app_context():
        assert deliver_due(BATCH) == 1
    assert DIGEST in queue.names()
    return queue


def leaked(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> list[str]:
    return found_in(captured_logs(caplog, capsys), {"summary": SUMMARY})


def test_a_webhook_disabled_after_the_batch_gets_nothing(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
    logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    alerted(db, desks, settings, url=receiver.url)
    queue = batched(app)
    assert WEBHOOK in queue.names()
    with db.transaction() as session:
        for hook in session.scalars(select(BuyerWebhook)):
            hook.enabled = False
    queue.run(app)
    assert receiver.received == []
    assert attempts(db, DeliveryChannel.WEBHOOK) == []
    assert leaked(logs, capsys) == []


def test_a_webhook_deleted_after_the_batch_gets_nothing(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
    logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    alerted(db, desks, settings, url=receiver.url)
    queue = batched(app)
    with db.transaction() as session:
        session.execute(delete(BuyerWebhook))
    queue.run(app)
    assert receiver.received == []
    assert attempts(db, DeliveryChannel.WEBHOOK) == []
    assert leaked(logs, capsys) == []


def test_a_buyer_whose_address_was_removed_after_the_batch_gets_no_mail(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, mailbox: Mailbox,
    logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    world = alerted(db, desks, settings)
    queue = batched(app)
    with db.transaction() as session:
        session.get_one(BuyerOrg, world.org_id).contact_email = None
    queue.run(app)
    assert mailbox.messages == []
    assert [(t.ok, t.error) for t in attempts(db, DeliveryChannel.EMAIL)] == [
        (False, "no_contact_email")]
    assert leaked(logs, capsys) == []


def test_sends_an_earlier_run_made_are_not_made_again(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, mailbox: Mailbox,
    receiver: Receiver, logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    alerted(db, desks, settings, url=receiver.url)
    queue = batched(app)
    queue.held.extend(list(queue.held))  # every send queued twice (a retried job)
    queue.run(app)
    assert (len(mailbox.messages), len(receiver.received)) == (1, 1)
    assert leaked(logs, capsys) == []


def test_a_webhook_sent_after_the_secret_key_rotated_verifies_with_the_buyers_secret(
    app: Flask, db: Database, desks: DeskWorld, settings: Settings, receiver: Receiver,
) -> None:
    world = alerted(db, desks, settings, url=receiver.url)
    queue = batched(app)
    new = secrets.token_bytes(32)
    with db.transaction() as session:
        rotate_secret_key(session, old=settings.secret_key, new=new)
    app.extensions["intake.settings"] = dataclasses.replace(settings, secret_key=new)
    queue.run(app, only=WEBHOOK)
    [call] = receiver.received
    assert world.secret is not None
    assert Webhook(world.secret).verify(call.body, call.headers)["data"]["summary"] == SUMMARY
