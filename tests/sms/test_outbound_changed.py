"""The SMS jobs when the world changed between enqueue and run: the report deleted by
retention, the number forgotten, the worker said STOP, the text already sent, the pepper
rotated, the message already gone at Twilio. Each job finishes quietly (an exception here
is a retry in a real queue), sends nothing it should not, and logs no number or words."""

from __future__ import annotations

import dataclasses
import datetime as dt
import traceback
import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from channels.sms.outbound import forget_number
from crypto.envelope import seal
from crypto.keys import PrivateKey
from intake.db import Database
from intake.messaging.models import OptOut, OutboundMessage, OutboundStatus, PendingDeletion
from intake.reports.models import Report
from intake.reports.service import Contact, contact_context, open_contact
from intake.retention.service import delete_reports, forget_numbers
from intake.settings import Settings
from tests.alerts.conftest import free_port
from tests.held_jobs import HeldQueue, held
from tests.leaks import captured_logs, found_in, logs
from tests.ops.test_rotation import restarted, rotate_the_pepper
from tests.sms.conftest import Phone, SmsWorld
from tests.sms.test_outbound import WORDS, outbound_status, reply_and_queue, report_by_sms
from tests.twilio_fake import TwilioFake

__all__ = ["logs"]  # a fixture

SEND = "channels.sms.outbound.send_outbound"
FORGET = "channels.sms.outbound.forget_number"
SWEEP = "channels.sms.outbound.sweep_deletions"
REPLY = "REPLY-CANARY we spoke to the manager"
LONG_AFTER = dt.date.today() + dt.timedelta(days=40000)  # past every retention period


def database(app: Flask) -> Database:
    return app.extensions["intake.db"]  # type: ignore[no-any-return]


def reply_held(app: Flask, phone: Phone) -> tuple[HeldQueue, uuid.UUID]:
    """A worker who said yes to texts, and a desk reply whose send job is held."""
    with held(app) as queue:
        report_by_sms(phone, consent=True)
        outbound_id = reply_and_queue(app, REPLY)
    assert outbound_id is not None and SEND in queue.names()
    return queue, outbound_id


def leaked(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
           phone: Phone) -> list[str]:
    return found_in(captured_logs(caplog, capsys),
                    {"number": phone.number, "words": WORDS, "reply": REPLY})


