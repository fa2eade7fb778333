"""Fixtures for the dashboards: the monitor desk's world (two desks, members, browsers) and a
small, hand-built set of reports, cases, verdicts and alerts whose counts are known."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from intake.accounts.models import Account, Desk, Role
from intake.alerts.models import Alert
from intake.cases.models import Case, CaseStatus
from intake.db import Database, today
from intake.remedy.models import Verdict, WorkerVerdict
from intake.reports.models import Channel, Report, ReportDesk, Severity
from intake.supplychain.models import BuyerOrg
from tests import factories
from tests.monitor.conftest import (
    DeskWorld,
    Member,
    browser,
    desks,
    make_member,
    other_browser,
    settings,
    twilio,
)

__all__ = ["browser", "desks", "other_browser", "settings", "twilio"]



def add_reports(session: Session, desk_id: int, facility_id: int | None, *, count: int,
                received_on: dt.date, category: str | None,
                opened_after: list[int | None] | None = None) -> None:
    """``count`` reports of one desk, as triage leaves them (no content: counts only)."""
    delays = opened_after or [None] * count
    for delay in delays:
        report = Report(channel=Channel.WEB, language="en", facility_id=facility_id,
                        received_on=received_on)
        session.add(report)
        session.flush()
        session.add(ReportDesk(
            report_id=report.id, desk_id=desk_id, received_on=received_on,
            facility_id=facility_id, channel=Channel.WEB, language="en", category=category,
            opened_on=received_on + dt.timedelta(days=delay) if delay is not None else None))
    session.flush()


def add_case(session: Session, desk_id: int, facility_id: int, *, status: CaseStatus,
             category: str = "wages", opened_on: dt.date, alerted_after: int | None = None,
             remedied_after: int | None = None, verdicts: tuple[Verdict, ...] = ()) -> Case:
    alerted = opened_on + dt.timedelta(days=alerted_after) if alerted_after is not None else None
    case = Case(id=uuid.uuid4(), desk_id=desk_id, facility_id=facility_id, category=category,
                severity=Severity.SERIOUS, status=status, title_sealed=b"\x00",
                opened_on=opened_on, alerted_on=alerted,
                remedied_on=(alerted + dt.timedelta(days=remedied_after)
                             if alerted is not None and remedied_after is not None else None),
                closed_on=opened_on + dt.timedelta(days=60)
                if status.value.startswith("closed") else None)
    session.add(case)
    session.flush()
    for verdict in verdicts:
        report = Report(channel=Channel.WEB, language="en", facility_id=facility_id)
        session.add(report)
        session.flush()
        session.add(WorkerVerdict(case_id=case.id, report_id=report.id, verdict=verdict,
                                  comment_sealed=b"sealed", channel="web"))
    session.flush()
    return case


def alert(session: Session, case: Case, org: BuyerOrg, *, delivered: dt.datetime | None,
          ) -> None:
    session.add(Alert(case_id=case.id, buyer_org_id=org.id, report_count=3,
                      deliver_after=delivered or dt.datetime.now(dt.UTC),
                      delivered_at=delivered))
    session.flush()


@dataclass
class World:
    today: dt.date
    desks: DeskWorld
    johor: int  # a second workplace of desk A
    injected: int  # a workplace whose imported name is a spreadsheet formula
    flagged_case: uuid.UUID
    fine_case: uuid.UUID
    org_a: int
    org_b: int
    buyer_a: Member
    buyer_b: Member


INJECTED_NAME = "=HYPERLINK(\"http://evil.example\",\"x\")"


@pytest.fixture
def world(db: Database, desks: DeskWorld, settings: Any) -> World:
    """Desk A (k = 3), in the current and the previous month:

    reports: wages 5 (Penang), forced_labour 2 (Penang), safety 4 (Johor), overtime 3
    (a workplace named like a formula), 1 report before the window; desk B: 6 of its own.
    cases: two closed as remedied (verdicts no/no/yes: flagged; yes/yes/no: not flagged),
    one alerted, three open; desk B has one alerted case at its own workplace.
    alerts: org A gets the three alerted cases of desk A (one more not yet delivered);
    org B gets desk B's case.
    """
    day = today()
    this_month = day.replace(day=1)
    last_month = this_month - dt.timedelta(days=1)
    delivered = dt.datetime.combine(this_month, dt.time(6), dt.UTC)
    a, b = desks.a.desk.id, desks.b.desk.id
    fa, fb = desks.factory_a.id, desks.factory_b.id
    with db.transaction() as session:
        johor = factories.facility(session, name="Johor Garments", country="MY").id
        injected = factories.facility(session, name=INJECTED_NAME, country="MY").id
        add_reports(session, a, fa, count=5, received_on=this_month, category="wages",
                    opened_after=[1, 2, 2, 3, 10])
        add_reports(session, a, fa, count=2, received_on=this_month, category="forced_labour")
        add_reports(session, a, johor, count=4, received_on=last_month, category="safety")
        add_reports(session, a, injected, count=3, received_on=last_month, category="overtime")
        add_reports(session, a, fa, count=1, received_on=this_month.replace(
            year=this_month.year - 1) - dt.timedelta(days=1), category="wages")
        add_reports(session, b, fb, count=6, received_on=this_month, category="wages")
        flagged = add_case(session, a, fa, status=CaseStatus.CLOSED_REMEDIED,
                           opened_on=last_month, alerted_after=4, remedied_after=30,
                           verdicts=(Verdict.NO, Verdict.NO, Verdict.YES))
        fine = add_case(session, a, johor, status=CaseStatus.CLOSED_REMEDIED,
                        category="safety", opened_on=last_month, alerted_after=6,
                        remedied_after=20, verdicts=(Verdict.YES, Verdict.YES, Verdict.NO))
        alerted = add_case(session, a, fa, status=CaseStatus.ALERTED, opened_on=last_month,
                           alerted_after=1)
        for _ in range(3):
            add_case(session, a, fa, status=CaseStatus.OPEN, opened_on=this_month)
        pending = add_case(session, a, johor, status=CaseStatus.ALERTED, opened_on=this_month,
                           alerted_after=0)
        case_b = add_case(session, b, fb, status=CaseStatus.ALERTED, opened_on=this_month,
                          alerted_after=0)
        org_a = BuyerOrg(name="City of Westhaven", contact_email="p@westhaven.example")
        org_b = BuyerOrg(name="Eastport Hospitals", contact_email="p@eastport.example")
        session.add_all([org_a, org_b])
        session.flush()
        for case in (flagged, fine, alerted):
            alert(session, case, org_a, delivered=delivered)
        alert(session, pending, org_a, delivered=None)
        alert(session, case_b, org_b, delivered=delivered)
        buyer_a = make_member(session, settings, None, "buyer@westhaven.example",
                              role=Role.BUYER)
        buyer_b = make_member(session, settings, None, "buyer@eastport.example",
                              role=Role.BUYER)
        session.get_one(Account, buyer_a.account_id).buyer_org_id = org_a.id
        session.get_one(Account, buyer_b.account_id).buyer_org_id = org_b.id
        assert session.get_one(Desk, a).k_threshold == 3
        return World(day, desks, johor, injected, flagged.id, fine.id, org_a.id, org_b.id,
                     buyer_a, buyer_b)
