"""Fixtures for the workers' verdict: the monitor desks, a phone texting our Malaysian
number (Malay by default), the Twilio fake, and a case with its reports."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from intake.cases.models import Case
from intake.cases.service import create_case
from intake.db import Database
from intake.reports.models import Report, Severity
from intake.settings import Settings
from tests import factories
from tests.monitor.conftest import Browser, DeskWorld, browser, desks, settings, twilio
from tests.sms.conftest import Phone, sms_app, sms_settings

__all__ = ["browser", "desks", "settings", "sms_app", "sms_settings", "twilio"]

WORDS = "The line leader kept our pay for March"
# A number of our own: the conversation caches each number's language for a minute, so the
# SMS tests' numbers (English and Spanish) must not answer in Malay after these tests.
VERDICT_NUMBER = "+60326000188"


@dataclass
class CaseAt:
    id: uuid.UUID
    report_ids: list[uuid.UUID]

    def url(self, desks: DeskWorld, action: str = "") -> str:
        return f"/monitor/d/{desks.a.desk.id}/cases/{self.id}{action}"


@pytest.fixture
def numbers(desks: DeskWorld, db: Database) -> DeskWorld:
    """Our inbound number in Malaysia answers in Malay unless the worker picks a language."""
    with db.transaction() as session:
        factories.sms_number(session, VERDICT_NUMBER, country="MY", language="ms")
    return desks


@pytest.fixture
def phone(sms_app: Flask, sms_settings: Settings) -> Phone:
    return Phone(sms_app.test_client(), sms_settings, to=VERDICT_NUMBER)


def report_by_sms(phone: Phone, *, consent: bool = True) -> list[str]:
    """A report about Penang Circuit Assembly (poster code MY4821); the last replies."""
    phone.text("MY4821")
    phone.text("1")
    phone.text(WORDS + " #")
    return phone.text("1" if consent else "2")


def open_case(db: Database, desks: DeskWorld, report_ids: list[uuid.UUID]) -> CaseAt:
    with db.transaction() as session:
        case = create_case(session, desk_id=desks.a.desk.id, title="Pay kept back",
                           category="wages", severity=Severity.SERIOUS,
                           facility_id=desks.factory_a.id, report_ids=report_ids,
                           actor_id=desks.alice.account_id)
        return CaseAt(case.id, report_ids)


def sms_reports(db: Database) -> list[uuid.UUID]:
    from sqlalchemy import select

    with db.transaction() as session:
        return list(session.scalars(select(Report.id).order_by(Report.received_on)))


def ask(browser: Browser, desks: DeskWorld, case: CaseAt) -> Any:
    """Alice (signed in) presses "Ask the workers whether it was fixed"."""
    browser.get(case.url(desks))
    return browser.post(case.url(desks, "/verdicts/request"))


def case_row(db: Database, case: CaseAt) -> Case:
    with db.transaction() as session:
        row = session.get_one(Case, case.id)
        session.expunge(row)
        return row


def database(app: Flask) -> Database:
    return app.extensions["intake.db"]  # type: ignore[no-any-return]
