"""The desk's remedy plan of a case (actions, owners, due dates, evidence expected), what
buyers recorded they did, and the buyers' shared thread the desk moderates.

Everything here is written for buyers to read: plan actions and thread messages are the
desk's and buyers' own words about the remedy, never a report's. Every function runs in the
caller's transaction: the view commits once, or rolls back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.alerts.models import Alert, ThreadMessage
from intake.audit.service import record
from intake.cases.models import Case
from intake.cases.service import CLOSED
from intake.db import today as utc_today
from intake.errors import IntakeError
from intake.remedy.models import (
    ActionOwner,
    ActionStatus,
    BuyerAction,
    BuyerActionKind,
    RemedyAction,
)
from intake.supplychain.models import BuyerOrg

MAX_ACTION_CHARS = 2000
MAX_EVIDENCE_CHARS = 2000
MAX_MESSAGE_CHARS = 2000
OWNER_LABELS: dict[ActionOwner, str] = {
    ActionOwner.SUPPLIER: "Supplier",
    ActionOwner.BUYER: "Buyer",
    ActionOwner.DESK: "Desk",
}
STATUS_LABELS: dict[ActionStatus, str] = {
    ActionStatus.PLANNED: "Planned",
    ActionStatus.IN_PROGRESS: "In progress",
    ActionStatus.DONE: "Done",
    ActionStatus.NOT_DONE: "Not done",
}
KIND_LABELS: dict[BuyerActionKind, str] = {
    BuyerActionKind.CONTRACT_CLAUSE: "Used a contract clause",
    BuyerActionKind.JOINT_LETTER: "Joint letter",
    BuyerActionKind.AUDIT_REQUEST: "Audit request",
    BuyerActionKind.CORRECTIVE_ACTION_PLAN: "Corrective action plan",
    BuyerActionKind.SUSPENSION: "Suspension",
    BuyerActionKind.OTHER: "Other",
}


class RemedyNotFound(IntakeError):
    """No such case, action or message here (or it belongs to someone else)."""


class RemedyRejected(IntakeError):
    """The change is not valid; the message says why."""


@dataclass(frozen=True)
class PlanItem:
    """A remedy action as desk and buyers see it; ``overdue``: due date past, not done."""

    action: RemedyAction
    buyer_name: str | None
    overdue: bool


@dataclass(frozen=True)
class BuyerActionItem:
    action: BuyerAction
    buyer_name: str
    for_action: str | None  # the plan action it answers, if any


@dataclass(frozen=True)
class ThreadItem:
    message: ThreadMessage
    author: str  # the buyer organisation's name, or "The desk"


# --- checks ---------------------------------------------------------------------------------


def desk_case(session: Session, *, desk_id: int, case_id: uuid.UUID) -> Case:
    case = session.get(Case, case_id)
    if case is None or case.desk_id != desk_id:
        raise RemedyNotFound("no such case in this desk")
    return case


def _open(case: Case) -> None:
    if case.status in CLOSED:
        raise RemedyRejected("the case is closed")


def clean_text(text: str, *, limit: int, what: str) -> str:
    """Trimmed, non-empty text within ``limit`` characters."""
    text = text.strip()
    if not text:
        raise RemedyRejected(f"write the {what}")
    if len(text) > limit:
        raise RemedyRejected(f"the {what} can have at most {limit} characters")
    return text


def optional_text(text: str, *, limit: int, what: str) -> str | None:
    """Like ``clean_text``, but empty text is None."""
    return clean_text(text, limit=limit, what=what) if text.strip() else None


def alerted_orgs(session: Session, case_id: uuid.UUID) -> list[BuyerOrg]:
    """Buyer organisations with an alert for the case (delivered or waiting for its batch)."""
    return list(session.scalars(
        select(BuyerOrg).join(Alert, Alert.buyer_org_id == BuyerOrg.id)
        .where(Alert.case_id == case_id).order_by(BuyerOrg.name)))


# --- reading (desk and buyers) --------------------------------------------------------------


def plan(session: Session, case_id: uuid.UUID, *, today: dt.date | None = None) -> list[PlanItem]:
    """The case's remedy actions by due date (undated last)."""
    day = today or utc_today()
    rows = session.execute(
        select(RemedyAction, BuyerOrg.name)
        .outerjoin(BuyerOrg, BuyerOrg.id == RemedyAction.buyer_org_id)
        .where(RemedyAction.case_id == case_id)).all()
    items = [PlanItem(action, name, action.due_on is not None and action.due_on < day
                      and action.status is not ActionStatus.DONE) for action, name in rows]
    return sorted(items, key=lambda i: (i.action.due_on is None, i.action.due_on or day,
                                        i.action.created_on, str(i.action.id)))


def buyer_actions(session: Session, case_id: uuid.UUID, *,
                  buyer_org_id: int | None = None) -> list[BuyerActionItem]:
    """What buyers recorded they did, oldest first; one organisation's only when given."""
    query = (select(BuyerAction, BuyerOrg.name, RemedyAction.description)
             .join(BuyerOrg, BuyerOrg.id == BuyerAction.buyer_org_id)
             .outerjoin(RemedyAction, RemedyAction.id == BuyerAction.remedy_action_id)
             .where(BuyerAction.case_id == case_id))
    if buyer_org_id is not None:
        query = query.where(BuyerAction.buyer_org_id == buyer_org_id)
    return [BuyerActionItem(action, name, planned) for action, name, planned in session.execute(
        query.order_by(BuyerAction.taken_on, BuyerAction.id))]


