"""``intake sms-stats``: what Twilio still keeps of ours and what became of the texts, as an
operator reads it (a child process, as a new user runs it)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from intake.messaging.models import PendingDeletion
from intake.settings import Settings
from tests.commands import run_intake
from tests.sms.conftest import Phone, SmsWorld, new_sid, run_jobs
from tests.sms.test_outbound import database, reply_and_queue, report_by_sms
from tests.twilio_fake import TwilioFake


def cli_env(settings: Settings) -> dict[str, str]:
    return {"INTAKE_INSTANCE": str(settings.instance_path),
            "INTAKE_DATABASE_URL": settings.database_url}


def test_the_operator_sees_counts_and_days_only(
        phone: Phone, sms_world: SmsWorld, sms_app: Flask, twilio: TwilioFake,
        settings: Settings) -> None:
    report_by_sms(phone, consent=True)
    reply_and_queue(sms_app, "We will call the manager today.")
    run_jobs(sms_app)  # the reply sent; the worker's four messages deleted at Twilio
    now = dt.datetime.now(dt.UTC)
    stale_sid, paused_sid = new_sid(), new_sid()
    with database(sms_app).transaction() as session:
        assert session.scalars(select(PendingDeletion)).all() == []
        session.add(PendingDeletion(provider_sid=stale_sid, attempts=7,
                                    created_at=now - dt.timedelta(days=2)))
        session.add(PendingDeletion(provider_sid=paused_sid, attempts=0, created_at=now,
                                    outbound=True, not_before=now + dt.timedelta(minutes=2)))
    shown = run_intake(["sms-stats"], cli_env(settings))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "deleted at Twilio: 4 sent by workers, 0 sent by us"
    assert lines[1] == ("still at Twilio, to delete: 2 (1 sent by workers, 1 by us, 1 of which "
                        "Twilio does not let go yet); the oldest queued on "
                        f"{(now - dt.timedelta(days=2)).date()}, most attempts 7")
    assert "  sent: 1" in lines and "  waiting to be sent: 0" in lines
    assert stale_sid not in shown.stdout and phone.number not in shown.stdout
    checked = run_intake(["sms-stats", "--check"], cli_env(settings))
    assert checked.returncode == 1
    assert "1 message(s) waited more than 24 hours to be deleted at Twilio" in checked.stderr
    with database(sms_app).transaction() as session:
        session.delete(session.scalars(select(PendingDeletion)
                                       .where(PendingDeletion.provider_sid == stale_sid)).one())
    assert run_intake(["sms-stats", "--check"], cli_env(settings)).returncode == 0
