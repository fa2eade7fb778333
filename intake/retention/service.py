"""What retention deletes, and when (DESIGN 4.4; the same rules for operators are in
ops/retention.md and ``intake retention --help``).

1. A sealed phone number (``reports.contact_sealed``) goes the day after every case its
   report is in has closed, or once its report has had no message for
   ``contact_days`` (``INTAKE_CONTACT_RETENTION_DAYS``, 180 by default).
2. A report and everything hanging from it (its desks' triage rows, its thread, texts owed
   for it, its links to cases) goes ``retention_days`` after its last activity: the day it
   arrived, its last message, or the closure of its case, whichever is latest. A report in
   a case that is still open is kept. A report sealed to several desks is kept as long as
   the longest retention of those desks asks. Cases, their approved summaries and the
   workers' verdicts stay (a verdict loses its report link and its sealed comment).
3. Before a report goes, its desks' triage rows are added to ``report_tallies`` so the
   dashboards count the same afterwards.

Each deletion is an audit event naming ids only. Work is done in batches, one transaction
each, so a million eligible rows never sit in memory and a crash loses at most one batch's
progress (the next run picks up where it stopped: every rule is a query on what remains).
A report a request holds at that moment is skipped, never waited for; the next run takes it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from intake.accounts.models import Desk
from intake.audit.service import record
from intake.cases.models import Case, CaseReport
from intake.db import Database
from intake.errors import IntakeError
from intake.ext import database_of, settings_of
from intake.jobs import coalesced_started
from intake.messaging.models import OWED, Conversation, OutboundMessage, OutboundStatus
from intake.remedy.models import WorkerVerdict
from intake.reports.models import Channel, Report, ReportDesk, ReportMessage
from intake.retention.models import ReportTally

DEFAULT_RETENTION_DAYS = 730  # reports sealed to no desk (should not exist) use this
DEFAULT_CONTACT_DAYS = 180
MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 36500
BATCH = 200


class RetentionRejected(IntakeError):
    """A retention setting that cannot be used (unknown desk, days out of range)."""


@dataclass(frozen=True)
class RetentionResult:
    numbers_deleted: int
    reports_deleted: int


def run(db: Database, *, today: dt.date, contact_days: int = DEFAULT_CONTACT_DAYS,
        batch: int = BATCH) -> RetentionResult:
    """Apply every rule until nothing is due; each batch commits on its own."""
    numbers = reports = 0
    while True:
        with db.transaction() as session:
            done = forget_numbers(session, today=today, contact_days=contact_days, batch=batch)
        numbers += done
        if done < batch:
            break
    passed_over: set[uuid.UUID] = set()  # reports in use: left for the next run
    while True:
        before = len(passed_over)
        with db.transaction() as session:
            done = delete_reports(session, today=today, batch=batch, passed_over=passed_over)
        reports += done
        if done + len(passed_over) - before < batch:  # the batch was not full: none left
            break
    return RetentionResult(numbers_deleted=numbers, reports_deleted=reports)


# --- sealed numbers ---------------------------------------------------------------------------


def _case_link(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(CaseReport.report_id == Report.id, CaseReport.case_id == Case.id,
                          *where)


def numbers_due(*, today: dt.date, contact_days: int) -> ColumnElement[bool]:
    """Reports whose sealed number is due for deletion (rule 1)."""
    cutoff = today - dt.timedelta(days=contact_days)
    all_cases_closed = and_(_case_link(Case.closed_on < today),
                            ~_case_link(or_(Case.closed_on.is_(None), Case.closed_on >= today)))
    inactive = and_(Report.received_on <= cutoff,
                    ~exists().where(ReportMessage.report_id == Report.id,
                                    ReportMessage.sent_on > cutoff))
    return and_(Report.contact_sealed.is_not(None), or_(all_cases_closed, inactive))


def forget_numbers(session: Session, *, today: dt.date, contact_days: int,
                   batch: int = BATCH) -> int:
    """Delete up to ``batch`` due numbers; texts still owed to them are cancelled.

    The reports are locked FOR NO KEY UPDATE (their ids stay), held until this batch's
    audit events: a row that points at one (a case link, a text, a message) can still be
    written meanwhile, also by a request past its own first audit event, which FOR UPDATE
    would make wait while this batch waits for the audit chain."""
    ids = list(session.scalars(
        select(Report.id).where(numbers_due(today=today, contact_days=contact_days))
        .order_by(Report.id).limit(batch).with_for_update(skip_locked=True, key_share=True)))
    if not ids:
        return 0
    session.execute(update(Report).where(Report.id.in_(ids))
                    .values(contact_sealed=None, contact_consent=False))
    session.execute(update(OutboundMessage).where(
        OutboundMessage.report_id.in_(ids), OutboundMessage.status.in_(OWED))
        .values(status=OutboundStatus.FAILED))
    for report_id, desk_id in _desks_of(session, ids):
        record(session, "retention.number_deleted", actor_id=None, desk_id=desk_id,
               object_type="report", object_id=report_id)
    return len(ids)


def _desks_of(session: Session, ids: Sequence[uuid.UUID]) -> list[tuple[uuid.UUID, int | None]]:
    """(report, desk) for every desk of the reports; (report, None) for a report with none."""
    pairs = list(session.execute(
        select(ReportDesk.report_id, ReportDesk.desk_id).where(ReportDesk.report_id.in_(ids))
        .order_by(ReportDesk.report_id, ReportDesk.desk_id)).all())
    with_desk = {report_id for report_id, _ in pairs}
    rows: list[tuple[uuid.UUID, int | None]] = list(pairs)
    rows.extend((report_id, None) for report_id in sorted(set(ids) - with_desk))
    return rows


# --- reports ----------------------------------------------------------------------------------


def _quiet_since(cutoff: dt.date) -> ColumnElement[bool]:
    """Nothing happened to the report after ``cutoff`` and no case of it is open."""
    return and_(
        Report.received_on <= cutoff,
        ~exists().where(ReportMessage.report_id == Report.id, ReportMessage.sent_on > cutoff),
        ~_case_link(or_(Case.closed_on.is_(None), Case.closed_on > cutoff)),
    )


def _desk_with(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(ReportDesk.report_id == Report.id, ReportDesk.desk_id == Desk.id,
                          condition)


def reports_due(session: Session, *, today: dt.date) -> ColumnElement[bool]:
    """Reports past the longest retention period of the desks they are sealed to (rule 2).

    One condition per retention period in use (there are a handful), because the cutoff
    date differs per desk and date arithmetic on a column differs between databases.
    """
    periods = sorted(set(session.scalars(select(Desk.retention_days))))
    rules = [and_(~exists().where(ReportDesk.report_id == Report.id),
                  _quiet_since(today - dt.timedelta(days=DEFAULT_RETENTION_DAYS)))]
    for days in periods:
        rules.append(and_(_desk_with(Desk.retention_days == days),
                          ~_desk_with(Desk.retention_days > days),
                          _quiet_since(today - dt.timedelta(days=days))))
    return or_(*rules)


def delete_reports(session: Session, *, today: dt.date, batch: int = BATCH,
                   passed_over: set[uuid.UUID] | None = None) -> int:
    """Delete up to ``batch`` due reports, after adding them to the tallies; the number
    deleted.

    The reports are locked FOR UPDATE, skipping those a request holds (one writing to the
    report or pointing at it): a request that finds its report gone answers so
    (``ReportGone``). A report whose SMS conversation a message holds is left for the next
    run (``_without_busy_conversations``), added to ``passed_over``; reports already in
    ``passed_over`` are not taken again, so the rest of the run goes on past them."""
    query = select(Report.id).where(reports_due(session, today=today))
    if passed_over:
        query = query.where(Report.id.not_in(sorted(passed_over)))
    selected = list(session.scalars(
        query.order_by(Report.id).limit(batch).with_for_update(skip_locked=True)))
    ids = _without_busy_conversations(session, selected)
    if passed_over is not None:
        passed_over.update(set(selected) - set(ids))
    if not ids:
        return 0
    desks = _desks_of(session, ids)
    _tally(session, ids)
    _delete_thread(session, ids)
    for report_id, desk_id in desks:
        record(session, "retention.report_deleted", actor_id=None, desk_id=desk_id,
               object_type="report", object_id=report_id)
    return len(ids)


def _without_busy_conversations(session: Session, ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """``ids`` less the reports whose SMS conversation another transaction holds; the
    conversations of the others are locked until commit (SKIP LOCKED: never waited for).

    A message holds its conversation, then waits for its report to add the words: waiting
    here for that conversation (to point it at no report) while holding the report would
    wait for a message that waits for us (a deadlock). The next run deletes the report."""
    if not ids:
        return ids
    pointing = {tag: report_id for tag, report_id in session.execute(
        select(Conversation.sender_tag, Conversation.report_id)
        .where(Conversation.report_id.in_(ids)))}
    if not pointing:
        return ids
    held = set(session.scalars(
        select(Conversation.sender_tag).where(Conversation.sender_tag.in_(pointing))
        .order_by(Conversation.sender_tag).with_for_update(skip_locked=True)))
    busy = {report_id for tag, report_id in pointing.items() if tag not in held}
    return [report_id for report_id in ids if report_id not in busy]


TallyKey = tuple[int, dt.date, int | None, str | None, Channel, int | None]


def _tally(session: Session, ids: Sequence[uuid.UUID]) -> None:
    """Add the reports' triage rows to the per-month tallies the dashboards read."""
    counts: Counter[TallyKey] = Counter()
    for row in session.execute(select(
            ReportDesk.desk_id, ReportDesk.received_on, ReportDesk.facility_id,
            ReportDesk.category, ReportDesk.channel, ReportDesk.opened_on)
            .where(ReportDesk.report_id.in_(ids))).all():
        desk_id, received_on, facility_id, category, channel, opened_on = row
        triage_days = (opened_on - received_on).days if opened_on is not None else None
        counts[(desk_id, received_on.replace(day=1), facility_id, category, channel,
                triage_days)] += 1
    for key, n in sorted(counts.items(), key=lambda item: repr(item[0])):
        _add_to_tally(session, key, n)


