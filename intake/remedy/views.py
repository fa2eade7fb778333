"""Desk side of the remedy: the plan editor and buyers' actions (case page section 40), the
buyers' thread with its moderation (section 50), and the routes their forms post to.

Each POST changes one thing and commits once; a rejected change is rolled back and answered
400 with the reason; another desk's case, action or message is 404. Adding an action or a
message acts once however often its form is sent (``intake.once``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session

from intake.accounts.guard import monitor_required, signed_in
from intake.accounts.models import Desk
from intake.accounts.views import stale_form
from intake.cases.models import Case
from intake.cases.panels import case_panel
from intake.cases.service import CLOSED
from intake.cases.views import change_case
from intake.db import today
from intake.ext import db_session
from intake.remedy import service
from intake.remedy.models import ActionOwner, ActionStatus
from intake.remedy.service import RemedyNotFound, RemedyRejected
from intake.triage.views import ID

remedy = Blueprint("remedy", __name__, url_prefix="/monitor")
remedy.register_error_handler(CSRFError, stale_form)


@remedy.errorhandler(RemedyNotFound)
def not_found(_error: RemedyNotFound) -> ResponseReturnValue:
    db_session().rollback()
    return render_template("monitor/message.html", title="Not found",
                           text="There is no such case, action or message in this desk."), 404


# --- the case page's sections ---------------------------------------------------------------


@case_panel(40)
def remedy_panel(session: Session, desk: Desk, case: Case) -> tuple[str, dict[str, Any]]:
    plan = service.plan(session, case.id)
    return "monitor/case_remedy.html", {
        "plan": plan, "buyer_actions": service.buyer_actions(session, case.id),
        "orgs": service.alerted_orgs(session, case.id), "closed": case.status in CLOSED,
        "owners": service.OWNER_LABELS, "statuses": service.STATUS_LABELS,
        "kinds": service.KIND_LABELS, "max_text": service.MAX_ACTION_CHARS,
        "all_done": bool(plan) and all(i.action.status is ActionStatus.DONE for i in plan),
        "remedied_on": case.remedied_on,
    }


@case_panel(50)
def thread_panel(session: Session, desk: Desk, case: Case) -> tuple[str, dict[str, Any]]:
    return "monitor/case_thread.html", {
        "thread": service.thread(session, case.id, include_hidden=True),
        "max_message": service.MAX_MESSAGE_CHARS,
    }


# --- parsing --------------------------------------------------------------------------------


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise RemedyNotFound(f"not {what} id") from None


def _owner(value: str) -> ActionOwner:
    try:
        return ActionOwner(value)
    except ValueError:
        raise RemedyRejected("choose who owns the action") from None


def _status(value: str) -> ActionStatus:
    try:
        return ActionStatus(value)
    except ValueError:
        raise RemedyRejected("choose a status from the list") from None


def _date(value: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RemedyRejected("give the due date as YYYY-MM-DD") from None


def _org_id(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not ID.fullmatch(value):
        raise RemedyRejected("choose the buyer from the list")
    return int(value)


# --- changes --------------------------------------------------------------------------------

Change = Callable[[Session, Desk, uuid.UUID], str]


def _change(desk_id: int, case_id: str, change: Change, *,
            kept: Mapping[str, str] | None = None,
            once_per_form: bool = False) -> ResponseReturnValue:
    return change_case(desk_id, case_id, change, rejected=(RemedyRejected,), kept=kept,
                       once_per_form=once_per_form)


@remedy.post("/d/<int:desk_id>/cases/<case_id>/remedy/actions")
@monitor_required
def add_action(desk_id: int, case_id: str) -> ResponseReturnValue:
    form = request.form
    kept = {"description": form.get("description", "")[: service.MAX_ACTION_CHARS * 2],
            "evidence": form.get("evidence", "")[: service.MAX_EVIDENCE_CHARS * 2],
            "due_on": form.get("due_on", "")[:40], "owner": form.get("owner", ""),
            "buyer": form.get("buyer", "")}

    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        service.add_action(
            db, desk_id=desk.id, case_id=cid, description=kept["description"],
            owner=_owner(kept["owner"]), buyer_org_id=_org_id(kept["buyer"]),
            due_on=_date(kept["due_on"]), evidence=kept["evidence"],
            actor_id=signed_in().account.id)
        return "Action added to the remedy plan."

    return _change(desk_id, case_id, change, kept=kept, once_per_form=True)


@remedy.post("/d/<int:desk_id>/cases/<case_id>/remedy/actions/<action_id>/status")
@monitor_required
def action_status(desk_id: int, case_id: str, action_id: str) -> ResponseReturnValue:
    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        aid = _uuid(action_id, "an action")
        status = _status(request.form.get("status", ""))
        service.set_action_status(db, desk_id=desk.id, case_id=cid, action_id=aid,
                                  status=status, actor_id=signed_in().account.id,
                                  today=today())
        return f"Action status: {service.STATUS_LABELS[status]}."

    return _change(desk_id, case_id, change)


@remedy.post("/d/<int:desk_id>/cases/<case_id>/remedy/remedied")
@monitor_required
def mark_remedied(desk_id: int, case_id: str) -> ResponseReturnValue:
    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        service.mark_remedied(db, desk_id=desk.id, case_id=cid,
                              actor_id=signed_in().account.id)
        return "The case is marked remedied."

    return _change(desk_id, case_id, change)


@remedy.post("/d/<int:desk_id>/cases/<case_id>/thread")
@monitor_required
def thread_post(desk_id: int, case_id: str) -> ResponseReturnValue:
    body = request.form.get("body", "")[: service.MAX_MESSAGE_CHARS * 2]

    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        service.desk_post(db, desk_id=desk.id, case_id=cid, body=body,
                          actor_id=signed_in().account.id)
        return "Message posted to the buyers' thread."

    return _change(desk_id, case_id, change, kept={"body": body}, once_per_form=True)


@remedy.post("/d/<int:desk_id>/cases/<case_id>/thread/<message_id>/visibility")
@monitor_required
def thread_visibility(desk_id: int, case_id: str, message_id: str) -> ResponseReturnValue:
    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        mid = _uuid(message_id, "a message")
        wanted = request.form.get("hidden", "")
        if wanted not in ("1", "0"):
            raise RemedyRejected("say whether to hide or show the message")
        service.set_hidden(db, desk_id=desk.id, case_id=cid, message_id=mid,
                           hidden=wanted == "1", actor_id=signed_in().account.id)
        return "Message hidden from buyers." if wanted == "1" else "Message shown to buyers."

    return _change(desk_id, case_id, change)
