"""The desk's side of the workers' verdict: the case-page panel (counts, comments, the
"remedied but most said no" flag) and the button that asks the workers."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session

from intake.accounts.guard import monitor_required, signed_in
from intake.accounts.models import Desk
from intake.accounts.views import stale_form
from intake.cases.models import Case
from intake.cases.panels import case_panel
from intake.cases.views import change_case
from intake.messaging.outbound import send_soon
from intake.remedy import verdicts as service
from intake.remedy.models import Verdict

verdicts = Blueprint("verdicts", __name__, url_prefix="/monitor")
verdicts.register_error_handler(CSRFError, stale_form)

LABELS = {Verdict.YES: "Yes, fixed", Verdict.PARTLY: "Partly", Verdict.NO: "No, not fixed"}


@case_panel(60)
def verdict_panel(session: Session, desk: Desk, case: Case) -> tuple[str, dict[str, Any]]:
    shown = service.panel(session, case, k=desk.k_threshold,
                          desk_key=signed_in().desk_key(desk.id))
    return "monitor/case_verdicts.html", {"v": shown, "labels": LABELS}


@verdicts.post("/d/<int:desk_id>/cases/<case_id>/verdicts/request")
@monitor_required
def ask(desk_id: int, case_id: str) -> ResponseReturnValue:
    """Ask every linked worker whether the problem was fixed; texts go after the commit."""
    asked: list[service.Asked] = []

    def change(db: Session, desk: Desk, cid: uuid.UUID) -> str:
        asked.append(service.request_verdicts(db, desk_id=desk.id, case_id=cid,
                                              actor_id=signed_in().account.id))
        texts = len(asked[0].texts)
        by_text = "one by SMS" if texts == 1 else f"{texts} by SMS"
        return (f"The workers of {asked[0].reports} report(s) are asked whether the problem "
                f"was fixed: {by_text}, and all on their follow-up page.")

    response = change_case(desk_id, case_id, change)
    for outbound_id in asked[0].texts if asked else []:  # only once committed
        send_soon(outbound_id)
    return response