def _add_to_tally(session: Session, key: TallyKey, n: int) -> None:
    desk_id, month, facility_id, category, channel, triage_days = key
    row = session.scalar(select(ReportTally).where(
        ReportTally.desk_id == desk_id, ReportTally.month == month,
        ReportTally.facility_id.is_not_distinct_from(facility_id),
        ReportTally.category.is_not_distinct_from(category), ReportTally.channel == channel,
        ReportTally.triage_days.is_not_distinct_from(triage_days)).limit(1)
        .with_for_update())
    if row is None:
        session.add(ReportTally(desk_id=desk_id, month=month, facility_id=facility_id,
                                category=category, channel=channel, triage_days=triage_days,
                                count=n))
    else:
        row.count += n
    session.flush()


def _delete_thread(session: Session, ids: Sequence[uuid.UUID]) -> None:
    """Every row that points at the reports, then the reports (explicit, not left to
    cascades, so it is the same on SQLite and PostgreSQL and nothing is loaded)."""
    session.execute(update(WorkerVerdict).where(WorkerVerdict.report_id.in_(ids))
                    .values(report_id=None, comment_sealed=None))
    session.execute(update(ReportDesk).where(ReportDesk.duplicate_of_id.in_(ids))
                    .values(duplicate_of_id=None))
    session.execute(update(Conversation).where(Conversation.report_id.in_(ids))
                    .values(report_id=None, version=Conversation.version + 1))
    for table in (OutboundMessage, ReportMessage, CaseReport, ReportDesk):
        session.execute(delete(table).where(table.report_id.in_(ids)))
    session.execute(delete(Report).where(Report.id.in_(ids)))
    session.expunge_all()


