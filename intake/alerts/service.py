"""Alerting buyers about a case: routing to every buyer whose contract covers the workplace on
the day, the re-identification gate, the k gate on counts, the batch time, and buyers'
webhook endpoints (their signing secrets sealed under a key derived from the app secret).

Every function runs in the caller's transaction: the view commits once, or rolls back.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crypto.keys import PrivateKey
from crypto.pseudonyms import open_with_key, seal_with_key
from crypto.subkeys import derive_subkey
from intake.accounts.models import Desk
from intake.alerts.models import Alert, BuyerWebhook, DeliveryAttempt, DeliveryChannel
from intake.audit.service import record
from intake.cases import service as cases
from intake.cases.models import Case, CaseReport, CaseStatus
from intake.cases.service import CaseNotFound, CaseRejected
from intake.errors import IntakeError
from intake.supplychain.models import BuyerOrg, Contract, Facility

# Worker-count bands small enough that one report may point at one person (DESIGN 2).
SMALL_BANDS = frozenset({"1-99", "100-499"})
WEBHOOK_PURPOSE = "webhook secrets v1"
WEBHOOK_SECRET_BYTES = 24
MAX_WEBHOOK_URL = 500


class AlertRejected(IntakeError):
    """The case cannot be alerted (or the buyer added); the message says why."""


class ReidentificationRisk(AlertRejected):
    """One report from a small workplace: the monitor must confirm the warning first."""


class WebhookRejected(IntakeError):
    """The webhook endpoint is not acceptable; the message says why."""


# --- the k gate and the batch time ----------------------------------------------------------


def shown_count(count: int, k: int) -> str:
    """A count as buyers may see it: the number, or "fewer than k" below the threshold."""
    return str(count) if count >= k else f"fewer than {k}"


def next_batch(now: dt.datetime, batch_hour: int) -> dt.datetime:
    """The desk's batch time on the day after ``now`` (UTC): never the day, let alone the
    minute, a case was alerted."""
    day = now.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour=batch_hour % 24), tzinfo=dt.UTC)


# --- routing --------------------------------------------------------------------------------


def covering_contracts(session: Session, *, facility_id: int,
                       day: dt.date) -> list[tuple[BuyerOrg, Contract]]:
    """Contracts covering the workplace on ``day`` (started, not ended), with their buyers."""
    return [(org, contract) for org, contract in session.execute(
        select(BuyerOrg, Contract).join(Contract, Contract.buyer_id == BuyerOrg.id)
        .where(Contract.facility_id == facility_id, Contract.starts_on <= day,
               or_(Contract.ends_on.is_(None), Contract.ends_on >= day))
        .order_by(BuyerOrg.name, Contract.starts_on))]


def covering_buyers(session: Session, *, facility_id: int, day: dt.date) -> list[BuyerOrg]:
    """Each buyer with a contract covering the workplace on ``day``, once."""
    buyers: dict[int, BuyerOrg] = {}
    for org, _contract in covering_contracts(session, facility_id=facility_id, day=day):
        buyers.setdefault(org.id, org)
    return list(buyers.values())


def report_count(session: Session, case_id: uuid.UUID) -> int:
    return session.scalar(select(func.count()).select_from(CaseReport).where(
        CaseReport.case_id == case_id)) or 0


def small_workplace(facility: Facility) -> bool:
    """Small or unknown worker-count band: one report may identify its author."""
    band = (facility.worker_band or "").strip()
    return not band or band in SMALL_BANDS


def reidentification_risk(session: Session, case: Case) -> bool:
    facility = session.get_one(Facility, case.facility_id)
    return report_count(session, case.id) == 1 and small_workplace(facility)


def _case(session: Session, desk_id: int, case_id: uuid.UUID, *, lock: bool = False) -> Case:
    case = session.get(Case, case_id, with_for_update=lock or None)
    if case is None or case.desk_id != desk_id:
        raise CaseNotFound("no such case in this desk")
    return case


def _gate(session: Session, case: Case, *, desk_key: PrivateKey, actor_id: int,
          confirm_reidentification: bool) -> None:
    """What must hold before anything about the case reaches a buyer."""
    if case.status in cases.CLOSED:
        raise AlertRejected("the case is closed")
    if reidentification_risk(session, case) and not confirm_reidentification:
        raise ReidentificationRisk(
            "this case has a single report from a small workplace, so buyers (and the "
            "employer) may recognise who wrote it: confirm the warning to alert anyway")
    if case.status is CaseStatus.OPEN:
        try:
            cases.set_status(session, desk_id=case.desk_id, case_id=case.id,
                             status=CaseStatus.ALERTED, desk_key=desk_key, actor_id=actor_id)
        except CaseRejected as exc:
            raise AlertRejected(str(exc)) from None


def _new_alert(session: Session, case: Case, org_id: int, *, now: dt.datetime, count: int,
               by_hand: bool, confirmed: bool) -> Alert:
    desk = session.get_one(Desk, case.desk_id)
    alert = Alert(id=uuid.uuid4(), case_id=case.id, buyer_org_id=org_id,
                  deliver_after=next_batch(now, desk.alert_batch_hour), report_count=count,
                  added_by_hand=by_hand, reidentification_confirmed=confirmed)
    session.add(alert)
    return alert


def _alerted_orgs(session: Session, case_id: uuid.UUID) -> set[int]:
    return set(session.scalars(select(Alert.buyer_org_id).where(Alert.case_id == case_id)))


def alert_case(
    session: Session, *, desk_id: int, case_id: uuid.UUID, desk_key: PrivateKey,
    actor_id: int, now: dt.datetime, confirm_reidentification: bool = False,
) -> list[Alert]:
    """Alert every buyer with a contract covering the case's workplace today (one alert per
    buyer organisation, delivered with the desk's next batch). Needs the reviewed, approved
    summary; alerting again later reaches only buyers not alerted yet."""
    case = _case(session, desk_id, case_id)
    _gate(session, case, desk_key=desk_key, actor_id=actor_id,
          confirm_reidentification=confirm_reidentification)
    day = now.astimezone(dt.UTC).date()
    done = _alerted_orgs(session, case.id)
    buyers = [org for org in covering_buyers(session, facility_id=case.facility_id, day=day)
              if org.id not in done]
    if not buyers and not done:
        raise AlertRejected("no buyer has a contract covering this workplace today: add a "
                            "buyer by hand")
    count = report_count(session, case.id)
    confirmed = confirm_reidentification and reidentification_risk(session, case)
    alerts = [_new_alert(session, case, org.id, now=now, count=count, by_hand=False,
                         confirmed=confirmed) for org in buyers]
    if case.alerted_on is None:
        case.alerted_on = day
    session.flush()
    record(session, "case.alert", actor_id=actor_id, desk_id=desk_id, object_type="case",
           object_id=case.id, detail=f"buyers={len(alerts)} reports={count}"
                                     f"{' reidentification_confirmed=yes' if confirmed else ''}")
    return alerts


def add_buyer_by_hand(
    session: Session, *, desk_id: int, case_id: uuid.UUID, buyer_org_id: int,
    desk_key: PrivateKey, actor_id: int, now: dt.datetime,
    confirm_reidentification: bool = False,
) -> Alert:
    """Alert one buyer the contracts do not name (the desk knows they buy there). The case
    row is locked first: the same buyer added twice at once (a double click) is then
    checked in turn, and the second is told the buyer was alerted already."""
    case = _case(session, desk_id, case_id, lock=True)
    org = session.get(BuyerOrg, buyer_org_id)
    if org is None:
        raise AlertRejected("choose a buyer from the list")
    if org.id in _alerted_orgs(session, case.id):
        raise AlertRejected(f"{org.name} has already been alerted about this case")
    _gate(session, case, desk_key=desk_key, actor_id=actor_id,
          confirm_reidentification=confirm_reidentification)
    count = report_count(session, case.id)
    confirmed = confirm_reidentification and reidentification_risk(session, case)
    alert = _new_alert(session, case, org.id, now=now, count=count, by_hand=True,
                       confirmed=confirmed)
    if case.alerted_on is None:
        case.alerted_on = now.astimezone(dt.UTC).date()
    session.flush()
    record(session, "alert.add_buyer", actor_id=actor_id, desk_id=desk_id,
           object_type="case", object_id=case.id,
           detail=f"buyer_org={org.id} alert={alert.id}")
    return alert


# --- what the desk's case page shows ----------------------------------------------------------


@dataclass(frozen=True)
class CoveringContract:
    buyer: str
    starts_on: dt.date
    ends_on: dt.date | None
    product_category: str | None


@dataclass(frozen=True)
class AlertState:
    buyer: str
    added_by_hand: bool
    deliver_after: dt.datetime
    delivered_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    webhook_attempts: int
    webhook_failed: int
    webhook_last_error: str | None
    email_ok: bool | None  # None: no digest attempt yet


@dataclass(frozen=True)
class AlertPanel:
    coverage: list[CoveringContract]
    alerts: list[AlertState]
    others: list[BuyerOrg]  # buyers that can be added by hand
    reports: int
    reports_shown: str
    k: int
    risk: bool
    worker_band: str | None
    can_alert: bool
    closed: bool


def alert_panel(session: Session, *, case: Case, today: dt.date) -> AlertPanel:
    desk = session.get_one(Desk, case.desk_id)
    facility = session.get_one(Facility, case.facility_id)
    coverage = [CoveringContract(org.name, c.starts_on, c.ends_on, c.product_category)
                for org, c in covering_contracts(session, facility_id=facility.id, day=today)]
    rows = session.execute(select(Alert, BuyerOrg.name)
                           .join(BuyerOrg, BuyerOrg.id == Alert.buyer_org_id)
                           .where(Alert.case_id == case.id).order_by(BuyerOrg.name)).all()
    alert_ids = [alert.id for alert, _name in rows]
    hooks: dict[uuid.UUID, list[DeliveryAttempt]] = defaultdict(list)
    for attempt in session.scalars(select(DeliveryAttempt).where(
            DeliveryAttempt.alert_id.in_(alert_ids),
            DeliveryAttempt.channel == DeliveryChannel.WEBHOOK).order_by(DeliveryAttempt.id)):
        if attempt.alert_id is not None:
            hooks[attempt.alert_id].append(attempt)
    states = []
    for alert, name in rows:
        attempts = hooks.get(alert.id, [])
        states.append(AlertState(
            buyer=name, added_by_hand=alert.added_by_hand, deliver_after=alert.deliver_after,
            delivered_at=alert.delivered_at, acknowledged_at=alert.acknowledged_at,
            webhook_attempts=len(attempts), webhook_failed=sum(not a.ok for a in attempts),
            webhook_last_error=attempts[-1].error if attempts and not attempts[-1].ok else None,
            email_ok=_digest_ok(session, alert)))
    alerted = {alert.buyer_org_id for alert, _name in rows}
    others = [org for org in session.scalars(select(BuyerOrg).order_by(BuyerOrg.name))
              if org.id not in alerted]
    count = report_count(session, case.id)
    closed = case.status in cases.CLOSED
    return AlertPanel(
        coverage=coverage, alerts=states, others=others, reports=count,
        reports_shown=shown_count(count, desk.k_threshold), k=desk.k_threshold,
        risk=count == 1 and small_workplace(facility), worker_band=facility.worker_band,
        can_alert=not closed and case.summary_approved is not None, closed=closed)


def _digest_ok(session: Session, alert: Alert) -> bool | None:
    if alert.delivered_at is None:
        return None
    last = session.scalar(select(DeliveryAttempt).where(
        DeliveryAttempt.buyer_org_id == alert.buyer_org_id,
        DeliveryAttempt.channel == DeliveryChannel.EMAIL,
        DeliveryAttempt.attempted_at >= alert.delivered_at)
        .order_by(DeliveryAttempt.ok.desc(), DeliveryAttempt.id.desc()).limit(1))
    return None if last is None else last.ok


# --- buyers' webhook endpoints ----------------------------------------------------------------


def webhook_context(webhook_id: int) -> bytes:
    return f"buyer-webhook/{webhook_id}/secret".encode()


def _webhook_key(secret_key: bytes) -> bytes:
    return derive_subkey(secret_key, purpose=WEBHOOK_PURPOSE)


def validate_webhook_url(url: str) -> str:
    """An absolute http(s) URL with a host, no credentials, no spaces, at most 500 chars."""
    url = url.strip()
    if not url:
        raise WebhookRejected("give the endpoint's URL")
    if len(url) > MAX_WEBHOOK_URL:
        raise WebhookRejected(f"a URL can have at most {MAX_WEBHOOK_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise WebhookRejected("a URL cannot contain spaces")
    parsed = urlsplit(url)
    try:
        port_ok = parsed.port != 0
    except ValueError:
        port_ok = False
    if parsed.scheme not in ("https", "http") or not parsed.hostname or not port_ok:
        raise WebhookRejected("the URL must start with https:// (or http://) and name a host")
    if parsed.username is not None or parsed.password is not None:
        raise WebhookRejected("put no user name or password in the URL")
    return url


def create_webhook(session: Session, *, buyer_org_id: int, url: str, secret_key: bytes,
                   actor_id: int | None = None) -> tuple[BuyerWebhook, str]:
    """A new endpoint for the buyer organisation, and its signing secret (``whsec_...``),
    shown to the buyer once: we keep it only sealed."""
    url = validate_webhook_url(url)
    if session.get(BuyerOrg, buyer_org_id) is None:
        raise WebhookRejected("no such buyer organisation")
    raw = secrets.token_bytes(WEBHOOK_SECRET_BYTES)
    hook = BuyerWebhook(buyer_org_id=buyer_org_id, url=url, secret_sealed=b"", enabled=True)
    session.add(hook)
    session.flush()
    hook.secret_sealed = seal_with_key(_webhook_key(secret_key), raw,
                                       context=webhook_context(hook.id))
    record(session, "webhook.create", actor_id=actor_id, desk_id=None,
           object_type="buyer_webhook", object_id=hook.id, detail=f"buyer_org={buyer_org_id}")
    session.flush()
    return hook, "whsec_" + base64.b64encode(raw).decode("ascii")


def webhook_secret(hook: BuyerWebhook, *, secret_key: bytes) -> bytes:
    """The raw signing secret of an endpoint (for signing only, never shown again)."""
    return open_with_key(_webhook_key(secret_key), hook.secret_sealed,
                         context=webhook_context(hook.id))
