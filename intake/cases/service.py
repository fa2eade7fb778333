"""Cases of a desk: grouping reports of one workplace, sealed titles and notes, status, and the
de-identified summary (the only words about a case that may leave the desk, DESIGN 6).

Titles, notes and the summary draft are sealed to the desk's key; what is in the clear is what
the list filters on (status, category, severity, workplace, day opened) and the approved
summary. Every function runs in the caller's transaction: the view commits once, or rolls back.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from crypto.envelope import open_sealed, seal
from crypto.keys import PrivateKey, PublicKey
from intake.accounts.models import Account, Desk
from intake.audit.service import record
from intake.cases import deidentify
from intake.cases.deidentify import Kind, Proposal
from intake.cases.models import Case, CaseNote, CaseReport, CaseStatus
from intake.db import today
from intake.errors import IntakeError
from intake.messaging.outbound import delivery_notes
from intake.reports.models import (
    QUEUE_RANK,
    Channel,
    Report,
    ReportDesk,
    ReportMessage,
    Severity,
    TriageStatus,
)
from intake.supplychain.models import Facility
from intake.triage.service import Entry, open_text, read_words
from intake.triage.taxonomy import DESK_CATEGORIES

MAX_TITLE_CHARS = 200
MAX_NOTE_CHARS = 4000
MAX_SUMMARY_CHARS = 2000
MAX_REPORTS_AT_ONCE = 1000  # report ids in one create or link request
CLOSED = frozenset({CaseStatus.CLOSED_REMEDIED, CaseStatus.CLOSED_NOT_REMEDIED,
                    CaseStatus.CLOSED_OTHER})
# Every status after "open" tells buyers about the case, so it needs the approved summary.
# What desks and buyers read for each status.
STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.OPEN: "Open",
    CaseStatus.ALERTED: "Buyers alerted",
    CaseStatus.REMEDIATION: "Remediation under way",
    CaseStatus.CLOSED_REMEDIED: "Closed: remedied",
    CaseStatus.CLOSED_NOT_REMEDIED: "Closed: not remedied",
    CaseStatus.CLOSED_OTHER: "Closed: other",
}

# Statuses in which the case has reached buyers: only with a reviewed, approved summary.
# Closing a case that never left the desk needs none.
NEEDS_SUMMARY = frozenset({CaseStatus.ALERTED, CaseStatus.REMEDIATION})


class CaseNotFound(IntakeError):
    """No such case in this desk (or not this desk's), or no such report in the case."""


class CaseRejected(IntakeError):
    """The change is not valid; the message says why and is shown to the monitor."""


def title_context(case_id: uuid.UUID) -> bytes:
    return f"case/{case_id}/title".encode()


def note_context(case_id: uuid.UUID, note_id: uuid.UUID) -> bytes:
    return f"case/{case_id}/note/{note_id}".encode()


def summary_context(case_id: uuid.UUID) -> bytes:
    return f"case/{case_id}/summary".encode()


# --- what the pages show ------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    id: uuid.UUID
    title: str = field(repr=False)
    category: str
    severity: Severity
    status: CaseStatus
    facility_name: str
    report_count: int
    opened_on: dt.date


@dataclass(frozen=True)
class LinkedReport:
    report_id: uuid.UUID
    received_on: dt.date
    channel: Channel
    language: str
    status: TriageStatus
    details: str | None = field(repr=False)
    entries: list[Entry] = field(repr=False)


@dataclass(frozen=True)
class NoteView:
    id: uuid.UUID
    author_name: str | None
    created_at: dt.datetime
    text: str = field(repr=False)


@dataclass(frozen=True)
class Segment:
    """A piece of the draft: plain text, or a proposal with the monitor's decision so far."""

    text: str = field(repr=False)
    proposal: Proposal | None = None
    number: int = 0
    accepted: bool | None = None


@dataclass(frozen=True)
class SummaryDraft:
    """The sealed draft: its words, the proposals made when it was saved, the decisions."""

    draft_id: str
    text: str = field(repr=False)
    proposals: list[Proposal] = field(repr=False)
    decisions: dict[str, bool]

    @property
    def pending(self) -> list[Proposal]:
        return [p for p in self.proposals if p.id not in self.decisions]

    def segments(self) -> list[Segment]:
        pieces: list[Segment] = []
        position = 0
        for number, proposal in enumerate(self.proposals, start=1):
            if proposal.start > position:
                pieces.append(Segment(self.text[position:proposal.start]))
            pieces.append(Segment(proposal.text, proposal, number,
                                  self.decisions.get(proposal.id)))
            position = proposal.end
        if position < len(self.text):
            pieces.append(Segment(self.text[position:]))
        return pieces

    def to_json(self) -> bytes:
        return json.dumps({
            "draft_id": self.draft_id, "draft": self.text, "decisions": self.decisions,
            "proposals": [[p.start, p.end, p.kind.value] for p in self.proposals],
        }, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes, *, country: str | None) -> SummaryDraft:
        value = json.loads(data)
        text = str(value["draft"])
        if "proposals" in value:
            proposals = [Proposal(int(s), int(e), Kind(k), text[int(s):int(e)])
                         for s, e, k in value["proposals"]]
        else:  # stored without its proposals: propose again rather than approve it unread
            proposals = deidentify.propose(text, country=country)
        return cls(str(value.get("draft_id", "")), text, proposals,
                   {str(k): bool(v) for k, v in value.get("decisions", {}).items()})


@dataclass(frozen=True)
class CaseView:
    case: Case
    title: str = field(repr=False)
    facility: Facility
    reports: list[LinkedReport] = field(repr=False)
    notes: list[NoteView] = field(repr=False)
    summary: SummaryDraft | None = field(repr=False)


# --- helpers --------------------------------------------------------------------------------


def _case(session: Session, desk_id: int, case_id: uuid.UUID, *, lock: bool = False) -> Case:
    """``lock``: read it as stored now and lock it until commit, for a change made on what
    was read (a review of the draft and a new draft saved at the same moment run in turn)."""
    case = (session.get(Case, case_id, with_for_update=True, populate_existing=True) if lock
            else session.get(Case, case_id))
    if case is None or case.desk_id != desk_id:
        raise CaseNotFound("no such case in this desk")
    return case


def _seal(session: Session, desk_id: int, plaintext: bytes, context: bytes) -> bytes:
    desk = session.get_one(Desk, desk_id)
    return seal(plaintext, [PublicKey.from_bytes(desk.public_key)], context=context)


def _check_not_closed(case: Case) -> None:
    if case.status in CLOSED:
        raise CaseRejected("the case is closed")


def _unique(report_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    ids = list(dict.fromkeys(report_ids))
    if len(ids) > MAX_REPORTS_AT_ONCE:
        raise CaseRejected(f"link at most {MAX_REPORTS_AT_ONCE} reports at once")
    return ids


def _linkable(session: Session, *, desk_id: int, facility_id: int, report_ids: list[uuid.UUID],
              case_id: uuid.UUID | None = None) -> list[tuple[uuid.UUID, ReportDesk]]:
    """This desk's triage rows of the reports, checked: same workplace, in no other case."""
    # The reports' rows first, FOR KEY SHARE (their ids stay until commit: a link to them
    # can be written after the audit event), then their triage rows: the order retention
    # takes them in when it deletes a report. A report retention is deleting is then waited
    # for (and found gone), and one being linked is not deleted; in the other order the two
    # wait for each other.
    session.execute(select(Report.id).where(Report.id.in_(report_ids)).order_by(Report.id)
                    .with_for_update(read=True, key_share=True))
    rows = {report_id: (facility, triage) for report_id, facility, triage in session.execute(
        select(Report.id, Report.facility_id, ReportDesk)
        .join(ReportDesk, ReportDesk.report_id == Report.id)
        .where(ReportDesk.desk_id == desk_id, Report.id.in_(report_ids))
        # Locked until commit: two monitors linking one report to two cases at once are
        # serialised, and the second sees it is taken.
        .with_for_update(of=ReportDesk))}
    for report_id in report_ids:
        if report_id not in rows:
            raise CaseRejected(f"there is no report {report_id} in this desk")
        if rows[report_id][0] is None:
            raise CaseRejected(f"report {report_id} names no workplace, so it cannot join a "
                               "case")
        if rows[report_id][0] != facility_id:
            raise CaseRejected(f"report {report_id} is about another workplace: a case groups "
                               "reports of one workplace")
    in_case = (select(CaseReport.report_id).join(Case, Case.id == CaseReport.case_id)
               .where(Case.desk_id == desk_id, CaseReport.report_id.in_(report_ids)))
    if case_id is not None:
        in_case = in_case.where(Case.id != case_id)
    taken = session.scalar(in_case.limit(1))
    if taken is not None:
        raise CaseRejected(f"report {taken} is already in another case of this desk")
    return [(report_id, rows[report_id][1]) for report_id in report_ids]


def _link(session: Session, case: Case, rows: list[tuple[uuid.UUID, ReportDesk]],
          *, actor_id: int) -> None:
    for report_id, triage in rows:
        session.add(CaseReport(case_id=case.id, report_id=report_id))
        triage.status = TriageStatus.IN_CASE
        triage.queue_rank = QUEUE_RANK[TriageStatus.IN_CASE]
        triage.no_action_reason = None
        record(session, "report.case_link", actor_id=actor_id, desk_id=case.desk_id,
               object_type="report", object_id=report_id, detail=f"case={case.id}")
    session.flush()


# --- creating and linking -------------------------------------------------------------------


def create_case(
    session: Session, *, desk_id: int, title: str, category: str, severity: Severity,
    facility_id: int | None, report_ids: Sequence[uuid.UUID], actor_id: int,
) -> Case:
    """A new open case of reports of one workplace ("same facility, same issue"); each report
    leaves the desk's triage queue as "in case"."""
    title = " ".join(title.split())
    if not title:
        raise CaseRejected("give the case a title")
    if len(title) > MAX_TITLE_CHARS:
        raise CaseRejected(f"a title can have at most {MAX_TITLE_CHARS} characters")
    if category not in DESK_CATEGORIES:
        raise CaseRejected("choose a category from the list")
    facility = session.get(Facility, facility_id) if facility_id is not None else None
    if facility is None:
        raise CaseRejected("choose the workplace")
    ids = _unique(report_ids)
    if not ids:
        raise CaseRejected("a case needs at least one report")
    rows = _linkable(session, desk_id=desk_id, facility_id=facility.id, report_ids=ids)
    case = Case(id=uuid.uuid4(), desk_id=desk_id, facility_id=facility.id, category=category,
                severity=severity, status=CaseStatus.OPEN, opened_on=today(), title_sealed=b"")
    case.title_sealed = _seal(session, desk_id, title.encode(), title_context(case.id))
    session.add(case)
    session.flush()
    record(session, "case.create", actor_id=actor_id, desk_id=desk_id, object_type="case",
           object_id=case.id, detail=f"reports={len(rows)} category={category} "
                                     f"severity={severity.value}")
    _link(session, case, rows, actor_id=actor_id)
    return case


def link_reports(
    session: Session, *, desk_id: int, case_id: uuid.UUID, report_ids: Sequence[uuid.UUID],
    actor_id: int,
) -> int:
    """Add reports of the case's workplace to an open case; returns how many were new."""
    case = _case(session, desk_id, case_id)
    _check_not_closed(case)
    linked = set(session.scalars(select(CaseReport.report_id).where(
        CaseReport.case_id == case.id)))
    ids = [i for i in _unique(report_ids) if i not in linked]
    if not ids:
        if report_ids:
            return 0
        raise CaseRejected("give the ids of the reports to add")
    rows = _linkable(session, desk_id=desk_id, facility_id=case.facility_id, report_ids=ids,
                     case_id=case.id)
    _link(session, case, rows, actor_id=actor_id)
    return len(rows)


def unlink_report(
    session: Session, *, desk_id: int, case_id: uuid.UUID, report_id: uuid.UUID, actor_id: int,
) -> None:
    """Take a report out of an open case: it goes back to the desk's triage queue."""
    case = _case(session, desk_id, case_id)
    link = session.get(CaseReport, (case.id, report_id))
    if link is None:
        raise CaseNotFound("no such report in this case")
    _check_not_closed(case)
    count = session.scalar(select(func.count()).select_from(CaseReport).where(
        CaseReport.case_id == case.id))
    if count == 1:
        raise CaseRejected("a case keeps at least one report: close the case instead")
    session.delete(link)
    triage = session.get(ReportDesk, (report_id, desk_id))
    if triage is not None and triage.status is TriageStatus.IN_CASE:
        triage.status = TriageStatus.IN_TRIAGE
        triage.queue_rank = QUEUE_RANK[TriageStatus.IN_TRIAGE]
    record(session, "report.case_unlink", actor_id=actor_id, desk_id=desk_id,
           object_type="report", object_id=report_id, detail=f"case={case.id}")
    session.flush()


def case_facilities(session: Session, *, desk_id: int) -> list[Facility]:
    """The workplaces this desk has reports about: what a new case can be about."""
    return list(session.scalars(
        select(Facility).where(Facility.id.in_(
            select(Report.facility_id).join(ReportDesk, ReportDesk.report_id == Report.id)
            .where(ReportDesk.desk_id == desk_id)))
        .order_by(Facility.country, Facility.name)))


# --- reading --------------------------------------------------------------------------------


def list_cases(
    session: Session, *, desk_id: int, desk_key: PrivateKey, status: CaseStatus | None = None,
) -> list[CaseRow]:
    """The desk's cases, newest first, with their titles opened."""
    counts = (select(CaseReport.case_id, func.count().label("n"))
              .group_by(CaseReport.case_id).subquery())
    query = (select(Case, Facility.name, counts.c.n)
             .join(Facility, Facility.id == Case.facility_id)
             .outerjoin(counts, counts.c.case_id == Case.id)
             .where(Case.desk_id == desk_id))
    if status is not None:
        query = query.where(Case.status == status)
    return [
        CaseRow(id=case.id, title=open_text(case.title_sealed, desk_key,
                                             title_context(case.id)),
                category=case.category, severity=case.severity, status=case.status,
                facility_name=name, report_count=n or 0, opened_on=case.opened_on)
        for case, name, n in session.execute(query.order_by(Case.opened_on.desc(), Case.id))
    ]


def open_case(
    session: Session, *, desk_id: int, case_id: uuid.UUID, desk_key: PrivateKey, actor_id: int,
) -> CaseView:
    """Decrypt a case for a member of the desk: title, notes, summary draft and the words of
    every linked report. Audited once; a fixed number of queries however many reports."""
    case = _case(session, desk_id, case_id)
    facility = session.get_one(Facility, case.facility_id)
    linked = select(CaseReport.report_id).where(CaseReport.case_id == case.id)
    reports = session.execute(
        select(Report, ReportDesk.status, ReportDesk.opened_on)
        .join(ReportDesk, ReportDesk.report_id == Report.id)
        .where(ReportDesk.desk_id == desk_id, Report.id.in_(linked))
        .order_by(Report.received_on, Report.id)).all()
    messages: dict[uuid.UUID, list[ReportMessage]] = defaultdict(list)
    for message in session.scalars(select(ReportMessage).where(
            ReportMessage.report_id.in_(linked))
            .order_by(ReportMessage.report_id, ReportMessage.seq)):
        messages[message.report_id].append(message)
    notes = list(session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)
                                 .order_by(CaseNote.created_at, CaseNote.id)))
    authors = {n.author_id for n in notes} | {
        m.author_account_id for ms in messages.values() for m in ms
        if m.author_account_id is not None}
    names = {account_id: name for account_id, name in session.execute(
        select(Account.id, Account.display_name).where(Account.id.in_(authors)))}
    deliveries = delivery_notes(session, linked)
    if any(opened_on is None for _report, _status, opened_on in reports):
        session.execute(update(ReportDesk).where(
            ReportDesk.desk_id == desk_id, ReportDesk.opened_on.is_(None),
            ReportDesk.report_id.in_(linked)).values(opened_on=today())
            .execution_options(synchronize_session=False))
    _mark_read(session, desk_id, {
        report.id: max((m.seq for m in messages.get(report.id, [])), default=0)
        for report, _status, _opened_on in reports})
    record(session, "case.open", actor_id=actor_id, desk_id=desk_id, object_type="case",
           object_id=case.id, detail=f"count={len(reports)}")
    return CaseView(
        case=case, title=open_text(case.title_sealed, desk_key, title_context(case.id)),
        facility=facility,
        reports=[_words(report, status, messages.get(report.id, []), desk_key, names,
                        deliveries)
                 for report, status, _opened_on in reports],
        notes=[NoteView(n.id, names.get(n.author_id), n.created_at,
                        open_text(n.body_sealed, desk_key, note_context(case.id, n.id)))
               for n in notes],
        summary=_summary(session, case, desk_key),
    )