# --- per-desk settings ------------------------------------------------------------------------


def set_desk_retention(session: Session, *, desk_name: str, days: int,
                       actor_id: int | None = None) -> Desk:
    """Set how long a desk's reports are kept after their last activity."""
    if not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        raise RetentionRejected(
            f"the retention period must be between {MIN_RETENTION_DAYS} and "
            f"{MAX_RETENTION_DAYS} days")
    desk = session.scalar(select(Desk).where(Desk.name == desk_name))
    if desk is None:
        raise RetentionRejected("no desk has that name (see `intake retention show`)")
    desk.retention_days = days
    record(session, "retention.desk_set", actor_id=actor_id, desk_id=desk.id,
           object_type="desk", object_id=desk.id, detail=f"days={days}")
    session.flush()
    return desk


def desk_periods(session: Session) -> list[tuple[str, int]]:
    return [(name, days) for name, days in session.execute(
        select(Desk.name, Desk.retention_days).order_by(Desk.name)).all()]


# --- the periodic job -------------------------------------------------------------------------

RUN_JOB = "intake.retention.service.run_job"


def run_job() -> None:
    """The scheduled run (daily by ``intake.schedule``; coalesced)."""
    coalesced_started(RUN_JOB)
    run(database_of(), today=dt.datetime.now(dt.UTC).date(),
        contact_days=settings_of().contact_retention_days)
