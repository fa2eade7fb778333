"""What a buyer organisation sees and does: its delivered alerts (counts through the k gate,
the approved summary, never a report), the other buyers of the same facility, the remedy
plan, its own actions and the buyers' shared thread of a case.

An alert that is not the organisation's, or not delivered yet, does not exist here: every
lookup raises ``AlertNotFound`` alike. Every function runs in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts.models import Desk
from intake.alerts.models import Alert, BuyerWebhook, ThreadMessage
from intake.alerts.service import shown_count
from intake.audit.service import record
from intake.cases.models import Case
from intake.db import today as utc_today
from intake.db import utcnow
from intake.errors import IntakeError
from intake.remedy import service as remedy
from intake.remedy.models import BuyerAction, BuyerActionKind, RemedyAction, Verdict
from intake.remedy.verdicts import remedied_but_no, shown_counts, verdict_counts
from intake.reports.models import Severity
from intake.supplychain.models import BuyerOrg, Facility


class AlertNotFound(IntakeError):
    """No such delivered alert for this buyer organisation (or no such thing in it)."""


@dataclass(frozen=True)
class AlertRow:
    id: uuid.UUID
    facility_name: str
    country: str
    category: str
    severity: Severity
    month: str  # YYYY-MM: never the day
    reports: str  # through the k gate
    acknowledged: bool


@dataclass(frozen=True)
class OtherBuyer:
    name: str
    contact_email: str | None


@dataclass(frozen=True)
class AlertPage:
    alert: Alert
    case: Case
    facility: Facility
    month: str
    reports: str
    other_buyers: int  # other organisations alerted about this facility
    named_buyers: list[OtherBuyer]  # those of them that share their identity
    plan: list[remedy.PlanItem]
    own_actions: list[remedy.BuyerActionItem]
    thread: list[remedy.ThreadItem]
    verdicts: dict[Verdict, str] | None  # counts through the k gate, once workers were asked
    remedied_but_no: bool


def month_of(case: Case) -> str:
    return case.opened_on.strftime("%Y-%m")


def org_alert(session: Session, *, buyer_org_id: int, alert_id: uuid.UUID,
              lock: bool = False) -> Alert:
    """``lock``: read it as stored now and lock it until commit, for a change that must be
    made once (two colleagues acknowledging at the same moment are handled in turn)."""
    alert = (session.get(Alert, alert_id, with_for_update=True, populate_existing=True) if lock
             else session.get(Alert, alert_id))
    if alert is None or alert.buyer_org_id != buyer_org_id or alert.delivered_at is None:
        raise AlertNotFound("no such alert")
    return alert


def alert_list(session: Session, *, buyer_org_id: int) -> list[AlertRow]:
    """The organisation's delivered alerts, newest first."""
    rows = session.execute(
        select(Alert, Case, Facility.name, Facility.country, Desk.k_threshold)
        .join(Case, Case.id == Alert.case_id)
        .join(Facility, Facility.id == Case.facility_id)
        .join(Desk, Desk.id == Case.desk_id)
        .where(Alert.buyer_org_id == buyer_org_id, Alert.delivered_at.is_not(None))
        .order_by(Alert.delivered_at.desc(), Alert.id)).all()
    return [AlertRow(alert.id, name, country, case.category, case.severity, month_of(case),
                     shown_count(alert.report_count, k), alert.acknowledged_at is not None)
            for alert, case, name, country, k in rows]


def alert_page(session: Session, *, buyer_org_id: int, alert_id: uuid.UUID,
               today: dt.date | None = None) -> AlertPage:
    alert = org_alert(session, buyer_org_id=buyer_org_id, alert_id=alert_id)
    case = session.get_one(Case, alert.case_id)
    facility = session.get_one(Facility, case.facility_id)
    k = session.get_one(Desk, case.desk_id).k_threshold
    others = list(session.scalars(
        select(BuyerOrg).where(BuyerOrg.id.in_(
            select(Alert.buyer_org_id).join(Case, Case.id == Alert.case_id)
            .where(Case.facility_id == facility.id, Alert.delivered_at.is_not(None),
                   Alert.buyer_org_id != buyer_org_id)))
        .order_by(BuyerOrg.name)))
    return AlertPage(
        alert=alert, case=case, facility=facility, month=month_of(case),
        reports=shown_count(alert.report_count, k), other_buyers=len(others),
        named_buyers=[OtherBuyer(o.name, o.contact_email) for o in others if o.share_identity],
        plan=remedy.plan(session, case.id, today=today),
        own_actions=remedy.buyer_actions(session, case.id, buyer_org_id=buyer_org_id),
        thread=remedy.thread(session, case.id),
        verdicts=(shown_counts(verdict_counts(session, case.id), k)
                  if case.verdict_requested_on else None),
        remedied_but_no=remedied_but_no(session, case),
    )