def _mark_read(session: Session, desk_id: int, read: Mapping[uuid.UUID, int]) -> None:
    """The case page shows every thread whole: what the worker wrote up to the places
    ``read`` is no longer new to the desk (the queue's mark). One statement, however many
    reports; never back (the report page may have read further meanwhile)."""
    if not read:
        return
    last = sql_case(read, value=ReportDesk.report_id)
    session.execute(update(ReportDesk).where(
        ReportDesk.desk_id == desk_id, ReportDesk.report_id.in_(list(read)),
        or_(ReportDesk.seen_seq.is_(None), ReportDesk.seen_seq < last))
        .values(seen_seq=last).execution_options(synchronize_session=False))


def _words(report: Report, status: TriageStatus, messages: list[ReportMessage],
           desk_key: PrivateKey, names: Mapping[int, str],
           deliveries: Mapping[uuid.UUID, str]) -> LinkedReport:
    details, entries = read_words(report, messages, desk_key, names, deliveries)
    return LinkedReport(report_id=report.id, received_on=report.received_on,
                        channel=report.channel, language=report.language, status=status,
                        details=details, entries=entries)


def _summary(session: Session, case: Case, desk_key: PrivateKey) -> SummaryDraft | None:
    if case.summary_draft_sealed is None:
        return None
    facility = session.get_one(Facility, case.facility_id)
    return SummaryDraft.from_json(open_sealed(case.summary_draft_sealed, desk_key,
                                              context=summary_context(case.id)),
                                  country=facility.country)


