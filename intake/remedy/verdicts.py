"""Asking the workers of a case whether the problem was really fixed, and counting what they say.

The desk proposes to close a case: ``request_verdicts`` marks the case (the web follow-up
page then asks every linked worker) and owes a text to each worker who said yes to texts.
That text is a dedicated outbound kind (``VERDICT_KIND``) with no stored message: the
sending job writes the question in the report's language when it sends it, so nothing of it
is kept, and puts the sender's SMS conversation into its verdict step. Answers arrive
through ``intake.reports.service.record_verdict`` (web or SMS), comments sealed to the desks.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.envelope import open_sealed
from crypto.keys import PrivateKey
from intake.audit.service import record
from intake.cases.models import Case, CaseReport, CaseStatus
from intake.cases.service import CLOSED, CaseNotFound, CaseRejected
from intake.messaging import prompts
from intake.messaging.models import OutboundMessage
from intake.messaging.segments import count_segments
from intake.remedy.models import Verdict, WorkerVerdict
from intake.reports.models import Report
from intake.reports.service import verdict_context
from intake.supplychain import service as workplaces

VERDICT_KIND = "verdict_question"  # OutboundMessage.kind of the question; no message row
MIN_NAME_CHARS = 12  # a workplace name is shortened to fit the SMS budget, not below this


class VerdictRejected(CaseRejected):
    """The workers cannot be asked now (the case is closed, or they were asked already)."""


@dataclass(frozen=True)
class Asked:
    reports: int  # linked reports: their workers see the question on the follow-up page
    texts: list[uuid.UUID]  # outbound texts owed (workers who said yes to texts)


@dataclass(frozen=True)
class Comment:
    given_on: dt.date
    text: str = field(repr=False)


@dataclass(frozen=True)
class VerdictPanel:
    """What the desk's case page shows; counts are already suppressed below k."""

    asked_on: dt.date | None
    can_ask: bool
    reachable_by_text: int
    k: int
    shown: dict[Verdict, str]
    answered: str
    comments: list[Comment] = field(repr=False)
    flagged: bool


def _case(session: Session, desk_id: int, case_id: uuid.UUID, *, lock: bool = False) -> Case:
    """``lock``: read it as stored now and lock it until commit, for a change that must be
    made once (two monitors pressing "Ask" at the same moment are handled in turn)."""
    case = (session.get(Case, case_id, with_for_update=True, populate_existing=True) if lock
            else session.get(Case, case_id))
    if case is None or case.desk_id != desk_id:
        raise CaseNotFound("no such case in this desk")
    return case


def _linked_reports(session: Session, case_id: uuid.UUID) -> list[Report]:
    return list(session.scalars(
        select(Report).join(CaseReport, CaseReport.report_id == Report.id)
        .where(CaseReport.case_id == case_id).order_by(Report.id)))


def _reachable(report: Report) -> bool:
    return report.contact_consent and report.contact_sealed is not None


def request_verdicts(
    session: Session, *, desk_id: int, case_id: uuid.UUID, actor_id: int,
    now: dt.datetime | None = None,
) -> Asked:
    """Ask every worker linked to the case whether the problem was fixed.

    The caller commits, then enqueues ``SEND_TEXT_JOB`` for each id in ``Asked.texts``.
    """
    case = _case(session, desk_id, case_id, lock=True)
    if case.status in CLOSED:
        raise VerdictRejected("the case is closed")
    if case.verdict_requested_on is not None:
        raise VerdictRejected(
            f"the workers were asked already, on {case.verdict_requested_on.isoformat()}")
    reports = _linked_reports(session, case.id)
    if not reports:
        raise VerdictRejected("the case has no reports, so there is no one to ask")
    case.verdict_requested_on = (now or dt.datetime.now(dt.UTC)).date()
    texts = []
    for report in reports:
        if _reachable(report):
            outbound = OutboundMessage(id=uuid.uuid4(), report_id=report.id, message_id=None,
                                       kind=VERDICT_KIND)
            session.add(outbound)
            texts.append(outbound.id)
    session.flush()
    record(session, "case.verdicts_requested", actor_id=actor_id, desk_id=desk_id,
           object_type="case", object_id=case.id,
           detail=f"reports={len(reports)} texts={len(texts)}")
    return Asked(reports=len(reports), texts=texts)