def acknowledge(session: Session, *, buyer_org_id: int, alert_id: uuid.UUID, actor_id: int,
                now: dt.datetime | None = None) -> bool:
    """Mark the alert read by the organisation; False when it already was."""
    alert = org_alert(session, buyer_org_id=buyer_org_id, alert_id=alert_id, lock=True)
    if alert.acknowledged_at is not None:
        return False
    alert.acknowledged_at = now or utcnow()
    alert.acknowledged_by_id = actor_id
    case = session.get_one(Case, alert.case_id)
    record(session, "alert.acknowledge", actor_id=actor_id, desk_id=case.desk_id,
           object_type="alert", object_id=alert.id, detail=f"buyer_org={buyer_org_id}")
    session.flush()
    return True


def record_action(
    session: Session, *, buyer_org_id: int, alert_id: uuid.UUID, kind: BuyerActionKind,
    description: str, evidence: str, remedy_action_id: uuid.UUID | None, actor_id: int,
    today: dt.date | None = None,
) -> BuyerAction:
    """What the organisation did about the alert, optionally for one action of the plan."""
    alert = org_alert(session, buyer_org_id=buyer_org_id, alert_id=alert_id)
    case = session.get_one(Case, alert.case_id)
    if remedy_action_id is not None:
        linked = session.get(RemedyAction, remedy_action_id)
        if linked is None or linked.case_id != case.id:
            raise AlertNotFound("no such action in this case's plan")
    text = remedy.clean_text(description, limit=remedy.MAX_ACTION_CHARS,
                             what="description of what you did")
    held = remedy.optional_text(evidence, limit=remedy.MAX_EVIDENCE_CHARS,
                                what="description of the evidence")
    action = BuyerAction(id=uuid.uuid4(), case_id=case.id, buyer_org_id=buyer_org_id,
                         remedy_action_id=remedy_action_id, kind=kind, description=text,
                         evidence=held, author_id=actor_id, taken_on=today or utc_today())
    session.add(action)
    session.flush()
    record(session, "buyer.action", actor_id=actor_id, desk_id=case.desk_id,
           object_type="buyer_action", object_id=action.id,
           detail=f"case={case.id} buyer_org={buyer_org_id} kind={kind.value}")
    return action


def post_message(session: Session, *, buyer_org_id: int, alert_id: uuid.UUID, body: str,
                 actor_id: int) -> ThreadMessage:
    """A message in the shared thread of the alert's case."""
    alert = org_alert(session, buyer_org_id=buyer_org_id, alert_id=alert_id)
    case = session.get_one(Case, alert.case_id)
    return remedy.post(session, case=case, buyer_org_id=buyer_org_id, body=body,
                       actor_id=actor_id)


# --- webhooks -------------------------------------------------------------------------------


def webhooks(session: Session, *, buyer_org_id: int) -> list[BuyerWebhook]:
    return list(session.scalars(select(BuyerWebhook).where(
        BuyerWebhook.buyer_org_id == buyer_org_id).order_by(BuyerWebhook.id)))


def disable_webhook(session: Session, *, buyer_org_id: int, webhook_id: int,
                    actor_id: int) -> BuyerWebhook:
    hook = session.get(BuyerWebhook, webhook_id)
    if hook is None or hook.buyer_org_id != buyer_org_id:
        raise AlertNotFound("no such webhook")
    hook.enabled = False
    record(session, "webhook.disable", actor_id=actor_id, desk_id=None,
           object_type="buyer_webhook", object_id=hook.id, detail=f"buyer_org={buyer_org_id}")
    session.flush()
    return hook
