"""Delivering alerts in batches: the batch job marks due alerts delivered and queues, per
buyer organisation, a digest e-mail (that there are new alerts, and a link: never a word of
a case) and one signed webhook call per alert and endpoint (Standard Webhooks).

Each call is its own job that records its attempt and raises on failure, so the queue retries
it with backoff; the webhook-id / digest id stays the same across retries.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from intake.accounts.models import Desk
from intake.alerts.models import Alert, BuyerWebhook, DeliveryAttempt, DeliveryChannel
from intake.alerts.service import shown_count, webhook_secret
from intake.cases.models import Case
from intake.db import utcnow
from intake.errors import IntakeError
from intake.ext import database_of, jobs_of, settings_of
from intake.jobs import coalesced_started
from intake.settings import Settings
from intake.supplychain.models import BuyerOrg, Facility

SMTP_TIMEOUT = 20.0
MAX_ERROR = 100
USER_AGENT = "worker-voice-intake-webhooks/1"
log = logging.getLogger("intake.alerts")


class DeliveryFailed(IntakeError):
    """One delivery attempt failed (recorded); raised so the job queue retries it."""


@dataclass(frozen=True)
class Batch:
    buyer_org_id: int
    alert_ids: list[uuid.UUID]
    webhook_ids: list[int]


# --- the batch ------------------------------------------------------------------------------


def mark_due(session: Session, *, now: dt.datetime) -> list[Batch]:
    """Mark every alert whose batch time has come as delivered; what to send, per buyer."""
    due = list(session.scalars(
        select(Alert).where(Alert.delivered_at.is_(None), Alert.deliver_after <= now)
        .order_by(Alert.buyer_org_id, Alert.created_at, Alert.id).with_for_update()))
    by_org: dict[int, list[uuid.UUID]] = {}
    for alert in due:
        alert.delivered_at = now
        by_org.setdefault(alert.buyer_org_id, []).append(alert.id)
    hooks: dict[int, list[int]] = {}
    for hook_id, org_id in session.execute(
            select(BuyerWebhook.id, BuyerWebhook.buyer_org_id).where(
                BuyerWebhook.buyer_org_id.in_(list(by_org)), BuyerWebhook.enabled.is_(True))
            .order_by(BuyerWebhook.id)):
        hooks.setdefault(org_id, []).append(hook_id)
    session.flush()
    return [Batch(org_id, ids, hooks.get(org_id, [])) for org_id, ids in by_org.items()]


def deliver_due(now: dt.datetime | None = None) -> int:
    """The batch job (queue it every hour, e.g. ``enqueue_coalesced`` from a scheduler):
    deliver every alert whose batch time has come. Returns how many alerts were delivered.

    The sends are queued inside the transaction that marks the alerts delivered: if the
    queue cannot take them, nothing is marked and the next run tries again (a job that ran
    meanwhile is not repeated for webhooks: their id marks them done)."""
    coalesced_started("intake.alerts.delivery.deliver_due")
    when = now or utcnow()
    queue = jobs_of()
    with database_of().transaction() as session:
        batches = mark_due(session, now=when)
        for batch in batches:
            queue.enqueue("intake.alerts.delivery.send_digest", org_id=batch.buyer_org_id,
                          digest_id=f"digest_{uuid.uuid4().hex}", count=len(batch.alert_ids))
            for alert_id in batch.alert_ids:
                for webhook_id in batch.webhook_ids:
                    queue.enqueue("intake.alerts.delivery.deliver_webhook",
                                  alert_id=str(alert_id), webhook_id=webhook_id)
    return sum(len(batch.alert_ids) for batch in batches)


def _record(*, org_id: int, alert_id: uuid.UUID | None, channel: DeliveryChannel,
            message_id: str, ok: bool, status_code: int | None = None,
            error: str | None = None) -> None:
    with database_of().transaction() as session:
        session.add(DeliveryAttempt(
            buyer_org_id=org_id, alert_id=alert_id, channel=channel, message_id=message_id,
            attempted_at=utcnow(), status_code=status_code, ok=ok,
            error=error[:MAX_ERROR] if error else None))


def _already_done(session: Session, message_id: str) -> bool:
    return session.scalar(select(DeliveryAttempt.id).where(
        DeliveryAttempt.message_id == message_id, DeliveryAttempt.ok.is_(True)).limit(1)) \
        is not None


# --- the digest e-mail ------------------------------------------------------------------------


def digest_message(settings: Settings, *, to: str, count: int, digest_id: str) -> EmailMessage:
    """Only that there are new alerts and where to read them: no summary, workplace,
    category or any other word of a case (an inbox is not the portal)."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = "New alerts in the Worker Voice buyer portal"
    message["Message-ID"] = make_msgid(idstring=digest_id, domain="intake.invalid")
    noun = "a new alert" if count == 1 else f"{count} new alerts"
    message.set_content(
        f"Your organisation has {noun} from a worker voice monitoring desk.\n\n"
        f"Sign in to the buyer portal to read {'it' if count == 1 else 'them'}:\n"
        f"{settings.public_url}/buyer/\n\n"
        "This e-mail carries no details on purpose.\n")
    return message


def send_mail(settings: Settings, message: EmailMessage) -> None:
    """Send through ``INTAKE_SMTP_URL``: smtps:// is TLS from the start; smtp:// upgrades
    with STARTTLS when the server offers it."""
    if not settings.smtp_url:
        raise DeliveryFailed("smtp_not_configured")
    url = urlsplit(settings.smtp_url)
    host = url.hostname or ""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(host, url.port or 465, timeout=SMTP_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, url.port or 25, timeout=SMTP_TIMEOUT)
    with smtp:
        smtp.ehlo()
        if url.scheme == "smtp" and smtp.has_extn("starttls"):
            smtp.starttls(context=context)
            smtp.ehlo()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)


