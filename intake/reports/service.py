"""Receiving a report the same way whatever the channel, and the worker's follow-up thread.

Plaintext lives only in the arguments and return values of these functions: what is
stored is sealed (DESIGN 2). A receipt is returned once and never stored; only its
Argon2id-derived lookup hash is.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.envelope import open_sealed, seal
from crypto.hierarchy import Argon2Profile
from crypto.keys import PrivateKey, PublicKey
from crypto.receipts import ReceiptSecrets, derive_receipt_secrets, new_receipt
from intake.accounts.models import Desk
from intake.cases.models import Case, CaseReport
from intake.db import today
from intake.errors import IntakeError
from intake.install import courier_public_key, receipt_salt
from intake.remedy.models import Verdict, WorkerVerdict
from intake.reports.burmese import typed_in_zawgyi
from intake.reports.categories import CATEGORY_CODES
from intake.reports.models import Author, Channel, Report, ReportDesk, ReportMessage
from intake.supplychain import service as workplaces
from intake.supplychain.models import Coverage

MAX_DETAILS_CHARS = 4000
MAX_MESSAGE_CHARS = 4000
MAX_COMMENT_CHARS = 1000


class ReportRejected(IntakeError):
    """The submission cannot be accepted as it is; ``reason`` is a stable code for the UI."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoDeskAvailable(IntakeError):
    """No desk covers the workplace and no fallback desk is configured (an operator error)."""


class ReceiptNotFound(IntakeError):
    """No report has this receipt (or it was mistyped): the same answer either way."""


class ReportGone(IntakeError):
    """Retention deleted the report (its time was up) after this request had found it:
    nothing the request meant to write to it was written."""

    def __init__(self, report_id: uuid.UUID) -> None:
        super().__init__(f"report {report_id} is no longer kept (its retention period ended)")
        self.report_id = report_id


@dataclass(frozen=True)
class NewReport:
    channel: Channel
    language: str
    facility_id: int | None
    categories: Sequence[str]
    details: str = field(repr=False)
    contact_number: str | None = field(default=None, repr=False)
    # The phone shows Burmese in Zawgyi (a page spelled for it); None: the details tell.
    zawgyi: bool | None = None


@dataclass(frozen=True)
class ThreadEntry:
    author: Author
    sent_on: dt.date
    text: str | None = field(repr=False)


@dataclass(frozen=True)
class Thread:
    report_id: uuid.UUID
    received_on: dt.date
    facility_name: str | None
    entries: list[ThreadEntry]
    verdict_asked: bool
    verdict_given: Verdict | None


def body_context(report_id: uuid.UUID) -> bytes:
    return f"report/{report_id}/body".encode()


def contact_context(report_id: uuid.UUID) -> bytes:
    return f"report/{report_id}/contact".encode()


def message_context(report_id: uuid.UUID, message_id: uuid.UUID) -> bytes:
    return f"report/{report_id}/message/{message_id}".encode()


def verdict_context(verdict_id: uuid.UUID) -> bytes:
    return f"verdict/{verdict_id}/comment".encode()


def validate(report: NewReport, session: Session) -> None:
    """Check a submission at the service edge whatever the channel already checked."""
    if report.facility_id is not None and workplaces.get(session, report.facility_id) is None:
        raise ReportRejected("unknown_facility")
    unknown = set(report.categories) - CATEGORY_CODES
    if unknown or not report.categories:
        raise ReportRejected("unknown_category" if unknown else "no_category")
    if len(report.details) > MAX_DETAILS_CHARS:
        raise ReportRejected("too_long")
    if report.contact_number is not None and not report.contact_number.startswith("+"):
        raise ReportRejected("bad_number")


def desks_for(session: Session, facility_id: int | None) -> list[Desk]:
    """The desks covering the workplace, or the fallback desk(s) when none does."""
    desks: list[Desk] = []
    if facility_id is not None:
        desks = list(
            session.scalars(
                select(Desk).join(Coverage, Coverage.desk_id == Desk.id)
                .where(Coverage.facility_id == facility_id).order_by(Desk.id)
            )
        )
    if not desks:
        desks = list(session.scalars(select(Desk).where(Desk.is_fallback).order_by(Desk.id)))
    if not desks:
        raise NoDeskAvailable("no desk covers this workplace and no fallback desk exists")
    return desks


def submit_report(session: Session, report: NewReport, *, profile: Argon2Profile) -> str:
    """Seal and store a whole report at once (web, desk intake); return its receipt.

    The receipt (16 digits) is returned once and never stored.
    """
    return store_report(session, report, profile=profile)[1]


