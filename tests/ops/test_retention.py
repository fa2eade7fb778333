"""Retention: sealed numbers go after case closure or inactivity, reports after their desks'
retention period, the dashboards count the same afterwards, every deletion is audited with
ids only, and a second run deletes nothing more. The clock is an argument (``today``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from intake import schedule
from intake.accounts.models import Desk
from intake.audit.models import AuditEvent
from intake.audit.service import verify
from intake.cases.models import Case, CaseReport, CaseStatus
from intake.dashboards.service import desk_dashboard
from intake.db import Database, today
from intake.errors import ConfigError
from intake.messaging.models import Conversation, OutboundMessage, OutboundStatus
from intake.remedy.models import Verdict, WorkerVerdict
from intake.reports.models import Author, Channel, Report, ReportDesk, ReportMessage, Severity
from intake.reports.service import attach_contact
from intake.retention.models import ReportTally
from intake.retention.service import RetentionRejected, run, run_job, set_desk_retention
from intake.settings import Settings
from tests import factories
from tests.commands import run_intake
from tests.conftest import wipe

TODAY = dt.date(2030, 6, 15)
NUMBER = "+60123456789"


def days_ago(n: int, *, since: dt.date = TODAY) -> dt.date:
    return since - dt.timedelta(days=n)


def add_report(session: Session, desks: list[Desk], *, received_on: dt.date,
               number: str | None = None, facility_id: int | None = None,
               category: str | None = "wages", opened_after: int | None = None) -> uuid.UUID:
    """A report of the given desks, as triage leaves it; with a sealed number if given."""
    report = Report(id=uuid.uuid4(), channel=Channel.SMS, language="en",
                    facility_id=facility_id, categories=category or "", received_on=received_on)
    session.add(report)
    session.flush()
    for desk in desks:
        session.add(ReportDesk(
            report_id=report.id, desk_id=desk.id, received_on=received_on,
            facility_id=facility_id, channel=Channel.SMS, language="en", category=category,
            opened_on=(received_on + dt.timedelta(days=opened_after)
                       if opened_after is not None else None)))
    if number:
        attach_contact(session, report, number)
    session.flush()
    return report.id


def add_message(session: Session, report_id: uuid.UUID, *, sent_on: dt.date) -> uuid.UUID:
    seq = (session.scalar(select(func.max(ReportMessage.seq))
                          .where(ReportMessage.report_id == report_id)) or 0) + 1
    message = ReportMessage(id=uuid.uuid4(), report_id=report_id, seq=seq, author=Author.DESK,
                            sent_on=sent_on, body_sealed=b"\x01sealed")
    session.add(message)
    session.flush()
    return message.id


def add_case(session: Session, desk: Desk, report_id: uuid.UUID, *,
             closed_on: dt.date | None) -> uuid.UUID:
    facility = factories.facility(session)
    case = Case(id=uuid.uuid4(), desk_id=desk.id, facility_id=facility.id, category="wages",
                severity=Severity.SERIOUS, title_sealed=b"\x00",
                status=CaseStatus.CLOSED_REMEDIED if closed_on else CaseStatus.OPEN,
                opened_on=days_ago(3000), closed_on=closed_on)
    session.add(case)
    session.flush()
    session.add(CaseReport(case_id=case.id, report_id=report_id))
    session.flush()
    return case.id


@pytest.fixture
def desk(db: Database) -> Desk:
    with db.transaction() as session:
        made = factories.desk(session, fallback=True).desk
        session.expunge(made)
    return made


def sealed_number(db: Database, report_id: uuid.UUID) -> bytes | None:
    with db.transaction() as session:
        return session.get_one(Report, report_id).contact_sealed


def exists(db: Database, report_id: uuid.UUID) -> bool:
    with db.transaction() as session:
        return session.get(Report, report_id) is not None


def events(db: Database, action: str) -> list[AuditEvent]:
    with db.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))


# --- sealed numbers ---------------------------------------------------------------------------


def test_number_is_kept_while_its_report_is_active(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        report = add_report(session, [desk], received_on=days_ago(179), number=NUMBER)
    run(db, today=TODAY, contact_days=180)
    assert sealed_number(db, report) is not None


def test_number_is_deleted_after_the_days_without_a_message(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        report = add_report(session, [desk], received_on=days_ago(180), number=NUMBER)
    result = run(db, today=TODAY, contact_days=180)
    assert sealed_number(db, report) is None
    assert result.numbers_deleted == 1


def test_a_recent_message_keeps_the_number(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        report = add_report(session, [desk], received_on=days_ago(400), number=NUMBER)
        add_message(session, report, sent_on=days_ago(30))
    run(db, today=TODAY, contact_days=180)
    assert sealed_number(db, report) is not None


def test_number_is_deleted_the_day_after_its_case_closed(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        closed_today = add_report(session, [desk], received_on=days_ago(5), number=NUMBER)
        add_case(session, desk, closed_today, closed_on=TODAY)
        closed_yesterday = add_report(session, [desk], received_on=days_ago(5), number=NUMBER)
        add_case(session, desk, closed_yesterday, closed_on=days_ago(1))
    run(db, today=TODAY, contact_days=180)
    assert sealed_number(db, closed_today) is not None
    assert sealed_number(db, closed_yesterday) is None


def test_number_stays_while_another_case_of_the_report_is_open(db: Database,
                                                               desk: Desk) -> None:
    with db.transaction() as session:
        report = add_report(session, [desk], received_on=days_ago(5), number=NUMBER)
        add_case(session, desk, report, closed_on=days_ago(2))
        add_case(session, desk, report, closed_on=None)
    run(db, today=TODAY, contact_days=180)
    assert sealed_number(db, report) is not None


def test_texts_still_owed_are_cancelled_with_the_number(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        report = add_report(session, [desk], received_on=days_ago(200), number=NUMBER)
        outbound = OutboundMessage(id=uuid.uuid4(), report_id=report, kind="reply")
        session.add(outbound)
    run(db, today=TODAY, contact_days=180)
    with db.transaction() as session:
        row = session.get_one(OutboundMessage, outbound.id)
        assert row.status is OutboundStatus.FAILED
        assert session.get_one(Report, report).contact_consent is False


def test_number_deletion_is_audited_with_ids_only(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        report = add_report(session, [desk], received_on=days_ago(200), number=NUMBER)
    run(db, today=TODAY, contact_days=180)
    [event] = events(db, "retention.number_deleted")
    assert (event.desk_id, event.object_type, event.object_id) == (desk.id, "report",
                                                                   str(report))
    assert event.actor_id is None and event.detail is None


# --- reports ----------------------------------------------------------------------------------


def test_report_outside_any_case_goes_after_the_desk_period(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        old = add_report(session, [desk], received_on=days_ago(730))
        young = add_report(session, [desk], received_on=days_ago(729))
    result = run(db, today=TODAY)
    assert not exists(db, old) and exists(db, young)
    assert result.reports_deleted == 1


def test_report_thread_and_everything_pointing_at_it_goes(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        report = add_report(session, [desk], received_on=days_ago(2000), number=NUMBER)
        message = add_message(session, report, sent_on=days_ago(1900))
        session.add(OutboundMessage(id=uuid.uuid4(), report_id=report, message_id=message,
                                    kind="reply"))
        session.add(Conversation(sender_tag="t" * 64, inbound_number="+60326000100",
                                 language="en", step="verdict", report_id=report))
        case = add_case(session, desk, report, closed_on=days_ago(1000))
        session.add(WorkerVerdict(case_id=case, report_id=report, verdict=Verdict.YES,
                                  comment_sealed=b"\x01sealed", channel="sms"))
    run(db, today=TODAY)
    with db.transaction() as session:
        for model, column in ((ReportMessage, ReportMessage.report_id),
                              (ReportDesk, ReportDesk.report_id),
                              (OutboundMessage, OutboundMessage.report_id),
                              (CaseReport, CaseReport.report_id)):
            assert session.scalar(select(func.count()).select_from(model)
                                  .where(column == report)) == 0, model
        assert session.get_one(Conversation, "t" * 64).report_id is None
        assert session.get(Case, case) is not None  # the case and its summary stay
        verdict = session.scalars(select(WorkerVerdict)).one()
        assert (verdict.verdict, verdict.report_id, verdict.comment_sealed) == (
            Verdict.YES, None, None)


def test_report_in_an_open_case_is_kept_however_old(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        report = add_report(session, [desk], received_on=days_ago(5000))
        add_case(session, desk, report, closed_on=None)
    run(db, today=TODAY)
    assert exists(db, report)


def test_report_in_a_closed_case_counts_from_the_closure(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        closed_lately = add_report(session, [desk], received_on=days_ago(2000))
        add_case(session, desk, closed_lately, closed_on=days_ago(729))
        closed_long_ago = add_report(session, [desk], received_on=days_ago(2000))
        add_case(session, desk, closed_long_ago, closed_on=days_ago(730))
    run(db, today=TODAY)
    assert exists(db, closed_lately) and not exists(db, closed_long_ago)


def test_a_later_message_postpones_the_deletion(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        report = add_report(session, [desk], received_on=days_ago(2000))
        add_message(session, report, sent_on=days_ago(100))
    run(db, today=TODAY)
    assert exists(db, report)


def test_the_longest_period_of_the_report_desks_applies(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        short = factories.desk(session).desk
        short.retention_days = 90
        shared = add_report(session, [session.get_one(Desk, desk.id), short],
                            received_on=days_ago(200))
        alone = add_report(session, [short], received_on=days_ago(200))
    run(db, today=TODAY)
    assert exists(db, shared) and not exists(db, alone)


def test_report_deletion_is_audited_for_each_desk_with_ids_only(db: Database,
                                                                 desk: Desk) -> None:
    with db.transaction() as session:
        other = factories.desk(session).desk
        report = add_report(session, [session.get_one(Desk, desk.id), other],
                            received_on=days_ago(1000))
        other_id = other.id
    run(db, today=TODAY)
    found = events(db, "retention.report_deleted")
    assert sorted((e.desk_id or 0, e.object_id) for e in found) == sorted(
        [(desk.id, str(report)), (other_id, str(report))])
    assert all(e.detail is None and e.actor_id is None for e in found)
    with db.transaction() as session:
        assert verify(session)[1] is None


def test_second_run_deletes_nothing_more(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        add_report(session, [desk], received_on=days_ago(1000), number=NUMBER)
        add_report(session, [desk], received_on=days_ago(300), number=NUMBER)
    first = run(db, today=TODAY)
    with db.transaction() as session:
        audited = session.scalar(select(func.count()).select_from(AuditEvent))
    second = run(db, today=TODAY)
    assert (first.numbers_deleted, first.reports_deleted) == (2, 1)
    assert (second.numbers_deleted, second.reports_deleted) == (0, 0)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == audited


def test_many_due_reports_are_deleted_in_small_batches(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        for _ in range(7):
            add_report(session, [desk], received_on=days_ago(1000), number=NUMBER)
    result = run(db, today=TODAY, batch=3)
    assert (result.numbers_deleted, result.reports_deleted) == (7, 7)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0


# --- dashboards -------------------------------------------------------------------------------


def test_dashboard_counts_are_unchanged_after_retention_deleted_the_reports(
        db: Database, desk: Desk) -> None:
    now = today()
    this_month = now.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    with db.transaction() as session:
        kept_desk = session.get_one(Desk, desk.id)
        penang = factories.facility(session, name="Penang Works").id
        johor = factories.facility(session, name="Johor Works").id
        for delay in (1, 2, 2, 5, None):
            add_report(session, [kept_desk], received_on=last_month, facility_id=penang,
                       opened_after=delay)
        for _ in range(4):
            add_report(session, [kept_desk], received_on=this_month, facility_id=johor,
                       category="safety", opened_after=3)
        before = desk_dashboard(session, desk_id=desk.id, k=3, today=now)
        kept_desk.retention_days = 30
    result = run(db, today=now + dt.timedelta(days=70))
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Report)) == 0
        assert session.scalar(select(func.sum(ReportTally.count))) == 9
        after = desk_dashboard(session, desk_id=desk.id, k=3, today=now)
    assert result.reports_deleted == 9
    assert after == before


def test_tallies_keep_the_month_never_the_day(db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        add_report(session, [desk], received_on=dt.date(2027, 3, 17), opened_after=4)
    run(db, today=TODAY)
    with db.transaction() as session:
        tally = session.scalars(select(ReportTally)).one()
    assert (tally.month, tally.triage_days, tally.count) == (dt.date(2027, 3, 1), 4, 1)


# --- settings and schedule --------------------------------------------------------------------


def test_desk_period_is_validated_and_the_change_audited(db: Database, desk: Desk) -> None:
    with db.transaction() as session, pytest.raises(RetentionRejected):
        set_desk_retention(session, desk_name=desk.name, days=7)
    with db.transaction() as session:
        set_desk_retention(session, desk_name=desk.name, days=365)
    with db.transaction() as session:
        assert session.get_one(Desk, desk.id).retention_days == 365
    [event] = events(db, "retention.desk_set")
    assert (event.desk_id, event.detail) == (desk.id, "days=365")


def test_retention_runs_daily_in_the_periodic_schedule() -> None:
    assert (schedule.RETENTION, 24 * 3600.0) in schedule.PERIODIC
    assert schedule.RETENTION == "intake.retention.service.run_job"


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, database_url: str, migrated_engine: Engine) -> Iterator[dict[str, str]]:
    yield {"INTAKE_INSTANCE": str(tmp_path / "cli-instance"), "INTAKE_DATABASE_URL": database_url}
    wipe(migrated_engine)


def test_command_sets_shows_and_runs(cli_env: dict[str, str], db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        report = add_report(session, [desk], received_on=days_ago(400, since=today()))
    refused = run_intake(["retention", "set", "--desk", desk.name, "--days", "5"], cli_env)
    assert refused.returncode == 1 and "between 30 and" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert run_intake(["retention", "set", "--desk", desk.name, "--days", "365"],
               cli_env).returncode == 0
    shown = run_intake(["retention", "show"], cli_env)
    assert f"{desk.name}: 365 days" in shown.stdout
    ran = run_intake(["retention", "run"], cli_env)
    assert ran.returncode == 0, ran.stderr
    assert "reports deleted: 1" in ran.stdout
    assert not exists(db, report)


def test_the_scheduled_job_uses_todays_date_and_the_configured_days(
        app: Flask, db: Database, desk: Desk) -> None:
    with db.transaction() as session:
        due = add_report(session, [desk], received_on=days_ago(181, since=today()),
                         number=NUMBER)
        kept = add_report(session, [desk], received_on=days_ago(179, since=today()),
                          number=NUMBER)
    with app.app_context():
        run_job()
    assert sealed_number(db, due) is None and sealed_number(db, kept) is not None


def test_contact_retention_days_come_from_the_environment_and_are_checked(
        tmp_path: Path) -> None:
    environ = {"INTAKE_INSTANCE": str(tmp_path / "instance")}
    assert Settings.from_env(environ).contact_retention_days == 180
    environ["INTAKE_CONTACT_RETENTION_DAYS"] = "90"
    assert Settings.from_env(environ).contact_retention_days == 90
    environ["INTAKE_CONTACT_RETENTION_DAYS"] = "0"
    with pytest.raises(ConfigError, match="INTAKE_CONTACT_RETENTION_DAYS"):
        Settings.from_env(environ)


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31"])
def test_command_refuses_a_today_before_2000(cli_env: dict[str, str], day: str) -> None:
    result = run_intake(["retention", "run", "--today", day], cli_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Invalid value for '--today'" in result.stderr


def test_command_refuses_a_desk_name_that_is_not_utf8(cli_env: dict[str, str]) -> None:
    result = run_intake(["retention", "set", "--desk", "Desk\udcff", "--days", "365"], cli_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "Invalid value for '--desk'" in result.stderr
