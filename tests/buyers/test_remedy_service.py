"""The remedy plan's rules with a controlled date: when an action becomes overdue, and when
a case may be marked remedied."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from intake.cases.models import Case, CaseStatus
from intake.cases.service import create_case
from intake.db import Database
from intake.remedy import service
from intake.remedy.models import ActionOwner, ActionStatus
from intake.reports.models import Severity
from tests.monitor.conftest import DeskWorld, submit

DUE = dt.date(2026, 4, 30)


def a_case(db: Database, desks: DeskWorld) -> uuid.UUID:
    report_id, _ = submit(db, desks.factory_a, "Overtime not paid.")
    with db.transaction() as session:
        case = create_case(session, desk_id=desks.a.desk.id, title="Overtime",
                           category="wages", severity=Severity.SERIOUS,
                           facility_id=desks.factory_a.id, report_ids=[uuid.UUID(report_id)],
                           actor_id=desks.alice.account_id)
        return case.id


def add(db: Database, desks: DeskWorld, case_id: uuid.UUID, due_on: dt.date | None = DUE,
        ) -> uuid.UUID:
    with db.transaction() as session:
        return service.add_action(session, desk_id=desks.a.desk.id, case_id=case_id,
                                  description="Pay the back wages", owner=ActionOwner.SUPPLIER,
                                  buyer_org_id=None, due_on=due_on, evidence="",
                                  actor_id=desks.alice.account_id).id


def overdue(db: Database, case_id: uuid.UUID, day: dt.date) -> list[bool]:
    with db.transaction() as session:
        return [i.overdue for i in service.plan(session, case_id, today=day)]


@pytest.mark.parametrize(("day", "expected"), [
    (DUE - dt.timedelta(days=1), False), (DUE, False), (DUE + dt.timedelta(days=1), True)])
def test_an_action_is_overdue_the_day_after_its_due_date(
    db: Database, desks: DeskWorld, day: dt.date, expected: bool
) -> None:
    case_id = a_case(db, desks)
    add(db, desks, case_id)
    assert overdue(db, case_id, day) == [expected]


def test_an_action_without_a_due_date_is_never_overdue(db: Database, desks: DeskWorld) -> None:
    case_id = a_case(db, desks)
    add(db, desks, case_id, due_on=None)
    assert overdue(db, case_id, dt.date(2099, 1, 1)) == [False]


@pytest.mark.parametrize("status", [ActionStatus.PLANNED, ActionStatus.IN_PROGRESS,
                                    ActionStatus.NOT_DONE])
def test_an_action_not_done_past_its_date_is_overdue(
    db: Database, desks: DeskWorld, status: ActionStatus
) -> None:
    case_id = a_case(db, desks)
    action_id = add(db, desks, case_id)
    with db.transaction() as session:
        service.set_action_status(session, desk_id=desks.a.desk.id, case_id=case_id,
                                  action_id=action_id, status=status,
                                  actor_id=desks.alice.account_id)
    assert overdue(db, case_id, DUE + dt.timedelta(days=7)) == [True]


def test_done_records_the_day_and_is_cleared_when_reopened(
    db: Database, desks: DeskWorld
) -> None:
    case_id = a_case(db, desks)
    action_id = add(db, desks, case_id)
    done_day = DUE + dt.timedelta(days=3)
    with db.transaction() as session:
        action = service.set_action_status(
            session, desk_id=desks.a.desk.id, case_id=case_id, action_id=action_id,
            status=ActionStatus.DONE, actor_id=desks.alice.account_id, today=done_day)
        assert action.done_on == done_day
    assert overdue(db, case_id, DUE + dt.timedelta(days=30)) == [False]
    with db.transaction() as session:
        action = service.set_action_status(
            session, desk_id=desks.a.desk.id, case_id=case_id, action_id=action_id,
            status=ActionStatus.IN_PROGRESS, actor_id=desks.alice.account_id)
        assert action.done_on is None


def test_remedied_on_is_the_given_day_once_every_action_is_done(
    db: Database, desks: DeskWorld
) -> None:
    case_id = a_case(db, desks)
    first, second = add(db, desks, case_id), add(db, desks, case_id)
    with db.transaction() as session:
        service.set_action_status(session, desk_id=desks.a.desk.id, case_id=case_id,
                                  action_id=first, status=ActionStatus.DONE,
                                  actor_id=desks.alice.account_id)
    with db.transaction() as session, pytest.raises(service.RemedyRejected):
        service.mark_remedied(session, desk_id=desks.a.desk.id, case_id=case_id,
                              actor_id=desks.alice.account_id)
    with db.transaction() as session:
        service.set_action_status(session, desk_id=desks.a.desk.id, case_id=case_id,
                                  action_id=second, status=ActionStatus.DONE,
                                  actor_id=desks.alice.account_id)
        case = service.mark_remedied(session, desk_id=desks.a.desk.id, case_id=case_id,
                                     actor_id=desks.alice.account_id, today=DUE)
        assert case.remedied_on == DUE


def test_another_desks_case_is_not_found(db: Database, desks: DeskWorld) -> None:
    case_id = a_case(db, desks)
    with db.transaction() as session, pytest.raises(service.RemedyNotFound):
        service.add_action(session, desk_id=desks.b.desk.id, case_id=case_id,
                           description="x", owner=ActionOwner.DESK, buyer_org_id=None,
                           due_on=None, evidence="", actor_id=desks.bella.account_id)


def test_the_plan_of_a_closed_case_cannot_change(db: Database, desks: DeskWorld) -> None:
    case_id = a_case(db, desks)
    action_id = add(db, desks, case_id)
    with db.transaction() as session:
        session.get_one(Case, case_id).status = CaseStatus.CLOSED_OTHER
    with pytest.raises(service.RemedyRejected):
        add(db, desks, case_id)
    with db.transaction() as session, pytest.raises(service.RemedyRejected):
        service.set_action_status(session, desk_id=desks.a.desk.id, case_id=case_id,
                                  action_id=action_id, status=ActionStatus.DONE,
                                  actor_id=desks.alice.account_id)