def test_a_text_about_a_report_retention_deleted_is_not_sent(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake,
        logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    queue, outbound_id = reply_held(sms_app, phone)
    with database(sms_app).transaction() as session:
        assert delete_reports(session, today=LONG_AFTER) == 1
    queue.run(sms_app, only=SEND)
    assert twilio.created() == []
    with database(sms_app).transaction() as session:
        assert session.get(OutboundMessage, outbound_id) is None
    assert leaked(logs, capsys, phone) == []


def test_a_text_to_a_number_retention_forgot_is_not_sent(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake,
        logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    queue, outbound_id = reply_held(sms_app, phone)
    with database(sms_app).transaction() as session:
        assert forget_numbers(session, today=LONG_AFTER, contact_days=180) == 1
    queue.run(sms_app, only=SEND)
    assert twilio.created() == []
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.FAILED
    assert leaked(logs, capsys, phone) == []


@pytest.mark.parametrize("first", [SEND, FORGET])
def test_a_text_queued_before_the_worker_said_stop_is_not_sent(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake, first: str,
        logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    queue, outbound_id = reply_held(sms_app, phone)
    with held(sms_app) as later:
        phone.text("STOP")
    assert FORGET in later.names()
    queue.held.extend(later.held)
    queue.run(sms_app, only=first)  # either job may run first
    queue.run(sms_app)
    assert twilio.created() == []
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.OPTED_OUT
    with database(sms_app).transaction() as session:
        assert session.scalars(select(Report.contact_sealed)).one() is None
    assert leaked(logs, capsys, phone) == []


def test_a_text_an_earlier_run_sent_is_not_sent_again(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake,
        logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    queue, outbound_id = reply_held(sms_app, phone)
    queue.enqueue(SEND, outbound_id=str(outbound_id))  # a retried or doubled job
    queue.run(sms_app, only=SEND)
    assert len(twilio.created()) == 1
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENT
    assert leaked(logs, capsys, phone) == []


def test_forgetting_a_number_whose_report_retention_deleted_finishes_quietly(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask,
        logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    with held(sms_app) as queue:
        report_by_sms(phone, consent=True)
        phone.text("STOP")
    with database(sms_app).transaction() as session:
        assert delete_reports(session, today=LONG_AFTER) == 1
    queue.run(sms_app, only=FORGET)
    with database(sms_app).transaction() as session:
        assert session.scalars(select(Report)).all() == []
    assert leaked(logs, capsys, phone) == []


def test_forgetting_a_number_after_a_pepper_rotation_finishes_quietly(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask,
        logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    """The rotation forgets a number whose old tag said STOP; the job then finds nothing."""
    with held(sms_app) as queue:
        report_by_sms(phone, consent=True)
        phone.text("STOP")
    rotated = rotate_the_pepper(sms_app, phone.settings)
    app = restarted(rotated)
    queue.run(app, only=FORGET)
    with database(app).transaction() as session:
        assert session.scalars(select(Report.contact_sealed)).one() is None
    assert leaked(logs, capsys, phone) == []


def test_a_message_twilio_no_longer_has_is_taken_off_the_list_without_retrying(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake,
        logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    with held(sms_app) as queue:
        phone.text("hello")
    twilio.fail_next(1, status=404)  # deleted meanwhile (by an earlier sweep, or by hand)
    queue.run(sms_app, only=SWEEP)
    assert len(twilio.deleted()) == 1
    with database(sms_app).transaction() as session:
        assert session.scalars(select(PendingDeletion)).all() == []
    assert leaked(logs, capsys, phone) == []


def test_a_sweep_with_nothing_left_to_delete_finishes_quietly(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    with held(sms_app) as queue:
        phone.text("hello")
    queue.held.append((SWEEP, {}))  # two sweeps queued: the second finds the list empty
    queue.run(sms_app, only=SWEEP)
    assert len(twilio.deleted()) == 1
    assert queue.ran == [SWEEP, SWEEP]


def test_a_resumed_send_that_cannot_reach_twilio_raises_without_the_number(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake) -> None:
    """A retried job looks in Twilio's list, by number, for the text an earlier run may have
    sent. If Twilio cannot be reached the job fails and is retried, and RQ logs and keeps
    the exception's whole chain: none of it may quote that list's URL (``To=`` the number)."""
    queue, outbound_id = reply_held(sms_app, phone)
    with database(sms_app).transaction() as session:  # an earlier run died mid-send
        session.get_one(OutboundMessage, outbound_id).status = OutboundStatus.SENDING
    settings = sms_app.extensions["intake.settings"]
    sms_app.extensions["intake.settings"] = dataclasses.replace(
        settings, twilio_api_base=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RuntimeError) as failed:
        queue.run(sms_app, only=SEND)
    chain = "".join(traceback.format_exception(failed.value)).encode()
    assert found_in(chain, {"number": phone.number}) == []
    assert outbound_status(sms_app, outbound_id) is OutboundStatus.SENDING  # retried later
    assert twilio.created() == []


def test_a_number_given_again_after_stop_and_start_is_kept(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, sms_settings: Settings) -> None:
    """STOP queues the forgetting of the number. If the worker says START and reports again,
    giving the number, before that job runs, the new report keeps it: only what was given
    before the STOP goes."""
    report_by_sms(phone, consent=True)
    with database(sms_app).transaction() as session:
        before = session.scalars(select(Report.id)).one()
    with held(sms_app) as later:
        phone.text("STOP")
        phone.text("START")
        report_by_sms(phone, consent=True)
    later.run(sms_app, only=FORGET)
    courier = PrivateKey.from_bytes(sms_settings.courier_key or b"")
    with database(sms_app).transaction() as session:
        reports = {r.id: r for r in session.scalars(select(Report))}
        assert reports.pop(before).contact_sealed is None
        [after] = reports.values()
        assert after.contact_consent
        assert open_contact(after, courier).number == phone.number


def test_a_number_sealed_without_its_moment_is_read_and_forgotten(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, sms_settings: Settings) -> None:
    """Numbers sealed before the moment was kept with them (the number alone), and a
    forgetting queued before the STOP's moment travelled with it, still work."""
    report_by_sms(phone, consent=True)
    courier = PrivateKey.from_bytes(sms_settings.courier_key or b"")
    with database(sms_app).transaction() as session:
        report = session.scalars(select(Report)).one()
        report.contact_sealed = seal(phone.number.encode(), [courier.public_key()],
                                     context=contact_context(report.id))
        assert open_contact(report, courier) == Contact(phone.number, kept_at=None)
    with held(sms_app):
        phone.text("STOP")  # its job is held, and never run
    with database(sms_app).transaction() as session:
        tag = session.scalars(select(OptOut.sender_tag)).one()
    with sms_app.app_context():
        forget_number(tag)
    with database(sms_app).transaction() as session:
        assert session.scalars(select(Report.contact_sealed)).one() is None