def store_report(
    session: Session, report: NewReport, *, profile: Argon2Profile, also_desk: Desk | None = None,
    entered_by_id: int | None = None,
) -> tuple[Report, str]:
    """``submit_report`` returning the stored row too. ``also_desk``: a desk that takes the
    report on a worker's behalf receives it even if it does not cover the workplace."""
    validate(report, session)
    desks = desks_for(session, report.facility_id)
    if also_desk is not None and all(d.id != also_desk.id for d in desks):
        desks = [*desks, also_desk]
    row = open_report(session, channel=report.channel, language=report.language,
                      facility_id=report.facility_id, categories=report.categories, desks=desks)
    payload = json.dumps({"details": report.details}, ensure_ascii=False).encode()
    keys = [PublicKey.from_bytes(desk.public_key) for desk in desks]
    row.body_sealed = seal(payload, keys, context=body_context(row.id))
    row.entered_by_id = entered_by_id
    if report.contact_number:
        zawgyi = report.zawgyi
        if zawgyi is None:
            zawgyi = typed_in_zawgyi(report.details) is True
        attach_contact(session, row, report.contact_number, zawgyi=zawgyi)
    return row, issue_receipt(session, row, profile=profile)


def open_report(
    session: Session, *, channel: Channel, language: str, facility_id: int | None,
    categories: Sequence[str], desks: Sequence[Desk] | None = None,
) -> Report:
    """A report routed to its desks (found here unless given), with no words and no receipt
    yet (SMS adds both later)."""
    desks = desks if desks is not None else desks_for(session, facility_id)
    received_on = today()
    row = Report(id=uuid.uuid4(), channel=channel, language=language, facility_id=facility_id,
                 received_on=received_on)
    row.desks = [ReportDesk(desk_id=desk.id, received_on=received_on, facility_id=facility_id,
                            channel=channel, language=language)
                 for desk in desks]
    set_categories(row, categories)
    session.add(row)
    session.flush()
    return row


def set_categories(report: Report, categories: Sequence[str]) -> None:
    """The worker's categories, on the report and (the first of them) on each desk's row:
    when it opens, or later for a report opened before they were chosen (an SMS that told
    what happened beside the poster code)."""
    report.categories = ",".join(sorted(set(categories)))
    for row in report.desks:
        row.category = min(categories) if categories else None


def attach_contact(session: Session, report: Report, number: str, *,
                   now: dt.datetime | None = None, zawgyi: bool = False,
                   whatsapp: bool = False, wrote_to: str | None = None) -> None:
    """Keep the worker's number sealed to the courier key: only the SMS sender can read it.

    The moment it was kept is sealed with it (``Contact.kept_at``): the courier alone reads
    it, so the report shows nothing finer than its day in the clear (DESIGN 2). So are
    ``zawgyi`` (the phone types Burmese in Zawgyi, and texts to it are spelled that way),
    ``whatsapp`` (the worker wrote on WhatsApp, and is answered there) and ``wrote_to`` (our
    number the worker wrote to, which answers them)."""
    courier = courier_public_key(session)
    if courier is None:
        raise NoDeskAvailable("no courier key is configured, so no number can be kept")
    kept_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat()
    fields = [number, kept_at, *([_ZAWGYI] if zawgyi else []),
              *([_WHATSAPP] if whatsapp else []), *([_WROTE_TO + wrote_to] if wrote_to else [])]
    report.contact_sealed = seal(_FIELDS.join(fields).encode("ascii"), [courier],
                                 context=contact_context(report.id))
    report.contact_consent = True
    session.flush()


_FIELDS = "\n"  # never in a number (E.164, or "whatsapp:" and E.164)
_ZAWGYI = "zawgyi"
_WHATSAPP = "whatsapp"
_WROTE_TO = "to:"


@dataclass(frozen=True)
class Contact:
    number: str = field(repr=False)
    kept_at: dt.datetime | None  # None: sealed before the moment was kept with it
    zawgyi: bool = False  # the phone types Burmese in Zawgyi
    whatsapp: bool = False  # the worker wrote on WhatsApp: texts go there
    wrote_to: str | None = None  # our number the worker wrote to (None: the web form)


