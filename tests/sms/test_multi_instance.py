"""Two app instances sharing the database (and Redis) carry one conversation between them."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from intake import create_app
from intake.db import Database
from intake.reports.models import Report
from intake.settings import Settings
from tests.sms.conftest import Phone, SmsWorld


def test_two_instances_carry_one_conversation(sms_app: Flask, sms_settings: Settings,
                                              sms_world: SmsWorld) -> None:
    other = create_app(sms_settings)  # its own engine, pool, limiter and job queue
    try:
        phones = [Phone(sms_app.test_client(), sms_settings),
                  Phone(other.test_client(), sms_settings)]
        script = ["hello", "penang circit", "1", "2", "Sixteen hours", "no day off", "#", "2"]
        answers = [phones[i % 2].text(body) for i, body in enumerate(script)]
        assert re.search(r"\d{4} \d{4} \d{4} \d{4}", answers[-1][0])
        database: Database = sms_app.extensions["intake.db"]
        with database.transaction() as session:
            report = session.scalars(select(Report)).one()
            assert report.categories == "hours" and len(report.messages) == 2
    finally:
        other.extensions["intake.jobs"].drain()
        other.extensions["intake.db"].dispose()
