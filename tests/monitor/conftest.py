"""Fixtures for the monitor desk: two desks with vetted members, and a monitor's browser."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from crypto.hierarchy import TEST_FAST
from intake.accounts.models import Account, AccountStatus, Role
from intake.accounts.service import add_active_member, create_account
from intake.db import Database
from intake.reports.models import Channel
from intake.reports.service import NewReport, store_report
from intake.supplychain.models import Facility
from tests import factories

# Replies by SMS go to the local Twilio fake (the SMS tests' settings), never elsewhere.
from tests.sms.conftest import settings, twilio

__all__ = ["settings", "twilio"]

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


@dataclass
class Member:
    account_id: int
    email: str
    totp_secret: str
    password: str = PASSWORD


@dataclass
class DeskWorld:
    a: factories.DeskWithKey
    b: factories.DeskWithKey
    factory_a: Facility
    factory_b: Facility
    alice: Member  # desk A
    amir: Member  # desk A
    bella: Member  # desk B


def make_member(session: Any, settings: Any, desk: factories.DeskWithKey | None, email: str,
                *, role: Role = Role.MONITOR) -> Member:
    created = create_account(
        session, email=email, display_name=email.split("@")[0].title(), role=role,
        secret_key=settings.secret_key, profile=TEST_FAST, status=AccountStatus.ACTIVE,
        password=PASSWORD,
    )
    created.account.totp_enrolled = True
    if desk is not None:
        add_active_member(session, desk=desk.desk, desk_key=desk.key, account=created.account)
    return Member(created.account.id, created.account.email, created.totp_secret)


@pytest.fixture
def desks(db: Database, settings: Any) -> DeskWorld:
    return make_desk_world(db, settings)


def make_desk_world(db: Database, settings: Any) -> DeskWorld:
    """Two desks, a covered workplace each, two members of desk A and one of desk B."""
    with db.transaction() as session:
        a = factories.desk(session, country="MY", fallback=True)
        b = factories.desk(session, country="MX")
        factory_a = factories.facility(session, name="Penang Circuit Assembly", code="MY4821")
        factory_b = factories.facility(session, name="Tijuana Power Plant", country="MX",
                                       code="MX2045")
        factories.cover(session, a, factory_a)
        factories.cover(session, b, factory_b)
        world = DeskWorld(
            a, b, factory_a, factory_b,
            alice=make_member(session, settings, a, "alice@desk-a.example"),
            amir=make_member(session, settings, a, "amir@desk-a.example"),
            bella=make_member(session, settings, b, "bella@desk-b.example"),
        )
        session.expunge_all()
    return world


def submit(db: Database, facility: Facility | None, details: str, *,
           categories: tuple[str, ...] = ("wages",), language: str = "en",
           channel: Channel = Channel.WEB, number: str | None = None) -> tuple[str, str]:
    """A sealed report as the web channel makes it: (report id, receipt)."""
    with db.transaction() as session:
        row, receipt = store_report(session, NewReport(
            channel=channel, language=language, facility_id=facility.id if facility else None,
            categories=categories, details=details, contact_number=number), profile=TEST_FAST)
        return str(row.id), receipt


def code_for(db: Database, member: Member) -> str:
    """A TOTP code that has not been used yet (a code cannot be replayed)."""
    totp = pyotp.TOTP(member.totp_secret)
    with db.transaction() as session:
        last = session.get_one(Account, member.account_id).totp_last_step
    step = totp.timecode(dt.datetime.now(dt.UTC))
    if last is not None and step <= last:
        step = last + 1
    return totp.generate_otp(step)


@dataclass
class Browser:
    """A monitor's browser: keeps cookies and the page's CSRF token."""

    client: FlaskClient
    db: Database
    token: str = ""
    nonce: str = ""
    environ: dict[str, str] = field(default_factory=lambda: {"REMOTE_ADDR": "198.51.100.7"})

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        response = self.client.get(path, environ_base=self.environ, **kwargs)
        self._remember(response)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        payload = {"csrf_token": self.token, "nonce": self.nonce, **(data or {})}
        response = self.client.post(path, data=payload, environ_base=self.environ, **kwargs)
        self._remember(response)
        return response

    def _remember(self, response: TestResponse) -> None:
        page = response.get_data(as_text=True)
        found = CSRF.search(page)
        if found:
            self.token = found.group(1)
        nonce = NONCE.search(page)
        self.nonce = nonce.group(1) if nonce else ""

    def login(self, member: Member, *, code: str | None = None,
              password: str | None = None) -> TestResponse:
        self.get("/monitor/login")
        return self.post("/monitor/login", {
            "email": member.email, "password": password or member.password,
            "code": code if code is not None else code_for(self.db, member)})


@pytest.fixture
def browser(app: Flask, db: Database) -> Browser:
    return Browser(app.test_client(), db)


@pytest.fixture
def other_browser(app: Flask, db: Database) -> Browser:
    return Browser(app.test_client(), db, environ={"REMOTE_ADDR": "198.51.100.99"})
