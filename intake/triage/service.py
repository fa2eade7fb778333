"""The desk's queue (filters, counts, keyset pages), opening a report (decrypt + audit), and
the triage decisions a monitor records on the desk's own copy of a report."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from crypto.envelope import open_sealed
from crypto.errors import CryptoError
from crypto.keys import PrivateKey
from intake.accounts.models import Account, Membership, MembershipStatus
from intake.audit.service import record
from intake.cases.models import CaseReport
from intake.db import today
from intake.errors import IntakeError
from intake.messaging.outbound import delivery_notes
from intake.reports.models import (
    QUEUE_RANK,
    Author,
    Channel,
    Report,
    ReportDesk,
    ReportMessage,
    Severity,
    TriageStatus,
)
from intake.reports.service import body_context, keep_reports, lock_thread, message_context
from intake.supplychain.models import Facility
from intake.triage.taxonomy import DESK_CATEGORIES, NO_ACTION_REASONS, parse_tags

PAGE_SIZE = 50
UNREADABLE = "(this could not be opened with this desk's key)"
AnySelect = Select[*tuple[Any, ...]]
AGES = {"1d": 1, "7d": 7, "30d": 30}  # received within N days; "older" = more than 30


class ReportNotFound(IntakeError):
    """No such report in this desk (or not this desk's): the same answer either way."""


class TriageRejected(IntakeError):
    """The triage change is not valid; the message says why."""


@dataclass(frozen=True)
class QueueFilter:
    status: TriageStatus | None = None
    facility_id: int | None = None
    country: str | None = None
    language: str | None = None
    channel: Channel | None = None
    category: str | None = None
    age: str | None = None

    def without(self, name: str) -> QueueFilter:
        values = {k: getattr(self, k) for k in self.__dataclass_fields__}
        values[name] = None
        return QueueFilter(**values)


@dataclass(frozen=True)
class Cursor:
    rank: int
    received_on: dt.date
    report_id: uuid.UUID

    def encode(self) -> str:
        return f"{self.rank}.{self.received_on.isoformat()}.{self.report_id.hex}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        """The cursor ``encode`` wrote, or None: also for a rank no queue has, which
        PostgreSQL would refuse to compare with its small-integer column."""
        try:
            rank, day, rid = text.split(".")
            cursor = cls(int(rank), dt.date.fromisoformat(day), uuid.UUID(hex=rid))
        except ValueError:
            return None
        return cursor if cursor.rank in QUEUE_RANK.values() else None


@dataclass(frozen=True)
class QueueRow:
    report_id: uuid.UUID
    received_on: dt.date
    status: TriageStatus
    channel: Channel
    language: str
    facility_name: str | None
    country: str | None
    category: str | None
    severity: Severity | None
    tags: list[str]
    assignee_id: int | None
    worker_wrote: bool = False  # words from the worker this desk has not opened yet


def _filtered(desk_id: int, flt: QueueFilter, columns: AnySelect, *, today_: dt.date,
              with_facility: bool = False) -> AnySelect:
    query = columns.select_from(ReportDesk).where(ReportDesk.desk_id == desk_id)
    if with_facility or flt.country is not None:
        query = query.outerjoin(Facility, Facility.id == ReportDesk.facility_id)
    if flt.status is not None:
        query = query.where(ReportDesk.queue_rank == QUEUE_RANK[flt.status])
    if flt.facility_id is not None:
        query = query.where(ReportDesk.facility_id == flt.facility_id)
    if flt.country is not None:
        query = query.where(Facility.country == flt.country)
    if flt.language is not None:
        query = query.where(ReportDesk.language == flt.language)
    if flt.channel is not None:
        query = query.where(ReportDesk.channel == flt.channel)
    if flt.category is not None:
        query = query.where(ReportDesk.category == flt.category)
    if flt.age in AGES:
        query = query.where(ReportDesk.received_on >= today_ - dt.timedelta(days=AGES[flt.age]))
    elif flt.age == "older":
        query = query.where(ReportDesk.received_on < today_ - dt.timedelta(days=30))
    return query


def queue_page(
    session: Session, desk_id: int, flt: QueueFilter, *, after: Cursor | None = None,
    limit: int = PAGE_SIZE, today_: dt.date | None = None,
) -> tuple[list[QueueRow], Cursor | None]:
    """One page of the desk's queue: new first, then newest first; and the next cursor."""
    columns: AnySelect = select(ReportDesk, Facility.name, Facility.country, _WORKER_WROTE)
    query = _filtered(desk_id, flt, columns, today_=today_ or today(), with_facility=True)
    if after is not None:
        query = query.where(or_(
            ReportDesk.queue_rank > after.rank,
            and_(ReportDesk.queue_rank == after.rank, or_(
                ReportDesk.received_on < after.received_on,
                and_(ReportDesk.received_on == after.received_on,
                     ReportDesk.report_id < after.report_id)))))
    query = query.order_by(ReportDesk.queue_rank, ReportDesk.received_on.desc(),
                           ReportDesk.report_id.desc()).limit(limit + 1)
    rows = [
        QueueRow(report_id=rd.report_id, received_on=rd.received_on, status=rd.status,
                 channel=rd.channel, language=rd.language, facility_name=name, country=country,
                 category=rd.category, severity=rd.severity,
                 tags=[t for t in rd.tags.split(",") if t], assignee_id=rd.assignee_id,
                 worker_wrote=bool(wrote))
        for rd, name, country, wrote in session.execute(query)
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more and rows else None
    cursor = (Cursor(QUEUE_RANK[last.status], last.received_on, last.report_id)
              if last is not None else None)
    return rows, cursor


# The worker wrote after this desk last opened the report (an answer to the desk's text, an
# addition on the follow-up page). A report never opened is new anyway: not marked.
_WORKER_WROTE = exists().where(
    ReportMessage.report_id == ReportDesk.report_id, ReportMessage.author == Author.WORKER,
    ReportMessage.seq > ReportDesk.seen_seq).label("worker_wrote")


def queue_counts(
    session: Session, desk_id: int, flt: QueueFilter, *, today_: dt.date | None = None
) -> dict[str, dict[str, int]]:
    """For each facet, how many reports each value would show given the other filters."""
    facets = {
        "status": (ReportDesk.status, "status"),
        "channel": (ReportDesk.channel, "channel"),
        "language": (ReportDesk.language, "language"),
        "category": (ReportDesk.category, "category"),
    }
    counts: dict[str, dict[str, int]] = {}
    for facet, (column, name) in facets.items():
        counted: AnySelect = select(column, func.count())
        query = _filtered(desk_id, flt.without(name), counted,
                          today_=today_ or today()).group_by(column)
        counts[facet] = {str(getattr(value, "value", value) or ""): n
                         for value, n in session.execute(query)}
    return counts


# --- one report --------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    author: Author
    sent_on: dt.date
    text: str = field(repr=False)
    author_name: str | None
    delivery: str | None = None  # a desk reply texted to the worker: what became of the text


@dataclass(frozen=True)
class OpenedReport:
    report: Report
    triage: ReportDesk
    facility: Facility | None
    details: str | None = field(repr=False)
    entries: list[Entry] = field(repr=False)
    case_ids: list[uuid.UUID]


def triage_row(session: Session, desk_id: int, report_id: uuid.UUID) -> ReportDesk:
    row = session.get(ReportDesk, (report_id, desk_id))
    if row is None:
        raise ReportNotFound("no such report in this desk")
    return row


def open_report(
    session: Session, *, desk_id: int, report_id: uuid.UUID, desk_key: PrivateKey,
    actor_id: int,
) -> OpenedReport:
    """Decrypt a report and its thread for a member of the desk; audited. A new report is
    in triage from the moment someone has read it. ``ReportGone`` if retention deleted it
    since its triage row was read (nothing is audited)."""
    triage = triage_row(session, desk_id, report_id)
    lock_thread(session, report_id)  # a desk reply, which follows, adds to the thread
    report = session.get_one(Report, report_id)
    names = dict(session.execute(select(Account.id, Account.display_name).where(
        Account.id.in_({m.author_account_id for m in report.messages
                        if m.author_account_id is not None}))).all())
    details, entries = read_words(report, report.messages, desk_key, names,
                                  delivery_notes(session, [report.id]))
    _mark_opened(session, triage, seen=max((m.seq for m in report.messages), default=0))
    record(session, "report.open", actor_id=actor_id, desk_id=desk_id,
           object_type="report", object_id=report.id)
    cases = list(session.scalars(select(CaseReport.case_id).where(
        CaseReport.report_id == report.id)))
    facility = session.get(Facility, report.facility_id) if report.facility_id else None
    return OpenedReport(report=report, triage=triage, facility=facility, details=details,
                        entries=entries, case_ids=cases)


def _mark_opened(session: Session, triage: ReportDesk, *, seen: int) -> None:
    """Date the first opening and move a new report to triage, each only if still so as
    stored now: a decision another monitor saved since we read the row (no action, a case)
    stands; and remember the thread's last place ``seen`` (read under the thread's lock).
    Done before the audit event, as a triage decision writes the row before its own: the
    row, then the audit chain, in every request (the other order deadlocks). ``triage`` is
    read again afterwards."""
    row = and_(ReportDesk.report_id == triage.report_id, ReportDesk.desk_id == triage.desk_id)
    first = triage.opened_on is None or triage.status is TriageStatus.NEW
    if triage.seen_seq == seen and not first:
        return
    session.execute(update(ReportDesk).where(row).values(seen_seq=seen)
                    .execution_options(synchronize_session=False))
    if first:
        session.execute(update(ReportDesk).where(row, ReportDesk.opened_on.is_(None))
                        .values(opened_on=today()).execution_options(synchronize_session=False))
        session.execute(update(ReportDesk).where(row, ReportDesk.status == TriageStatus.NEW)
                        .values(status=TriageStatus.IN_TRIAGE,
                                queue_rank=QUEUE_RANK[TriageStatus.IN_TRIAGE])
                        .execution_options(synchronize_session=False))
    session.refresh(triage)


def open_text(blob: bytes, desk_key: PrivateKey, context: bytes) -> str:
    """Sealed text opened with the desk key, or a marker if it was sealed to another key."""
    try:
        return open_sealed(blob, desk_key, context=context).decode()
    except CryptoError:
        return UNREADABLE


def read_words(
    report: Report, messages: Sequence[ReportMessage], desk_key: PrivateKey,
    names: Mapping[int, str], deliveries: Mapping[uuid.UUID, str],
) -> tuple[str | None, list[Entry]]:
    """A report's words and thread opened with the desk key, with what became of each reply
    texted to the worker (``deliveries``, by message id). What does not open (sealed to
    another key) is marked, never an error page."""
    details = None
    if report.body_sealed is not None:
        body = open_text(report.body_sealed, desk_key, body_context(report.id))
        details = body if body == UNREADABLE else str(json.loads(body)["details"])
    entries = [
        Entry(m.author, m.sent_on,
              open_text(m.body_sealed, desk_key, message_context(report.id, m.id)),
              names.get(m.author_account_id or -1), deliveries.get(m.id))
        for m in messages
    ]
    return details, entries


def _set_status(triage: ReportDesk, status: TriageStatus) -> None:
    triage.status = status
    triage.queue_rank = QUEUE_RANK[status]


@dataclass(frozen=True)
class TriageChange:
    category: str | None = None
    severity: Severity | None = None
    tags: str | None = None
    assignee_id: int | None = None
    unassign: bool = False
    status: TriageStatus | None = None
    no_action_reason: str | None = None
    duplicate_of: uuid.UUID | None = None


def apply_change(
    session: Session, *, desk_id: int, report_id: uuid.UUID, change: TriageChange,
    actor_id: int,
) -> ReportDesk:
    """Validate and record one triage decision; each changed field is an audit event.

    The report, and the one it duplicates if the decision names one, are kept until commit
    before anything is written (``keep_reports``): ``ReportGone`` if retention deleted
    either since the request found it, and nothing is saved."""
    triage = triage_row(session, desk_id, report_id)
    named = [report_id]
    if change.duplicate_of is not None:
        if change.duplicate_of == report_id:
            raise TriageRejected("a report cannot be a duplicate of itself")
        triage_row(session, desk_id, change.duplicate_of)  # must be this desk's too
        named.append(change.duplicate_of)
    keep_reports(session, named)
    events: list[tuple[str, str]] = []
    if change.category is not None and change.category != triage.category:
        if change.category not in DESK_CATEGORIES:
            raise TriageRejected("unknown category")
        triage.category = change.category
        events.append(("report.category", change.category))
    if change.severity is not None and change.severity != triage.severity:
        triage.severity = change.severity
        events.append(("report.severity", change.severity.value))
    if change.tags is not None:
        tags = ",".join(parse_tags(change.tags))
        if tags != triage.tags:
            triage.tags = tags
            events.append(("report.tags", f"count={len(tags.split(',')) if tags else 0}"))
    if change.unassign and triage.assignee_id is not None:
        triage.assignee_id = None
        events.append(("report.assign", "none"))
    elif change.assignee_id is not None and change.assignee_id != triage.assignee_id:
        _check_member(session, desk_id, change.assignee_id)
        triage.assignee_id = change.assignee_id
        events.append(("report.assign", f"account={change.assignee_id}"))
    if change.duplicate_of is not None:
        triage.duplicate_of_id = change.duplicate_of
        events.append(("report.duplicate", f"of={change.duplicate_of}"))
    if change.status is not None and change.status != triage.status:
        _check_status(triage, change)
        _set_status(triage, change.status)
        triage.no_action_reason = (change.no_action_reason
                                   if change.status is TriageStatus.NO_ACTION else None)
        events.append(("report.status", f"status={change.status.value}"
                       + (f" reason={change.no_action_reason}" if change.no_action_reason
                          else "")))
    for action, detail in events:
        record(session, action, actor_id=actor_id, desk_id=desk_id, object_type="report",
               object_id=report_id, detail=detail)
    session.flush()
    return triage


def _check_status(triage: ReportDesk, change: TriageChange) -> None:
    if change.status is TriageStatus.IN_CASE:
        raise TriageRejected("a report is linked to a case from the case page")
    if change.status is TriageStatus.NO_ACTION and change.no_action_reason not in NO_ACTION_REASONS:
        raise TriageRejected("choose why no action is needed")


def _check_member(session: Session, desk_id: int, account_id: int) -> None:
    member = session.scalar(select(Membership.id).where(
        Membership.desk_id == desk_id, Membership.account_id == account_id,
        Membership.status == MembershipStatus.ACTIVE))
    if member is None:
        raise TriageRejected("reports can only be assigned to members of this desk")