def _smtp_error(exc: Exception) -> tuple[int | None, str]:
    if isinstance(exc, DeliveryFailed):
        return None, str(exc)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, "smtp_refused"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return None, "smtp_recipient_refused"
    if isinstance(exc, TimeoutError):
        return None, "smtp_timeout"
    if isinstance(exc, smtplib.SMTPException):
        return None, "smtp_error"
    return None, "smtp_unreachable"


def send_digest(org_id: int, digest_id: str, count: int) -> None:
    """Job: the daily digest to the buyer organisation's contact address."""
    settings = settings_of()
    with database_of().transaction() as session:
        org = session.get(BuyerOrg, org_id)
        if org is None or _already_done(session, digest_id):
            return
        to = org.contact_email
    if not to:
        _record(org_id=org_id, alert_id=None, channel=DeliveryChannel.EMAIL,
                message_id=digest_id, ok=False, error="no_contact_email")
        return  # nothing to retry until the buyer gives an address; the portal has it all
    try:
        send_mail(settings, digest_message(settings, to=to, count=count, digest_id=digest_id))
    except (OSError, smtplib.SMTPException, DeliveryFailed) as exc:
        code, error = _smtp_error(exc)
        _record(org_id=org_id, alert_id=None, channel=DeliveryChannel.EMAIL,
                message_id=digest_id, ok=False, status_code=code, error=error)
        log.warning("digest not sent", extra={"event": error})
        raise DeliveryFailed(error) from None
    _record(org_id=org_id, alert_id=None, channel=DeliveryChannel.EMAIL, message_id=digest_id,
            ok=True, status_code=250)


# --- signed webhooks --------------------------------------------------------------------------


def webhook_message_id(alert_id: uuid.UUID, webhook_id: int) -> str:
    """The same id on every retry, so the buyer can drop duplicates."""
    return f"msg_{alert_id.hex}_{webhook_id}"


def alert_payload(session: Session, alert: Alert, *, public_url: str) -> dict[str, Any]:
    """What a buyer's system receives: the approved summary and counts after the k gate."""
    case = session.get_one(Case, alert.case_id)
    facility = session.get_one(Facility, case.facility_id)
    k = session.get_one(Desk, case.desk_id).k_threshold
    count = alert.report_count
    return {
        "type": "alert.created",
        "timestamp": (alert.delivered_at or utcnow()).isoformat(timespec="seconds"),
        "data": {
            "alert_id": str(alert.id),
            "category": case.category,
            "severity": case.severity.value,
            "month": case.opened_on.strftime("%Y-%m"),
            "facility": {"name": facility.name, "country": facility.country,
                         "os_id": facility.os_id},
            "reports": shown_count(count, k),
            "report_count": count if count >= k else None,
            "summary": case.summary_approved or "",
            "link": f"{public_url}/buyer/alerts/{alert.id}",
        },
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook answer that redirects is a failed delivery: we never follow it elsewhere."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def public_host(host: str, port: int) -> bool:
    """True if every address ``host`` resolves to is a public one: a buyer's endpoint must
    not make us call our own network (metadata services, Redis, the database)."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]).is_global for info in infos)


def post_signed(url: str, *, secret: bytes, message_id: str, body: str, timeout: float,
                allow_private: bool = False) -> tuple[int | None, str | None]:
    """POST ``body`` signed per Standard Webhooks; (status code, short error or None)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, "bad_url"
    default_port = 443 if parts.scheme == "https" else 80
    if not allow_private and not public_host(parts.hostname, parts.port or default_port):
        return None, "private_address"
    sent_at = dt.datetime.now(dt.UTC)
    signature = Webhook(secret).sign(message_id, sent_at, body)
    # S310: the scheme was checked to be http(s) above, and the host to be public.
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers={  # noqa: S310
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "webhook-id": message_id, "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status: int = response.status
    except urllib.error.HTTPError as exc:
        return exc.code, f"http_{exc.code}"
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            return None, "timeout"
        return None, "unreachable"
    except TimeoutError:
        return None, "timeout"
    except OSError:
        return None, "unreachable"
    if 200 <= status < 300:
        return status, None
    return status, f"http_{status}"


def deliver_webhook(alert_id: str, webhook_id: int) -> None:
    """Job: one alert to one of the buyer's endpoints; raises on failure so it is retried."""
    settings = settings_of()
    try:
        aid = uuid.UUID(alert_id)
    except ValueError:
        return
    message_id = webhook_message_id(aid, webhook_id)
    with database_of().transaction() as session:
        alert = session.get(Alert, aid)
        hook = session.get(BuyerWebhook, webhook_id)
        if (alert is None or hook is None or not hook.enabled
                or hook.buyer_org_id != alert.buyer_org_id or _already_done(session, message_id)):
            return
        url = hook.url
        org_id = alert.buyer_org_id
        secret = webhook_secret(hook, secret_key=settings.secret_key)
        body = json.dumps(alert_payload(session, alert, public_url=settings.public_url),
                          ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    status, error = post_signed(url, secret=secret, message_id=message_id, body=body,
                                timeout=settings.webhook_timeout,
                                allow_private=settings.webhook_allow_private)
    _record(org_id=org_id, alert_id=aid, channel=DeliveryChannel.WEBHOOK,
            message_id=message_id, ok=error is None, status_code=status, error=error)
    if error is not None:
        log.warning("webhook not delivered", extra={"event": error})
        raise DeliveryFailed(error)