def open_contact(report: Report, courier: PrivateKey) -> Contact:
    """The report's sealed number (there must be one), when it was kept, how the phone
    spells Burmese, whether it is on WhatsApp and which of our numbers it wrote to (numbers
    sealed before these were kept with them have none of them)."""
    plain = open_sealed(report.contact_sealed or b"", courier,
                        context=contact_context(report.id)).decode("ascii")
    number, *rest = plain.split(_FIELDS)
    kept_at = rest[0] if rest else ""
    flags = rest[1:]
    wrote_to = next((f.removeprefix(_WROTE_TO) for f in flags if f.startswith(_WROTE_TO)),
                    None)
    return Contact(number, dt.datetime.fromisoformat(kept_at) if kept_at else None,
                   zawgyi=_ZAWGYI in flags, whatsapp=_WHATSAPP in flags, wrote_to=wrote_to)


def issue_receipt(session: Session, report: Report, *, profile: Argon2Profile) -> str:
    """Give the report its receipt: store the lookup hash and worker key, return the digits."""
    receipt, secrets = _fresh_receipt(session, profile=profile)
    report.receipt_lookup = secrets.lookup_hash
    report.worker_public_key = secrets.worker_key.public_key().to_bytes()
    session.flush()
    return receipt


def _fresh_receipt(session: Session, *, profile: Argon2Profile) -> tuple[str, ReceiptSecrets]:
    salt = receipt_salt(session)
    while True:  # a collision among 10^16 receipts is astronomically rare; never reuse one
        receipt = new_receipt()
        secrets = derive_receipt_secrets(receipt, install_salt=salt, profile=profile)
        taken = session.scalar(
            select(Report.id).where(Report.receipt_lookup == secrets.lookup_hash)
        )
        if taken is None:
            return receipt, secrets


def find_by_receipt(
    session: Session, receipt: str, *, profile: Argon2Profile
) -> tuple[Report, PrivateKey]:
    """The report and the worker key for ``receipt``; ``ReceiptNotFound`` otherwise.

    Argon2id runs in full whether or not a report exists, so the answer takes the same time.
    ``MalformedReceipt`` (from crypto) is raised for text that is not 16 digits.
    """
    secrets = derive_receipt_secrets(receipt, install_salt=receipt_salt(session), profile=profile)
    found = session.scalar(select(Report).where(Report.receipt_lookup == secrets.lookup_hash))
    if found is None:
        raise ReceiptNotFound("no report for this receipt")
    return found, secrets.worker_key


def thread_for(session: Session, report: Report, worker_key: PrivateKey) -> Thread:
    """What the worker sees: desk replies (opened with the worker key) and dates of additions.

    The worker's own words are sealed to the desks only, so a receipt found on a shared
    phone does not reveal what the worker wrote.
    """
    entries = []
    for message in report.messages:
        text = None
        if message.author is Author.DESK:
            text = open_sealed(
                message.body_sealed, worker_key, context=message_context(report.id, message.id)
            ).decode()
        entries.append(ThreadEntry(message.author, message.sent_on, text))
    case = _case_of(session, report)
    given = None
    if case is not None:
        given = session.scalar(
            select(WorkerVerdict.verdict).where(
                WorkerVerdict.case_id == case.id, WorkerVerdict.report_id == report.id
            )
        )
    facility = workplaces.get(session, report.facility_id)
    return Thread(
        report_id=report.id,
        received_on=report.received_on,
        facility_name=facility.name if facility else None,
        entries=entries,
        verdict_asked=case is not None and case.verdict_requested_on is not None,
        verdict_given=given,
    )


def _case_of(session: Session, report: Report) -> Case | None:
    return session.scalar(
        select(Case).join(CaseReport, CaseReport.case_id == Case.id)
        .where(CaseReport.report_id == report.id)
    )


def lock_thread(session: Session, report_id: uuid.UUID) -> None:
    """Lock the report's row until commit, so its thread gets one message at a time. Taken
    before any audit event of the request (the row, then the audit chain, in every request:
    the other order deadlocks). FOR NO KEY UPDATE: rows that only point at the report
    (outbound texts, verdicts) are not held up.

    ``ReportGone`` when the row is no longer there: retention, which deletes with FOR UPDATE,
    deleted it since the request found the report (the lock waited for its commit)."""
    locked = session.scalar(select(Report.id).where(Report.id == report_id)
                            .with_for_update(key_share=True))
    if locked is None:
        raise ReportGone(report_id)