def question_text(session: Session, report: Report) -> str:
    """The SMS question, in the report's language, naming the workplace of its case."""
    case = session.scalar(select(Case).join(CaseReport, CaseReport.case_id == Case.id)
                          .where(CaseReport.report_id == report.id))
    facility_id = case.facility_id if case is not None else report.facility_id
    workplace = workplaces.get(session, facility_id)
    with force_locale(report.language):
        frame = str(prompts.VERDICT_QUESTION)
    # A case always names its workplace; "-" only if that row was removed meanwhile.
    name = workplace.name if workplace is not None else "-"
    text = frame % {"name": name}
    while len(name) > MIN_NAME_CHARS and _over_budget(text):
        name = name[:-4].rstrip() + "..."  # a long name is cut, not the question
        text = frame % {"name": name}
    return text


def _over_budget(text: str) -> bool:
    counted = count_segments(text)
    return counted.segments > (1 if counted.encoding == "GSM-7" else 2)


def verdict_counts(session: Session, case_id: uuid.UUID) -> dict[Verdict, int]:
    """How many workers answered yes, partly and no (every verdict present, zero or not)."""
    counts = dict.fromkeys(Verdict, 0)
    rows = session.execute(
        select(WorkerVerdict.verdict, func.count()).where(WorkerVerdict.case_id == case_id)
        .group_by(WorkerVerdict.verdict))
    for verdict, count in rows:
        counts[Verdict(verdict)] = int(count)
    return counts


def shown_count(count: int, k: int) -> str:
    """A count on the verdict panel and dashboards: below ``k`` it is only "<k".

    The rule of ``intake.alerts.service.shown_count`` (which words it "fewer than k" for
    alert pages), in the short form the case page and dashboards use.
    """
    return f"<{k}" if count < k else str(count)


def shown_counts(counts: dict[Verdict, int], k: int) -> dict[Verdict, str]:
    return {verdict: shown_count(count, k) for verdict, count in counts.items()}


def remedied_but_no(session: Session, case: Case) -> bool:
    """The case was closed as remedied while most workers who answered said it was not."""
    if case.status is not CaseStatus.CLOSED_REMEDIED:
        return False
    counts = verdict_counts(session, case.id)
    return counts[Verdict.NO] * 2 > sum(counts.values())


def comments(session: Session, case_id: uuid.UUID, desk_key: PrivateKey) -> list[Comment]:
    """The workers' comments, opened with the desk key (oldest first, without verdicts)."""
    rows = session.scalars(
        select(WorkerVerdict).where(WorkerVerdict.case_id == case_id,
                                    WorkerVerdict.comment_sealed.is_not(None))
        .order_by(WorkerVerdict.given_on, WorkerVerdict.id))
    return [Comment(row.given_on, open_sealed(row.comment_sealed, desk_key,
                                              context=verdict_context(row.id)).decode())
            for row in rows if row.comment_sealed is not None]


def panel(session: Session, case: Case, *, k: int, desk_key: PrivateKey) -> VerdictPanel:
    counts = verdict_counts(session, case.id)
    reports = _linked_reports(session, case.id)
    return VerdictPanel(
        asked_on=case.verdict_requested_on,
        can_ask=case.verdict_requested_on is None and case.status not in CLOSED,
        reachable_by_text=sum(1 for r in reports if _reachable(r)),
        k=k, shown=shown_counts(counts, k), answered=shown_count(sum(counts.values()), k),
        comments=comments(session, case.id, desk_key),
        flagged=remedied_but_no(session, case),
    )
