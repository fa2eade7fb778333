"""Desk side of alerts: the case page's "Alerts to buyers" section, alerting the buyers
whose contracts cover the workplace, and adding a buyer by hand.

Each POST changes one thing and commits once; a refused change is rolled back and the case
page is shown again with the reason (400).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session

from intake.accounts.guard import monitor_required, signed_in
from intake.accounts.models import Desk
from intake.accounts.views import stale_form
from intake.alerts import service
from intake.alerts.service import AlertRejected
from intake.cases.models import Case
from intake.cases.panels import case_panel
from intake.cases.service import CaseNotFound
from intake.cases.views import change_case
from intake.db import utcnow
from intake.triage.views import ID

alerts = Blueprint("alerts", __name__, url_prefix="/monitor")
alerts.register_error_handler(CSRFError, stale_form)




@case_panel(30)
def alerts_panel(session: Session, desk: Desk, case: Case) -> tuple[str, dict[str, Any]]:
    panel = service.alert_panel(session, case=case, today=utcnow().date())
    return "monitor/case_alerts.html", {"panel": panel, "desk": desk, "case": case}


def _case_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CaseNotFound("not a case id") from None


def _confirmed() -> bool:
    return request.form.get("confirm_reidentification") == "yes"


Change = Callable[[Session, Desk, uuid.UUID, dt.datetime], str]


def _change(desk_id: int, case_id: str, change: Change) -> ResponseReturnValue:
    return change_case(desk_id, case_id, lambda db, desk, cid: change(db, desk, cid, utcnow()),
                       rejected=(AlertRejected,), refused="No buyer was alerted")


@alerts.post("/d/<int:desk_id>/cases/<case_id>/alerts")
@monitor_required
def alert_buyers(desk_id: int, case_id: str) -> ResponseReturnValue:
    def change(db: Session, desk: Desk, cid: uuid.UUID, now: dt.datetime) -> str:
        monitor = signed_in()
        made = service.alert_case(db, desk_id=desk.id, case_id=cid,
                                  desk_key=monitor.desk_key(desk.id),
                                  actor_id=monitor.account.id, now=now,
                                  confirm_reidentification=_confirmed())
        if not made:
            return "Every buyer covering this workplace has already been alerted."
        noun = "One buyer" if len(made) == 1 else f"{len(made)} buyers"
        return (f"{noun} will be alerted with the next batch "
                f"({made[0].deliver_after.strftime('%Y-%m-%d %H:%M')} UTC).")

    return _change(desk_id, case_id, change)


@alerts.post("/d/<int:desk_id>/cases/<case_id>/alerts/buyers")
@monitor_required
def add_buyer(desk_id: int, case_id: str) -> ResponseReturnValue:
    def change(db: Session, desk: Desk, cid: uuid.UUID, now: dt.datetime) -> str:
        monitor = signed_in()
        value = request.form.get("buyer_org_id", "")
        if not ID.fullmatch(value):
            raise AlertRejected("choose a buyer from the list")
        alert = service.add_buyer_by_hand(
            db, desk_id=desk.id, case_id=cid, buyer_org_id=int(value),
            desk_key=monitor.desk_key(desk.id), actor_id=monitor.account.id, now=now,
            confirm_reidentification=_confirmed())
        return (f"The buyer will be alerted with the next batch "
                f"({alert.deliver_after.strftime('%Y-%m-%d %H:%M')} UTC).")

    return _change(desk_id, case_id, change)