# --- notes and status -----------------------------------------------------------------------


def add_note(
    session: Session, *, desk_id: int, case_id: uuid.UUID, text: str, actor_id: int,
) -> CaseNote:
    """A note of the desk on the case, sealed to the desk."""
    case = _case(session, desk_id, case_id)
    text = text.strip()
    if not text:
        raise CaseRejected("write the note first")
    if len(text) > MAX_NOTE_CHARS:
        raise CaseRejected(f"a note can have at most {MAX_NOTE_CHARS} characters "
                           f"(this one has {len(text)})")
    note = CaseNote(id=uuid.uuid4(), case_id=case.id, author_id=actor_id, body_sealed=b"")
    note.body_sealed = _seal(session, desk_id, text.encode(), note_context(case.id, note.id))
    session.add(note)
    session.flush()
    record(session, "case.note", actor_id=actor_id, desk_id=desk_id, object_type="case",
           object_id=case.id, detail=f"note={note.id}")
    return note


def set_status(
    session: Session, *, desk_id: int, case_id: uuid.UUID, status: CaseStatus,
    desk_key: PrivateKey, actor_id: int,
) -> Case:
    """Move the case on. Alerting (and remediation, which follows it) reaches buyers, so it
    needs a summary whose every proposed redaction was reviewed and which is approved."""
    case = _case(session, desk_id, case_id)
    if status == case.status:
        return case
    if status in NEEDS_SUMMARY:
        draft = _summary(session, case, desk_key)
        if draft is not None and draft.pending:
            raise CaseRejected("review every proposed redaction first")
        if draft is None or case.summary_approved is None:
            raise CaseRejected("write and approve the summary first")
    case.status = status
    case.closed_on = today() if status in CLOSED else None
    record(session, "case.status", actor_id=actor_id, desk_id=desk_id, object_type="case",
           object_id=case.id, detail=f"status={status.value}")
    session.flush()
    return case


