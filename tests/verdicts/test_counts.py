"""Counting verdicts: suppressed below the desk's k, and the "closed as remedied while most
workers said no" flag the dashboards read."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from intake.accounts.models import Desk
from intake.cases.models import Case, CaseStatus
from intake.db import Database
from intake.remedy.models import Verdict
from intake.remedy.verdicts import remedied_but_no, shown_count, verdict_counts
from intake.reports.models import Report
from intake.reports.service import record_verdict
from tests.monitor.conftest import Browser, DeskWorld, submit
from tests.verdicts.conftest import CaseAt, open_case

FLAG = "Closed as remedied, but most workers who answered said it was not fixed."


def case_with_verdicts(db: Database, desks: DeskWorld, answers: list[Verdict], *,
                       status: CaseStatus = CaseStatus.CLOSED_REMEDIED) -> CaseAt:
    ids = [uuid.UUID(submit(db, desks.factory_a, f"Report {i}.")[0])
           for i in range(len(answers))]
    case = open_case(db, desks, ids)
    with db.transaction() as session:
        row = session.get_one(Case, case.id)
        row.verdict_requested_on = row.opened_on
        for report_id, answer in zip(ids, answers, strict=True):
            record_verdict(session, session.get_one(Report, report_id), answer, "",
                           channel="web")
        row.status = status
    return case


def flagged(db: Database, case: CaseAt) -> bool:
    with db.transaction() as session:
        return remedied_but_no(session, session.get_one(Case, case.id))


def test_counts_have_every_verdict(db: Database, desks: DeskWorld) -> None:
    case = case_with_verdicts(db, desks, [Verdict.NO, Verdict.NO, Verdict.YES])
    with db.transaction() as session:
        assert verdict_counts(session, case.id) == {Verdict.YES: 1, Verdict.PARTLY: 0,
                                                     Verdict.NO: 2}


@pytest.mark.parametrize(("count", "shown"), [(0, "<3"), (2, "<3"), (3, "3"), (12, "12")])
def test_a_count_below_k_is_shown_as_less_than_k(count: int, shown: str) -> None:
    assert shown_count(count, 3) == shown


def test_remedied_with_a_majority_of_no_is_flagged(db: Database, desks: DeskWorld) -> None:
    assert flagged(db, case_with_verdicts(db, desks, [Verdict.NO, Verdict.NO, Verdict.YES]))


@pytest.mark.parametrize("answers", [
    [Verdict.NO, Verdict.YES],  # half is not a majority
    [Verdict.NO, Verdict.PARTLY, Verdict.YES],
    [],
])
def test_without_a_majority_of_no_there_is_no_flag(db: Database, desks: DeskWorld,
                                                   answers: list[Verdict]) -> None:
    if not answers:
        case = open_case(db, desks, [uuid.UUID(submit(db, desks.factory_a, "x")[0])])
        with db.transaction() as session:
            session.get_one(Case, case.id).status = CaseStatus.CLOSED_REMEDIED
    else:
        case = case_with_verdicts(db, desks, answers)
    assert not flagged(db, case)


def test_only_a_case_closed_as_remedied_is_flagged(db: Database, desks: DeskWorld) -> None:
    case = case_with_verdicts(db, desks, [Verdict.NO, Verdict.NO],
                              status=CaseStatus.CLOSED_NOT_REMEDIED)
    assert not flagged(db, case)


def test_the_panel_shows_the_flag_and_counts_at_or_above_k(
        db: Database, desks: DeskWorld, browser: Browser) -> None:
    case = case_with_verdicts(db, desks, [Verdict.NO, Verdict.NO, Verdict.YES])
    with db.transaction() as session:
        _desk(session, desks).k_threshold = 2
    browser.login(desks.alice)
    page = browser.get(case.url(desks)).get_data(as_text=True)
    assert FLAG in page
    assert "<dt>No, not fixed</dt><dd>2</dd>" in page
    assert "<dt>Yes, fixed</dt><dd>&lt;2</dd>" in page
    assert "<dt>Answers</dt><dd>3</dd>" in page


def test_no_flag_on_the_panel_when_most_said_yes(
        db: Database, desks: DeskWorld, browser: Browser) -> None:
    case = case_with_verdicts(db, desks, [Verdict.YES, Verdict.YES, Verdict.NO])
    browser.login(desks.alice)
    assert FLAG not in browser.get(case.url(desks)).get_data(as_text=True)


def _desk(session: Session, desks: DeskWorld) -> Desk:
    return session.get_one(Desk, desks.a.desk.id)
