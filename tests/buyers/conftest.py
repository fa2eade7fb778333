"""Fixtures for the buyer portal: desk A's case with an approved summary, three buyer
organisations (Westhaven and Eastport with an account each, Northfield without), and alerts."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from intake.accounts.models import Account, Role
from intake.alerts.models import Alert
from intake.db import Database
from intake.supplychain.models import BuyerOrg
from tests.monitor.conftest import (
    Browser,
    DeskWorld,
    Member,
    browser,
    desks,
    make_member,
    other_browser,
    settings,
    twilio,
)
from tests.monitor.test_cases import case_url, new_case, review_form, write_summary

__all__ = ["browser", "desks", "other_browser", "settings", "twilio"]

SUMMARY = "Night shift workers at the plant were not paid overtime for three months."
DELIVERED = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


@dataclass
class BuyerWorld:
    desks: DeskWorld
    westhaven: int  # org ids
    eastport: int
    northfield: int
    buyer_a: Member  # of Westhaven
    buyer_b: Member  # of Eastport


@pytest.fixture
def buyers(desks: DeskWorld, db: Database, settings: Any) -> BuyerWorld:
    with db.transaction() as session:
        orgs = [BuyerOrg(name="City of Westhaven", contact_email="buy@westhaven.example",
                         share_identity=False),
                BuyerOrg(name="Eastport Hospital Trust", contact_email="ethics@eastport.example",
                         share_identity=True),
                BuyerOrg(name="Northfield University", contact_email="proc@northfield.example",
                         share_identity=True)]
        session.add_all(orgs)
        session.flush()
        buyer_a = make_member(session, settings, None, "ann@westhaven.example", role=Role.BUYER)
        buyer_b = make_member(session, settings, None, "bob@eastport.example", role=Role.BUYER)
        session.get_one(Account, buyer_a.account_id).buyer_org_id = orgs[0].id
        session.get_one(Account, buyer_b.account_id).buyer_org_id = orgs[1].id
        return BuyerWorld(desks, orgs[0].id, orgs[1].id, orgs[2].id, buyer_a, buyer_b)


@pytest.fixture
def third_browser(app: Flask, db: Database) -> Browser:
    return Browser(app.test_client(), db, environ={"REMOTE_ADDR": "198.51.100.150"})


def approved_case(browser: Browser, desks: DeskWorld, db: Database, *, count: int = 2,
                  summary: str = SUMMARY) -> tuple[str, list[str]]:
    """Alice signs in, opens a case of ``count`` reports and approves its summary."""
    case_id, reports = new_case(browser, desks, db, count=count)
    page = write_summary(browser, desks, case_id, summary)
    response = browser.post(case_url(desks, case_id, "/summary/review"), review_form(page))
    assert response.status_code == 303
    return case_id, reports


def add_alert(db: Database, case_id: str, org_id: int, *, count: int = 2,
              delivered: dt.datetime | None = DELIVERED) -> str:
    """An alert row as the batch leaves it (delivered) or before its batch (None)."""
    with db.transaction() as session:
        alert = Alert(id=uuid.uuid4(), case_id=uuid.UUID(case_id), buyer_org_id=org_id,
                      deliver_after=DELIVERED, delivered_at=delivered, report_count=count)
        session.add(alert)
        return str(alert.id)