def keep_reports(session: Session, report_ids: Iterable[uuid.UUID]) -> None:
    """Keep the reports until commit, for a change that points at them or at their triage
    rows: FOR KEY SHARE, as a foreign key takes its parent row, so retention (FOR UPDATE
    SKIP LOCKED) passes them by, and nothing else is held up. Taken before the change is
    written and before any audit event (the rows, then the audit chain).

    ``ReportGone`` for one retention deleted since the request found it."""
    wanted = sorted(set(report_ids))
    kept = set(session.scalars(select(Report.id).where(Report.id.in_(wanted))
                               .order_by(Report.id).with_for_update(read=True, key_share=True)))
    for report_id in wanted:
        if report_id not in kept:
            raise ReportGone(report_id)


def _next_seq(session: Session, report: Report) -> int:
    """The thread's next place, under the report's lock: two messages saved at the same
    moment (a double click, a desk reply and a worker's addition) take places in turn, never
    the same one, so the thread reads in one order everywhere."""
    lock_thread(session, report.id)
    current = session.scalar(
        select(func.max(ReportMessage.seq)).where(ReportMessage.report_id == report.id)
    )
    return (current or 0) + 1


def _desk_keys(session: Session, report: Report) -> list[PublicKey]:
    rows = session.scalars(
        select(Desk.public_key).join(ReportDesk, ReportDesk.desk_id == Desk.id)
        .where(ReportDesk.report_id == report.id).order_by(Desk.id)
    )
    return [PublicKey.from_bytes(row) for row in rows]


def add_worker_message(session: Session, report: Report, text: str) -> ReportMessage:
    """The worker adds to their report; sealed to the report's desks. ``ReportGone`` if
    retention deleted the report since it was found (the words are then kept nowhere)."""
    if not text.strip():
        raise ReportRejected("empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ReportRejected("too_long")
    return _add_message(session, report, text, Author.WORKER, _desk_keys(session, report))


def add_desk_reply(
    session: Session, report: Report, text: str, *, author_account_id: int | None
) -> ReportMessage:
    """A desk's reply, sealed to the worker key and to the desks (DESIGN 4.3), and to the
    courier when the worker said yes to texts, so that ``intake worker`` can send it."""
    keys = _desk_keys(session, report)
    if report.worker_public_key is not None:
        keys.append(PublicKey.from_bytes(report.worker_public_key))
    courier = courier_public_key(session) if report.contact_consent else None
    if courier is not None:
        keys.append(courier)
    message = _add_message(session, report, text, Author.DESK, keys)
    message.author_account_id = author_account_id
    return message


def _add_message(
    session: Session, report: Report, text: str, author: Author, keys: list[PublicKey]
) -> ReportMessage:
    message = ReportMessage(
        id=uuid.uuid4(), report_id=report.id, seq=_next_seq(session, report), author=author,
        body_sealed=b"",
    )
    message.body_sealed = seal(
        text.encode(), keys, context=message_context(report.id, message.id)
    )
    session.add(message)
    session.flush()
    return message


def record_verdict(
    session: Session, report: Report, verdict: Verdict, comment: str, *, channel: str
) -> WorkerVerdict:
    """The worker's answer to "was it really fixed?"; a second answer replaces the first.
    ``ReportGone`` if retention deleted the report since it was found (nothing is kept)."""
    keep_reports(session, [report.id])
    case = _case_of(session, report)
    if case is None or case.verdict_requested_on is None:
        raise ReportRejected("no_verdict_asked")
    if len(comment) > MAX_COMMENT_CHARS:
        raise ReportRejected("too_long")
    row = _verdict_of(session, case.id, report.id) or _new_verdict(
        session, case.id, report.id, verdict=verdict, channel=channel)
    row.verdict = verdict
    row.channel = channel
    row.comment_sealed = (
        seal(comment.encode(), _desk_keys(session, report), context=verdict_context(row.id))
        if comment.strip() else None
    )
    session.flush()
    return row


def _verdict_of(session: Session, case_id: uuid.UUID, report_id: uuid.UUID
                ) -> WorkerVerdict | None:
    return session.scalar(select(WorkerVerdict).where(
        WorkerVerdict.case_id == case_id, WorkerVerdict.report_id == report_id))


def _new_verdict(session: Session, case_id: uuid.UUID, report_id: uuid.UUID, *,
                 verdict: Verdict, channel: str) -> WorkerVerdict:
    """A first answer; or, when the same worker's other answer (a double click, the web and
    an SMS at once) was stored since we looked, that one, which this answer then replaces."""
    row = WorkerVerdict(id=uuid.uuid4(), case_id=case_id, report_id=report_id,
                        verdict=verdict, channel=channel, comment_sealed=None)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        stored = _verdict_of(session, case_id, report_id)
        if stored is None:
            raise
        return stored
    return row
