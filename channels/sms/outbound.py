"""Jobs that talk to Twilio's REST API: send a text, delete an inbound message, forget a
number. They run in ``intake worker`` (or on the embedded default's job thread), hold the
courier key, and carry ids only in their payloads.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from crypto.envelope import open_sealed
from crypto.keys import PrivateKey
from crypto.pseudonyms import sender_tag
from intake.accounts.models import SmsNumber
from intake.errors import ConfigError
from intake.ext import database_of, settings_of
from intake.jobs import coalesced_started
from intake.messaging.conversation import await_verdict
from intake.messaging.models import OutboundMessage, OutboundStatus, PendingDeletion
from intake.messaging.outbound import OPTED_OUT_AT_CARRIER, count
from intake.remedy.verdicts import VERDICT_KIND, question_text
from intake.reports.models import Report, ReportMessage
from intake.reports.service import contact_context, message_context
from intake.rotation.optouts import opted_out
from intake.supplychain.models import Facility

DELETED_COUNTER = "twilio_inbound_deleted"
NOT_FOUND = 404


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


def send_outbound(outbound_id: str) -> None:
    """Send one owed text; record opt-outs for good, raise on other failures (retried).

    A desk reply is opened from its sealed message. The verdict question (``VERDICT_KIND``)
    has no message: it is written here in the report's language, and the worker's SMS
    conversation is put into its verdict step, keyed by the tag only this job can compute.
    """
    settings = settings_of()
    with database_of().transaction() as session:
        outbound = session.get(OutboundMessage, uuid.UUID(outbound_id))
        if outbound is None or outbound.status is not OutboundStatus.QUEUED:
            return
        report = session.get(Report, outbound.report_id)
        message = session.get(ReportMessage, outbound.message_id) if outbound.message_id else None
        asks_verdict = outbound.kind == VERDICT_KIND
        if report is None or report.contact_sealed is None or (
                message is None and not asks_verdict):
            outbound.status = OutboundStatus.FAILED
            return
        courier = _courier()
        number = open_sealed(report.contact_sealed, courier,
                             context=contact_context(report.id)).decode("ascii")
        tag = sender_tag(settings.pepper, number)
        if opted_out(session, number, pepper=settings.pepper, retired=settings.retired_peppers):
            outbound.status = OutboundStatus.OPTED_OUT
            return
        if message is not None:
            text = open_sealed(message.body_sealed, courier,
                               context=message_context(report.id, message.id)).decode()
        else:
            text = question_text(session, report)
        sender = _our_number(session, report)
        outbound.attempts += 1
        try:
            sent = twilio_client().messages.create(
                to=number, from_=sender, body=text,
                status_callback=settings.public_url + "/twilio/sms/status",
            )
        except TwilioRestException as error:
            if str(error.code) == OPTED_OUT_AT_CARRIER:
                outbound.status = OutboundStatus.OPTED_OUT
                return
            raise RuntimeError(f"Twilio refused the text (status {error.status})") from None
        outbound.provider_sid = sent.sid
        outbound.status = OutboundStatus.SENT
        if asks_verdict:
            await_verdict(session, tag=tag, report_id=report.id, inbound_number=sender,
                          language=report.language, now=dt.datetime.now(dt.UTC))


def _our_number(session: Session, report: Report) -> str:
    """The inbound number of the report's country, else the first one we operate."""
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
    """Ask Twilio to delete the inbound messages it still keeps, oldest first.

    Queued after inbound messages (coalesced: one waiting sweep at a time); a sweep that
    could not delete everything raises, so the job is retried with backoff until Twilio
    holds none. Without a Twilio account (``intake sms-sim`` on the embedded default) the
    messages never reached Twilio, so there is nothing to delete there.
    """
    coalesced_started("channels.sms.outbound.sweep_deletions")
    with database_of().transaction() as session:
        # SKIP LOCKED: two workers sweeping at once never delete (or count) a message twice.
        pending = list(session.scalars(
            select(PendingDeletion).order_by(PendingDeletion.created_at).limit(batch)
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
            try:
                client.messages(row.provider_sid).delete()
            except TwilioRestException as error:
                if error.status != NOT_FOUND:  # gone already is as good as deleted
                    failed += 1
                    continue
            gone = session.execute(delete(PendingDeletion).where(PendingDeletion.id == row.id))
            if getattr(gone, "rowcount", 0):  # another sweep may have taken it meanwhile
                count(session, DELETED_COUNTER)
    if failed:
        raise RuntimeError(f"Twilio did not delete {failed} message(s); retrying later")


def forget_number(tag: str) -> None:
    """After STOP: erase every sealed copy of that sender's number and cancel owed texts.

    Reports do not say which number wrote them; only the courier can open the sealed
    numbers and compare their tags, so this runs where the courier key is.
    """
    settings = settings_of()
    courier = _courier()
    with database_of().transaction() as session:
        rows = session.scalars(select(Report).where(Report.contact_sealed.is_not(None)))
        for report in rows:
            if report.contact_sealed is None:
                continue
            number = open_sealed(report.contact_sealed, courier,
                                 context=contact_context(report.id)).decode("ascii")
            if sender_tag(settings.pepper, number) != tag:
                continue
            report.contact_sealed = None
            report.contact_consent = False
            for outbound in session.scalars(select(OutboundMessage).where(
                    OutboundMessage.report_id == report.id,
                    OutboundMessage.status == OutboundStatus.QUEUED)):
                outbound.status = OutboundStatus.OPTED_OUT
