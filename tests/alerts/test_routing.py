"""Routing an alert to the buyers whose contracts cover the workplace, the gates before
anything leaves the desk, the batch time and the k gate."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from intake.alerts import service
from intake.alerts.models import Alert
from intake.alerts.service import AlertRejected, ReidentificationRisk, shown_count
from intake.audit.models import AuditEvent
from intake.cases.models import Case, CaseStatus
from intake.db import Database
from intake.supplychain.models import BuyerOrg
from tests.alerts.conftest import buyer, contract, ready_case, set_band
from tests.monitor.conftest import DeskWorld

NOW = dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC)
DAY = NOW.date()


def alert(db: Database, desks: DeskWorld, case_id: uuid.UUID, *, now: dt.datetime = NOW,
          confirm: bool = False) -> list[str]:
    """Alert the case; the names of the buyers alerted."""
    with db.transaction() as session:
        made = service.alert_case(session, desk_id=desks.a.desk.id, case_id=case_id,
                                  desk_key=desks.a.key, actor_id=desks.alice.account_id,
                                  now=now, confirm_reidentification=confirm)
        return sorted(session.get_one(BuyerOrg, a.buyer_org_id).name for a in made)


def alerts_of(db: Database, case_id: uuid.UUID) -> list[Alert]:
    with db.transaction() as session:
        rows = list(session.scalars(select(Alert).where(Alert.case_id == case_id)))
        session.expunge_all()
        return rows


def contracts(db: Database, desks: DeskWorld, *spans: tuple[str, dt.date, dt.date | None]) -> None:
    with db.transaction() as session:
        for name, starts, ends in spans:
            contract(session, buyer(session, name), desks.factory_a.id, starts=starts, ends=ends)


# --- routing by contract dates ----------------------------------------------------------------


def test_alert_goes_to_every_buyer_whose_contract_covers_the_day(
    db: Database, desks: DeskWorld
) -> None:
    contracts(db, desks,
              ("City of Aston", DAY - dt.timedelta(days=400), DAY + dt.timedelta(days=30)),
              ("County of Brent", DAY - dt.timedelta(days=10), None))
    case_id = ready_case(db, desks)
    assert alert(db, desks, case_id) == ["City of Aston", "County of Brent"]


def test_contract_starting_after_the_day_is_not_routed(db: Database, desks: DeskWorld) -> None:
    contracts(db, desks, ("City of Aston", DAY + dt.timedelta(days=1), None),
              ("County of Brent", DAY, None))
    case_id = ready_case(db, desks)
    assert alert(db, desks, case_id) == ["County of Brent"]


def test_contract_ended_before_the_day_is_not_routed(db: Database, desks: DeskWorld) -> None:
    contracts(db, desks,
              ("City of Aston", DAY - dt.timedelta(days=90), DAY - dt.timedelta(days=1)),
              ("County of Brent", DAY - dt.timedelta(days=90), DAY))
    case_id = ready_case(db, desks)
    assert alert(db, desks, case_id) == ["County of Brent"]


def test_open_ended_contract_covers_any_later_day(db: Database, desks: DeskWorld) -> None:
    contracts(db, desks, ("City of Aston", dt.date(2020, 1, 1), None))
    case_id = ready_case(db, desks)
    assert alert(db, desks, case_id) == ["City of Aston"]


def test_contract_for_another_workplace_is_not_routed(db: Database, desks: DeskWorld) -> None:
    with db.transaction() as session:
        contract(session, buyer(session, "City of Aston"), desks.factory_b.id,
                 starts=dt.date(2020, 1, 1))
        contract(session, buyer(session, "County of Brent"), desks.factory_a.id,
                 starts=dt.date(2020, 1, 1))
    case_id = ready_case(db, desks)
    assert alert(db, desks, case_id) == ["County of Brent"]


def test_alerting_sets_the_case_alerted_and_audits_the_buyer_count(
    db: Database, desks: DeskWorld
) -> None:
    contracts(db, desks, ("City of Aston", dt.date(2020, 1, 1), None),
              ("County of Brent", dt.date(2020, 1, 1), None))
    case_id = ready_case(db, desks)
    alert(db, desks, case_id)
    with db.transaction() as session:
        case = session.get_one(Case, case_id)
        assert (case.status, case.alerted_on) == (CaseStatus.ALERTED, DAY)
        details = list(session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "case.alert")))
    assert details == ["buyers=2 reports=3"]
    assert all(a.report_count == 3 for a in alerts_of(db, case_id))


def test_alerting_again_reaches_only_buyers_not_alerted_yet(
    db: Database, desks: DeskWorld
) -> None:
    contracts(db, desks, ("City of Aston", dt.date(2020, 1, 1), None))
    case_id = ready_case(db, desks)
    alert(db, desks, case_id)
    contracts(db, desks, ("County of Brent", DAY, None))
    with db.transaction() as session:
        again = service.alert_case(session, desk_id=desks.a.desk.id, case_id=case_id,
                                   desk_key=desks.a.key, actor_id=desks.alice.account_id,
                                   now=NOW + dt.timedelta(hours=1))
        assert len(again) == 1
    assert len(alerts_of(db, case_id)) == 2


def test_no_covering_contract_is_refused_and_leaves_the_case_open(
    db: Database, desks: DeskWorld
) -> None:
    case_id = ready_case(db, desks)
    with pytest.raises(AlertRejected, match="add a buyer by hand"), db.transaction() as s:
        service.alert_case(s, desk_id=desks.a.desk.id, case_id=case_id, desk_key=desks.a.key,
                           actor_id=desks.alice.account_id, now=NOW)
    with db.transaction() as session:
        assert session.get_one(Case, case_id).status is CaseStatus.OPEN


def test_buyer_added_by_hand_is_alerted_and_audited(db: Database, desks: DeskWorld) -> None:
    with db.transaction() as session:
        org_id = buyer(session, "City of Aston").id
    case_id = ready_case(db, desks)
    with db.transaction() as session:
        made = service.add_buyer_by_hand(session, desk_id=desks.a.desk.id, case_id=case_id,
                                         buyer_org_id=org_id, desk_key=desks.a.key,
                                         actor_id=desks.alice.account_id, now=NOW)
        assert made.added_by_hand
        events = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "alert.add_buyer")))
    assert [(e.actor_id, e.object_id) for e in events] == [
        (desks.alice.account_id, str(case_id))]
    with pytest.raises(AlertRejected, match="already"), db.transaction() as session:
        service.add_buyer_by_hand(session, desk_id=desks.a.desk.id, case_id=case_id,
                                  buyer_org_id=org_id, desk_key=desks.a.key,
                                  actor_id=desks.alice.account_id, now=NOW)


# --- nothing leaves the desk without the approved summary -----------------------------------


def test_alerting_without_an_approved_summary_is_refused(db: Database, desks: DeskWorld) -> None:
    contracts(db, desks, ("City of Aston", dt.date(2020, 1, 1), None))
    for case_id in (ready_case(db, desks, summary=""), ready_case(db, desks, approve=False)):
        with pytest.raises(AlertRejected, match="approve the summary"), db.transaction() as s:
            service.alert_case(s, desk_id=desks.a.desk.id, case_id=case_id,
                               desk_key=desks.a.key, actor_id=desks.alice.account_id, now=NOW)
        assert alerts_of(db, case_id) == []


def test_alerting_with_redactions_not_reviewed_is_refused(db: Database, desks: DeskWorld) -> None:
    contracts(db, desks, ("City of Aston", dt.date(2020, 1, 1), None))
    case_id = ready_case(db, desks, summary="Call 012-345 6789 about unpaid overtime.",
                         approve=False)
    with pytest.raises(AlertRejected, match="redaction"), db.transaction() as session:
        service.alert_case(session, desk_id=desks.a.desk.id, case_id=case_id,
                           desk_key=desks.a.key, actor_id=desks.alice.account_id, now=NOW)
    assert alerts_of(db, case_id) == []


def test_another_desks_case_is_not_found(db: Database, desks: DeskWorld) -> None:
    from intake.cases.service import CaseNotFound

    case_id = ready_case(db, desks)
    with pytest.raises(CaseNotFound), db.transaction() as session:
        service.alert_case(session, desk_id=desks.b.desk.id, case_id=case_id,
                           desk_key=desks.b.key, actor_id=desks.bella.account_id, now=NOW)


# --- the re-identification warning ----------------------------------------------------------


@pytest.mark.parametrize("band", ["1-99", "100-499", None])
def test_single_report_from_a_small_workplace_needs_the_warning_confirmed(
    db: Database, desks: DeskWorld, band: str | None
) -> None:
    set_band(db, desks.factory_a.id, band)
    contracts(db, desks, ("City of Aston", dt.date(2020, 1, 1), None))
    case_id = ready_case(db, desks, reports=1)
    with pytest.raises(ReidentificationRisk), db.transaction() as session:
        service.alert_case(session, desk_id=desks.a.desk.id, case_id=case_id,
                           desk_key=desks.a.key, actor_id=desks.alice.account_id, now=NOW)
    assert alerts_of(db, case_id) == []
    assert alert(db, desks, case_id, confirm=True) == ["City of Aston"]
    assert [a.reidentification_confirmed for a in alerts_of(db, case_id)] == [True]


def test_single_report_from_a_large_workplace_needs_no_confirmation(
    db: Database, desks: DeskWorld
) -> None:
    set_band(db, desks.factory_a.id, "1000-4999")
    contracts(db, desks, ("City of Aston", dt.date(2020, 1, 1), None))
    case_id = ready_case(db, desks, reports=1)
    assert alert(db, desks, case_id) == ["City of Aston"]


def test_two_reports_from_a_small_workplace_need_no_confirmation(
    db: Database, desks: DeskWorld
) -> None:
    set_band(db, desks.factory_a.id, "1-99")
    contracts(db, desks, ("City of Aston", dt.date(2020, 1, 1), None))
    case_id = ready_case(db, desks, reports=2)
    assert alert(db, desks, case_id) == ["City of Aston"]


# --- batch time and the k gate --------------------------------------------------------------


@pytest.mark.parametrize(("now", "expected"), [
    (dt.datetime(2026, 3, 10, 5, 59, tzinfo=dt.UTC), dt.datetime(2026, 3, 11, 6, tzinfo=dt.UTC)),
    (dt.datetime(2026, 3, 10, 6, 0, tzinfo=dt.UTC), dt.datetime(2026, 3, 11, 6, tzinfo=dt.UTC)),
    (dt.datetime(2026, 3, 10, 23, 59, tzinfo=dt.UTC), dt.datetime(2026, 3, 11, 6, tzinfo=dt.UTC)),
    (dt.datetime(2026, 12, 31, 12, 0, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, 6, tzinfo=dt.UTC)),
])
def test_batch_time_is_the_desks_hour_on_the_next_day(
    now: dt.datetime, expected: dt.datetime
) -> None:
    assert service.next_batch(now, 6) == expected


def test_alert_waits_for_the_desks_batch_hour(db: Database, desks: DeskWorld) -> None:
    with db.transaction() as session:
        session.merge(desks.a.desk).alert_batch_hour = 17
    contracts(db, desks, ("City of Aston", dt.date(2020, 1, 1), None))
    case_id = ready_case(db, desks)
    alert(db, desks, case_id)
    assert [a.deliver_after for a in alerts_of(db, case_id)] == [
        dt.datetime(2026, 3, 11, 17, tzinfo=dt.UTC)]


@pytest.mark.parametrize(("count", "k", "shown"), [
    (0, 3, "fewer than 3"), (1, 3, "fewer than 3"), (2, 3, "fewer than 3"), (3, 3, "3"),
    (12, 3, "12"), (4, 5, "fewer than 5"),
])
def test_counts_below_k_are_shown_as_fewer_than_k(count: int, k: int, shown: str) -> None:
    assert shown_count(count, k) == shown