def thread(session: Session, case_id: uuid.UUID, *,
           include_hidden: bool = False) -> list[ThreadItem]:
    """The buyers' thread of the case, oldest first; hidden messages only for the desk."""
    query = (select(ThreadMessage, BuyerOrg.name)
             .outerjoin(BuyerOrg, BuyerOrg.id == ThreadMessage.buyer_org_id)
             .where(ThreadMessage.case_id == case_id))
    if not include_hidden:
        query = query.where(ThreadMessage.hidden.is_(False))
    return [ThreadItem(message, name if message.buyer_org_id is not None else "The desk")
            for message, name in session.execute(
                query.order_by(ThreadMessage.created_at, ThreadMessage.id))]


# --- the desk's plan ------------------------------------------------------------------------


def add_action(
    session: Session, *, desk_id: int, case_id: uuid.UUID, description: str,
    owner: ActionOwner, buyer_org_id: int | None, due_on: dt.date | None,
    evidence: str, actor_id: int,
) -> RemedyAction:
    """A new planned action. An action owned by a buyer names one of the case's alerted
    buyer organisations; others name none."""
    case = desk_case(session, desk_id=desk_id, case_id=case_id)
    _open(case)
    text = clean_text(description, limit=MAX_ACTION_CHARS, what="action")
    expected = optional_text(evidence, limit=MAX_EVIDENCE_CHARS, what="evidence expected")
    if owner is ActionOwner.BUYER:
        if buyer_org_id is None:
            raise RemedyRejected("choose the buyer that owns the action")
        if buyer_org_id not in {org.id for org in alerted_orgs(session, case.id)}:
            raise RemedyRejected("the buyer that owns an action must be one alerted on the case")
    elif buyer_org_id is not None:
        raise RemedyRejected("only an action owned by a buyer names a buyer")
    action = RemedyAction(id=uuid.uuid4(), case_id=case.id, description=text, owner=owner,
                          buyer_org_id=buyer_org_id, due_on=due_on, evidence=expected,
                          status=ActionStatus.PLANNED, created_on=utc_today())
    session.add(action)
    session.flush()
    record(session, "remedy.action_add", actor_id=actor_id, desk_id=desk_id,
           object_type="remedy_action", object_id=action.id,
           detail=f"case={case.id} owner={owner.value}")
    return action


def set_action_status(
    session: Session, *, desk_id: int, case_id: uuid.UUID, action_id: uuid.UUID,
    status: ActionStatus, actor_id: int, today: dt.date | None = None,
) -> RemedyAction:
    """Change an action's status; "done" records the day, any other status clears it."""
    case = desk_case(session, desk_id=desk_id, case_id=case_id)
    action = session.get(RemedyAction, action_id)
    if action is None or action.case_id != case.id:
        raise RemedyNotFound("no such action in this case")
    _open(case)
    action.status = status
    action.done_on = (today or utc_today()) if status is ActionStatus.DONE else None
    record(session, "remedy.action_status", actor_id=actor_id, desk_id=desk_id,
           object_type="remedy_action", object_id=action.id,
           detail=f"case={case.id} status={status.value}")
    session.flush()
    return action


def mark_remedied(
    session: Session, *, desk_id: int, case_id: uuid.UUID, actor_id: int,
    today: dt.date | None = None,
) -> Case:
    """The desk records the remedy as carried out: only when every action of the plan is done."""
    case = desk_case(session, desk_id=desk_id, case_id=case_id)
    _open(case)
    actions = plan(session, case.id, today=today)
    if not actions:
        raise RemedyRejected("write the remedy plan first")
    left = [i for i in actions if i.action.status is not ActionStatus.DONE]
    if left:
        raise RemedyRejected(f"{len(left)} action(s) of the plan are not done yet")
    if case.remedied_on is not None:
        raise RemedyRejected("the case is already marked remedied")
    case.remedied_on = today or utc_today()
    record(session, "case.remedied", actor_id=actor_id, desk_id=desk_id, object_type="case",
           object_id=case.id, detail=f"actions={len(actions)}")
    session.flush()
    return case


# --- the thread, desk side ------------------------------------------------------------------


def desk_post(session: Session, *, desk_id: int, case_id: uuid.UUID, body: str,
              actor_id: int) -> ThreadMessage:
    case = desk_case(session, desk_id=desk_id, case_id=case_id)
    return post(session, case=case, buyer_org_id=None, body=body, actor_id=actor_id)


def post(session: Session, *, case: Case, buyer_org_id: int | None, body: str,
         actor_id: int) -> ThreadMessage:
    """A message in the case's buyers' thread, by a buyer organisation or (None) the desk."""
    text = clean_text(body, limit=MAX_MESSAGE_CHARS, what="message")
    message = ThreadMessage(id=uuid.uuid4(), case_id=case.id, buyer_org_id=buyer_org_id,
                            author_id=actor_id, body=text, hidden=False)
    session.add(message)
    session.flush()
    record(session, "thread.post", actor_id=actor_id, desk_id=case.desk_id,
           object_type="thread_message", object_id=message.id,
           detail=f"case={case.id} buyer_org={buyer_org_id or '-'}")
    return message


def set_hidden(session: Session, *, desk_id: int, case_id: uuid.UUID, message_id: uuid.UUID,
               hidden: bool, actor_id: int) -> ThreadMessage:
    """Hide a message from buyers (or show it again); the desk still sees it."""
    case = desk_case(session, desk_id=desk_id, case_id=case_id)
    message = session.get(ThreadMessage, message_id)
    if message is None or message.case_id != case.id:
        raise RemedyNotFound("no such message in this case")
    message.hidden = hidden
    record(session, "thread.hide" if hidden else "thread.unhide", actor_id=actor_id,
           desk_id=desk_id, object_type="thread_message", object_id=message.id,
           detail=f"case={case.id}")
    session.flush()
    return message