# --- the de-identified summary --------------------------------------------------------------


def _summary_editable(case: Case) -> None:
    if case.status is not CaseStatus.OPEN:
        raise CaseRejected("the summary cannot change once buyers have been alerted")


def save_summary_draft(
    session: Session, *, desk_id: int, case_id: uuid.UUID, text: str, actor_id: int,
    known_names: Sequence[str] = (),
) -> SummaryDraft:
    """Store a new draft (sealed) with the redactions proposed for it; any earlier approval
    is withdrawn until the monitor reviews this draft."""
    case = _case(session, desk_id, case_id, lock=True)
    _summary_editable(case)
    text = text.strip()
    if not text:
        raise CaseRejected("write the summary first")
    if len(text) > MAX_SUMMARY_CHARS:
        raise CaseRejected(f"a summary can have at most {MAX_SUMMARY_CHARS} characters "
                           f"(this one has {len(text)})")
    facility = session.get_one(Facility, case.facility_id)
    proposals = deidentify.propose(text, country=facility.country,
                                   known_names=[n for n in known_names if n.strip()])
    draft = SummaryDraft(uuid.uuid4().hex, text, proposals, {})
    case.summary_draft_sealed = _seal(session, desk_id, draft.to_json(),
                                      summary_context(case.id))
    case.summary_approved = None
    record(session, "case.summary_draft", actor_id=actor_id, desk_id=desk_id,
           object_type="case", object_id=case.id, detail=f"proposals={len(proposals)}")
    session.flush()
    return draft


