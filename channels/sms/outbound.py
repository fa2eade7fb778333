"""Jobs that talk to Twilio's REST API: send a text, delete an inbound message, forget a
number. They run in ``intake worker`` (or on the embedded default's job thread), hold the
courier key, and carry ids only in their payloads.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from dataclasses import dataclass, field

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from crypto.envelope import open_sealed
from crypto.keys import PrivateKey
from crypto.pseudonyms import sender_tag
from intake.accounts.models import SmsNumber
from intake.cases.models import Case, CaseReport
from intake.errors import ConfigError
from intake.ext import database_of, jobs_of, settings_of
from intake.jobs import coalesced_started
from intake.messaging.conversation import await_answer, await_verdict, await_window
from intake.messaging.models import (
    OWED,
    OptOut,
    OutboundMessage,
    OutboundStatus,
    PendingDeletion,
)
from intake.messaging.outbound import (
    GAVE_UP,
    NUDGE_JOB,
    SEND_ATTEMPTS,
    SEND_TEXT_JOB,
    count,
    delete_at_twilio_later,
    refused_as,
)
from intake.remedy.models import WorkerVerdict
from intake.remedy.verdicts import VERDICT_KIND, question_text
from intake.reports.burmese import spelled_for
from intake.reports.models import Report, ReportMessage
from intake.reports.service import message_context, open_contact
from intake.rotation.optouts import opted_out
from intake.supplychain.models import Facility

DELETED_COUNTER = "twilio_inbound_deleted"
OUTBOUND_DELETED_COUNTER = "twilio_outbound_deleted"
NOT_FOUND = 404
log = logging.getLogger("intake.sms")


def twilio_client() -> Client:
    """The Twilio REST client; ``INTAKE_TWILIO_API_BASE`` points it elsewhere (tests)."""
    settings = settings_of()
    if not settings.twilio_account_sid or not settings.twilio_auth_token:
        raise ConfigError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to send texts")
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    if settings.twilio_api_base:
        client.api.base_url = settings.twilio_api_base
    return client


def _courier() -> PrivateKey:
    key = settings_of().courier_key
    if key is None:
        raise ConfigError("INTAKE_COURIER_KEY is not set for this process: it cannot send texts")
    return PrivateKey.from_bytes(key)


@dataclass(frozen=True)
class _Text:
    """One owed text, opened for sending (in memory only, for the job's duration)."""

    outbound_id: uuid.UUID
    report_id: uuid.UUID
    number: str = field(repr=False)
    sender: str
    body: str = field(repr=False)
    tag: str = field(repr=False)
    language: str
    zawgyi: bool  # the phone types Burmese in Zawgyi: ``body`` is spelled that way
    whatsapp: bool  # the worker wrote on WhatsApp: the text goes there, from our number
    asks_verdict: bool
    queued_at: dt.datetime
    resumed: bool  # an earlier attempt got as far as Twilio and stopped: was it sent?
    attempt: int  # this job's claim: a later claim by another job makes this one stop
    wanted: bool = True  # False: no longer to be sent; only whether it was sent is settled

    @property
    def to(self) -> str:
        """Twilio's address of the worker: WhatsApp's has its prefix."""
        return f"whatsapp:{self.number}" if self.whatsapp else self.number

    @property
    def from_(self) -> str:
        return f"whatsapp:{self.sender}" if self.whatsapp else self.sender


def send_outbound(outbound_id: str) -> None:
    """Send one owed text, at most once; record opt-outs for good, raise on other failures
    (the job is retried).

    A worker on a shared phone must not get the same text twice. So the text is first
    marked SENDING and committed (``_claim``); then, holding the row locked, Twilio is
    called and the text marked SENT in one transaction. A job that finds SENDING (its
    worker was killed between Twilio's answer and the commit, or Twilio failed mid-call)
    looks in Twilio's list for that text and sends only if it is not there; a job that
    finds another job's claim stops. A desk reply is opened from its sealed message. The
    verdict question (``VERDICT_KIND``) has no message: it is written here in the report's
    language, and the worker's SMS conversation is put into its verdict step, keyed by the
    tag only this job can compute.
    """
    with _ONE_SEND_AT_A_TIME:
        _send(uuid.UUID(outbound_id))


# The row lock below keeps two processes on PostgreSQL from sending one text twice; SQLite
# has no row locks, and there the embedded default's jobs share this one process.
_ONE_SEND_AT_A_TIME = threading.Lock()


def _send(outbound_id: uuid.UUID) -> None:
    text = _claim(outbound_id)
    if text is None:
        return
    client = twilio_client()
    with database_of().transaction() as session:
        outbound = session.get(OutboundMessage, text.outbound_id, with_for_update=True)
        if outbound is None or outbound.status is not OutboundStatus.SENDING \
                or outbound.attempts != text.attempt:
            return  # another job claimed it meanwhile and sends it
        sid = _found_at_twilio(session, client, text) if text.resumed else None
        if sid is None and not text.wanted:
            outbound.status = OutboundStatus.FAILED
            _not_sent("verdict_not_wanted")
            return
        if sid is None:
            try:
                sid = client.messages.create(
                    to=text.to, from_=text.from_, body=text.body,
                    status_callback=settings_of().public_url + "/twilio/sms/status",
                ).sid
            except TwilioRestException as error:
                code = str(error.code)
                final = refused_as(code) or (
                    OutboundStatus.FAILED if text.attempt >= SEND_ATTEMPTS else None)
                if final is None:
                    raise RuntimeError(
                        f"Twilio refused the text (status {error.status})") from None
                outbound.status = final
                if final is OutboundStatus.FAILED:
                    outbound.error_code = code if code.isdigit() else GAVE_UP
                    _not_sent("refused")
                return
        outbound.status = OutboundStatus.SENT
        outbound.provider_sid = sid
        if text.wanted:  # the worker's reply answers this text
            waits = await_verdict if text.asks_verdict else await_answer
            waits(session, tag=text.tag, report_id=text.report_id, inbound_number=text.sender,
                  language=text.language, now=dt.datetime.now(dt.UTC), zawgyi=text.zawgyi,
                  whatsapp=text.whatsapp)


def _claim(outbound_id: uuid.UUID) -> _Text | None:
    """Mark the text SENDING (committed) and open what sending it needs; None if there is
    nothing to send (already sent, cancelled, opted out, its report or number is gone, or a
    verdict question no longer asked)."""
    settings = settings_of()
    with database_of().transaction() as session:
        outbound = session.get(OutboundMessage, outbound_id, with_for_update=True)
        if outbound is None or outbound.status not in (OutboundStatus.QUEUED,
                                                       OutboundStatus.SENDING):
            return None
        report = session.get(Report, outbound.report_id)
        message = session.get(ReportMessage, outbound.message_id) if outbound.message_id else None
        asks_verdict = outbound.kind == VERDICT_KIND
        if report is None or report.contact_sealed is None or (
                message is None and not asks_verdict):
            outbound.status = OutboundStatus.FAILED
            return None
        resumed = outbound.status is OutboundStatus.SENDING
        wanted = not asks_verdict or _verdict_wanted(session, report.id)
        if not wanted and not resumed:
            outbound.status = OutboundStatus.FAILED
            _not_sent("verdict_not_wanted")
            return None
        courier = _courier()
        contact = open_contact(report, courier)
        number = contact.number
        if opted_out(session, number, pepper=settings.pepper, retired=settings.retired_peppers):
            outbound.status = OutboundStatus.OPTED_OUT
            return None
        if message is not None:
            body = open_sealed(message.body_sealed, courier,
                               context=message_context(report.id, message.id)).decode()
        else:
            body = question_text(session, report)
        outbound.status = OutboundStatus.SENDING
        outbound.attempts += 1
        return _Text(outbound.id, report.id, number,
                     _our_number(session, report, wrote_to=contact.wrote_to),
                     spelled_for(body, zawgyi=contact.zawgyi), sender_tag(settings.pepper, number),
                     report.language, contact.zawgyi, contact.whatsapp, asks_verdict,
                     outbound.created_at,
                     resumed, outbound.attempts, wanted)


def _not_sent(event: str) -> None:
    log.info("text not sent", extra={"job": SEND_TEXT_JOB, "event": event})


def _verdict_wanted(session: Session, report_id: uuid.UUID) -> bool:
    """Is the report still in a case whose workers were asked, and its worker yet to answer?
    Since the desk asked, the report may have left the case (an answer would be refused) or
    its worker may have answered on the follow-up page."""
    asking = session.scalar(select(Case.id).join(CaseReport, CaseReport.case_id == Case.id)
                            .where(CaseReport.report_id == report_id,
                                   Case.verdict_requested_on.is_not(None)).limit(1))
    return asking is not None and session.scalar(select(WorkerVerdict.id).where(
        WorkerVerdict.case_id == asking, WorkerVerdict.report_id == report_id).limit(1)) is None


NUDGE_CLAIM = "claim-"  # + hex: a job is sending the notice (``OutboundMessage.nudge_sid``)


def nudge_held(outbound_id: str) -> None:
    """WhatsApp refused a text because the worker last wrote more than 24 hours ago: send
    them the approved notice (a template, the only text WhatsApp lets through then) and make
    their next message release the held texts (the conversation's window step).

    One notice per text at most, as with the texts themselves: the claim is committed before
    Twilio is called, and a job that finds a claim stops. A worker who is writing to us right
    now (a new report under way) needs no notice: the text is queued again, and the claim
    spent, so a second refusal fails it for good instead of going round again.
    """
    settings = settings_of()
    client = twilio_client()  # without an account, fail before claiming: the job is retried
    claim = NUDGE_CLAIM + uuid.uuid4().hex
    with database_of().transaction() as session:
        outbound = session.get(OutboundMessage, uuid.UUID(outbound_id), with_for_update=True)
        if outbound is None or outbound.status is not OutboundStatus.HELD \
                or outbound.nudge_sid is not None:
            return
        report = session.get(Report, outbound.report_id)
        template = settings.whatsapp_template(report.language) if report else None
        if report is None or report.contact_sealed is None or template is None:
            outbound.status = OutboundStatus.FAILED  # its error code still says why
            return
        contact = open_contact(report, _courier())
        if not contact.whatsapp:
            outbound.status = OutboundStatus.FAILED
            return
        if opted_out(session, contact.number, pepper=settings.pepper,
                     retired=settings.retired_peppers):
            outbound.status = OutboundStatus.OPTED_OUT
            return
        sender = _our_number(session, report, wrote_to=contact.wrote_to)
        outbound.nudge_sid = claim
        waiting = await_window(session, tag=sender_tag(settings.pepper, contact.number),
                               report_id=report.id, inbound_number=sender,
                               language=report.language, now=dt.datetime.now(dt.UTC),
                               zawgyi=contact.zawgyi)
        if not waiting:
            outbound.status = OutboundStatus.QUEUED
        number = contact.number
    if not waiting:
        jobs_of().enqueue(SEND_TEXT_JOB, outbound_id=outbound_id)
        return
    _send_notice(client, outbound_id, claim, to=f"whatsapp:{number}",
                 from_=f"whatsapp:{sender}", template=template)


def _send_notice(client: Client, outbound_id: str, claim: str, *, to: str, from_: str,
                 template: str) -> None:
    """Call Twilio for the notice claimed as ``claim``; record its sid. Twilio's refusal
    (an answer, so nothing was sent) gives the claim back and raises: the job is retried."""
    try:
        sid = client.messages.create(
            to=to, from_=from_, content_sid=template,
            status_callback=settings_of().public_url + "/twilio/sms/status").sid
    except TwilioRestException as error:
        code = str(error.code)
        final = refused_as(code)  # the held text cannot reach the worker either
        with database_of().transaction() as session:
            outbound = session.get(OutboundMessage, uuid.UUID(outbound_id), with_for_update=True)
            if outbound is not None and outbound.nudge_sid == claim:
                if final is None:
                    outbound.nudge_sid = None
                else:
                    outbound.status = final
                    if final is OutboundStatus.FAILED:
                        outbound.error_code = code
        if final is not None:
            return
        raise RuntimeError(f"Twilio refused the notice (status {error.status})") from None
    except (TwilioException, OSError):  # sent or not, we cannot tell: never a second one
        _not_sent("notice_unconfirmed")
        raise RuntimeError("Twilio did not answer about the notice") from None
    with database_of().transaction() as session:
        outbound = session.get(OutboundMessage, uuid.UUID(outbound_id), with_for_update=True)
        if outbound is not None and outbound.nudge_sid == claim:
            outbound.nudge_sid = sid
    log.info("notice sent", extra={"job": NUDGE_JOB, "event": "held_text"})


RECENT_AT_TWILIO = 50  # texts to one number looked through when an attempt is resumed


def _found_at_twilio(session: Session, client: Client, text: _Text) -> str | None:
    """The sid of this very text if Twilio already has it: to the same number, from our
    number, created since it was queued, with the same words, and not recorded as another
    of our texts (two identical replies to one worker stay two)."""
    since = text.queued_at - dt.timedelta(minutes=1)
    try:
        listed = client.messages.list(to=text.to, from_=text.from_, limit=RECENT_AT_TWILIO)
    except (TwilioException, OSError):  # its message may quote the URL, which holds the number
        raise RuntimeError("Twilio's list of recent texts could not be read") from None
    candidates = [m.sid for m in listed
                  if m.body == text.body and (m.date_created is None or m.date_created >= since)]
    if not candidates:
        return None
    taken = set(session.scalars(select(OutboundMessage.provider_sid).where(
        OutboundMessage.provider_sid.in_(candidates))))
    return next((sid for sid in candidates if sid not in taken), None)


def _our_number(session: Session, report: Report, *, wrote_to: str | None = None) -> str:
    """The number the worker wrote to, while we still operate it (their phone keeps our
    texts in one thread, and a WhatsApp text must come from a WhatsApp number); else the
    inbound number of the report's country, else the first one we operate."""
    if wrote_to is not None and session.get(SmsNumber, wrote_to) is not None:
        return wrote_to
    country = None
    if report.facility_id is not None:
        facility = session.get(Facility, report.facility_id)
        country = facility.country if facility else None
    number = None
    if country:
        number = session.scalar(select(SmsNumber.number).where(SmsNumber.country == country))
    number = number or session.scalar(select(SmsNumber.number).order_by(SmsNumber.number))
    if number is None:
        raise ConfigError("no inbound SMS number is configured to send from")
    return number


def sweep_deletions(batch: int = 500) -> None:
    """Ask Twilio to delete the messages it still keeps, oldest first: those workers sent
    us, and ours once Twilio lets us (``not_before``).

    Queued after inbound messages (coalesced: one waiting sweep at a time) and every few
    minutes (``intake.schedule``); a sweep that could not delete everything raises, so the
    job is retried with backoff until Twilio holds none. Without a Twilio account
    (``intake sms-sim`` on the embedded default) the messages never reached Twilio, so there
    is nothing to delete there.
    """
    coalesced_started("channels.sms.outbound.sweep_deletions")
    now = dt.datetime.now(dt.UTC)
    with database_of().transaction() as session:
        # SKIP LOCKED: two workers sweeping at once never delete (or count) a message twice.
        pending = list(session.scalars(
            select(PendingDeletion)
            .where(or_(PendingDeletion.not_before.is_(None), PendingDeletion.not_before <= now))
            .order_by(PendingDeletion.created_at).limit(batch)
            .with_for_update(skip_locked=True)))
        if not pending:
            return
        if not settings_of().twilio_account_sid:
            for row in pending:
                session.delete(row)
            return
        client = twilio_client()
        failed = 0
        for row in pending:
            row.attempts += 1
            deleted = True
            try:
                client.messages(row.provider_sid).delete()
            except TwilioRestException as error:
                if error.status != NOT_FOUND:  # gone already is as good as deleted
                    failed += 1
                    continue
                deleted = False
            gone = session.execute(delete(PendingDeletion).where(PendingDeletion.id == row.id))
            if not getattr(gone, "rowcount", 0):  # another sweep took it meanwhile
                continue
            if not row.outbound:
                count(session, DELETED_COUNTER)
            elif deleted:  # ours may be asked for twice (a callback after the deletion)
                count(session, OUTBOUND_DELETED_COUNTER)
    if failed:
        raise RuntimeError(f"Twilio did not delete {failed} message(s); retrying later")


# The safety net behind the deletions queued message by message: what Twilio still lists a
# week after it was sent is deleted too. A message silenced under a flood (never sealed,
# so never queued), a text whose callbacks never came, texts from before ours were deleted.
# A week: far beyond any retry of a text's job, which may look for its text at Twilio.
LEFT_AFTER = dt.timedelta(days=7)
LEFT_BATCH = 1000  # messages listed per number and direction in one run
SWEEP_LEFT_JOB = "channels.sms.outbound.sweep_left_at_twilio"


def sweep_left_at_twilio() -> None:
    """Queue for deletion every message to or from our numbers (SMS and WhatsApp) that
    Twilio still lists ``LEFT_AFTER`` after it was sent; the deletion sweep does the rest.
    Daily (``intake.schedule``); nothing without a Twilio account."""
    coalesced_started(SWEEP_LEFT_JOB)
    if not settings_of().twilio_account_sid:
        return
    client = twilio_client()
    now = dt.datetime.now(dt.UTC)
    with database_of().transaction() as session:
        numbers = list(session.scalars(select(SmsNumber.number)))
    found: dict[str, bool] = {}  # sid -> sent by us
    for number in numbers:
        for address in (number, f"whatsapp:{number}"):
            for ours in (False, True):
                direction = {"from_": address} if ours else {"to": address}
                try:
                    listed = client.messages.list(date_sent_before=now - LEFT_AFTER,
                                                  limit=LEFT_BATCH, **direction)
                except (TwilioException, OSError):  # its message may quote a number
                    raise RuntimeError("Twilio's list of messages could not be read") from None
                found.update((message.sid, ours) for message in listed if message.sid)
    with database_of().transaction() as session:
        for sid, ours in found.items():
            delete_at_twilio_later(session.connection(), sid, now=now, outbound=ours,
                                   pause=False)
    if found:
        jobs_of().enqueue_coalesced("channels.sms.outbound.sweep_deletions")
        log.info("left at Twilio", extra={"job": SWEEP_LEFT_JOB, "count": len(found)})


def release_held(tag: str) -> None:
    """The worker answered WhatsApp's notice (``RELEASE_JOB``): their window is open, so
    every text held for them goes out, whichever report it is of. A worker with two reports
    may have a text held for each, and a notice for each, and answer only the last (their
    conversation waits for one report at a time). Held texts are few (two weeks at most,
    ``expire_held``); only the courier can tell which of them are this worker's."""
    settings = settings_of()
    courier = _courier()
    with database_of().transaction() as session:
        if session.get(OptOut, tag) is not None:  # STOP in answer: ``forget_number`` cancels
            return
        held = session.execute(
            select(OutboundMessage, Report).join(Report, Report.id == OutboundMessage.report_id)
            .where(OutboundMessage.status == OutboundStatus.HELD,
                   Report.contact_sealed.is_not(None))
            .order_by(OutboundMessage.created_at, OutboundMessage.id)
            .with_for_update(of=OutboundMessage)).all()
        released = []
        for outbound, report in held:
            if _sender_of(report, courier, settings.pepper) == tag:
                outbound.status = OutboundStatus.QUEUED
                released.append(str(outbound.id))
    for outbound_id in released:  # queued in the order they were written
        jobs_of().enqueue(SEND_TEXT_JOB, outbound_id=outbound_id)


def _sender_of(report: Report, courier: PrivateKey, pepper: bytes) -> str:
    """The sender_tag of the number sealed with ``report`` (it must have one)."""
    return sender_tag(pepper, open_contact(report, courier).number)


def forget_number(tag: str, stopped_at: str | None = None) -> None:
    """After STOP: erase every sealed copy of that sender's number and cancel owed texts.

    Reports do not say which number wrote them; only the courier can open the sealed
    numbers and compare their tags, so this runs where the courier key is. ``stopped_at``
    (ISO 8601): when the STOP came. A number kept after it stays: the worker said START
    since, and gave it again for a new report, before this job ran.
    """
    settings = settings_of()
    stopped = dt.datetime.fromisoformat(stopped_at) if stopped_at else None
    courier = _courier()
    with database_of().transaction() as session:
        rows = session.scalars(select(Report).where(Report.contact_sealed.is_not(None)))
        for report in rows:
            if report.contact_sealed is None:
                continue
            contact = open_contact(report, courier)
            if sender_tag(settings.pepper, contact.number) != tag or (
                    stopped is not None and contact.kept_at is not None
                    and contact.kept_at > stopped):
                continue
            report.contact_sealed = None
            report.contact_consent = False
            for outbound in session.scalars(select(OutboundMessage).where(
                    OutboundMessage.report_id == report.id,
                    OutboundMessage.status.in_(OWED))):
                outbound.status = OutboundStatus.OPTED_OUT