def review_summary(
    session: Session, *, desk_id: int, case_id: uuid.UUID, desk_key: PrivateKey,
    decisions: Mapping[str, bool], actor_id: int, draft_id: str | None = None,
) -> SummaryDraft:
    """Record accept (True) / reject (False) per proposal id. Once every proposal has a
    decision the summary is approved: the draft with the accepted redactions applied. A draft
    with no proposals is approved by calling this with no decisions. ``draft_id`` (from the
    form) refuses decisions made on an older draft."""
    case = _case(session, desk_id, case_id, lock=True)
    _summary_editable(case)
    draft = _summary(session, case, desk_key)
    if draft is None:
        raise CaseRejected("write the summary first")
    if draft_id is not None and draft_id != draft.draft_id:
        raise CaseRejected("the summary was changed since this page was loaded: "
                           "review the new draft")
    known = {p.id for p in draft.proposals}
    if not set(decisions) <= known:
        raise CaseRejected("the review does not match the summary: review the draft again")
    merged = {**draft.decisions, **{k: bool(v) for k, v in decisions.items()}}
    reviewed = SummaryDraft(draft.draft_id, draft.text, draft.proposals, merged)
    case.summary_draft_sealed = _seal(session, desk_id, reviewed.to_json(),
                                      summary_context(case.id))
    approved = not reviewed.pending
    try:
        case.summary_approved = (
            deidentify.redact(draft.text, draft.proposals, accepted=_accepted(merged))
            if approved else None)
    except deidentify.ProposalMismatch:
        raise CaseRejected("the proposals do not fit the draft: save the draft again") from None
    record(session, "case.summary_review", actor_id=actor_id, desk_id=desk_id,
           object_type="case", object_id=case.id,
           detail=f"accepted={len(_accepted(merged))} "
                  f"rejected={len(merged) - len(_accepted(merged))} "
                  f"approved={'yes' if approved else 'no'}")
    session.flush()
    return reviewed


def _accepted(decisions: Mapping[str, bool]) -> Collection[str]:
    return {k for k, v in decisions.items() if v}
