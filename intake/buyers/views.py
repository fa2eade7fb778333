"""Buyer portal pages: the organisation's alerts, an alert with its remedy plan, the buyer's
own actions and the shared thread, and the organisation's webhooks.

Everything a buyer sees is addressed to their organisation and delivered; anything else is
404, the same as an id that does not exist. Each POST changes one thing and commits once;
a rejected change is rolled back and the page is shown again with the reason (400). A form
that creates something (an action, a message, a webhook) acts once however often it is sent
(``intake.once``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session

from intake import once
from intake.accounts.guard import buyer_required, signed_in
from intake.alerts.service import WebhookRejected, create_webhook
from intake.buyers import service
from intake.buyers.service import AlertNotFound
from intake.cases.service import STATUS_LABELS
from intake.db import MAX_ID
from intake.errors import IntakeError
from intake.ext import db_session, settings_of
from intake.remedy import service as remedy
from intake.remedy.models import BuyerActionKind, Verdict
from intake.remedy.service import RemedyNotFound, RemedyRejected
from intake.triage.taxonomy import DESK_CATEGORIES, SEVERITY_GUIDE

buyer = Blueprint("buyer", __name__, url_prefix="/buyer")

MAX_URL_CHARS = 500
WEBHOOK_ADDED_ALREADY = ("This webhook was added already (the form was sent twice). Its "
                         "signing secret was shown once, on the page that added it: if it was "
                         "not copied, disable the webhook and add it again.")


@buyer.errorhandler(CSRFError)
def stale_form(_error: CSRFError) -> ResponseReturnValue:
    return render_template("buyer/message.html", title="Form expired",
                           text="This form was open too long or was sent twice. Nothing was "
                                "saved. Go back, reload the page and try again."), 400


@buyer.errorhandler(AlertNotFound)
@buyer.errorhandler(RemedyNotFound)
def not_found(_error: IntakeError) -> ResponseReturnValue:
    db_session().rollback()
    return render_template("buyer/message.html", title="Not found",
                           text="There is no such alert for your organisation."), 404


def _org() -> int:
    """The signed-in buyer's organisation (an account without one sees nothing)."""
    org = signed_in().account.buyer_org_id
    if org is None:
        abort(404)
    return org


def _alert_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise AlertNotFound("not an alert id") from None


def _common() -> dict[str, object]:
    return {"categories": DESK_CATEGORIES, "severities": SEVERITY_GUIDE,
            "statuses": STATUS_LABELS, "owners": remedy.OWNER_LABELS,
            "action_statuses": remedy.STATUS_LABELS, "kinds": remedy.KIND_LABELS}


# --- alerts ---------------------------------------------------------------------------------


@buyer.get("/")
@buyer_required
def home() -> ResponseReturnValue:
    rows = service.alert_list(db_session(), buyer_org_id=_org())
    return render_template("buyer/home.html", account=signed_in().account, rows=rows,
                           **_common())


@buyer.get("/alerts/<alert_id>")
@buyer_required
def alert(alert_id: str) -> ResponseReturnValue:
    return _alert_page(_alert_id(alert_id))


def _alert_page(alert_id: uuid.UUID, *, error: str | None = None,
                kept: Mapping[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    page = service.alert_page(db_session(), buyer_org_id=_org(), alert_id=alert_id)
    return render_template(
        "buyer/alert.html", a=page, error=error, kept=kept or {}, verdict=Verdict,
        max_message=remedy.MAX_MESSAGE_CHARS, max_text=remedy.MAX_ACTION_CHARS,
        **_common()), status


Change = Callable[[Session, int, uuid.UUID], str]


def _change(alert_id: str, change: Change, *, kept: Mapping[str, str] | None = None,
            once_per_form: bool = False) -> ResponseReturnValue:
    """``once_per_form``: the change creates something, so it runs once however often its
    form is sent (``intake.once``)."""
    aid = _alert_id(alert_id)
    org = _org()
    db = db_session()
    try:
        if once_per_form:
            outcome = once.run_form_once(db, lambda: change(db, org, aid))
            message = once.ALREADY_SAVED if outcome.repeated else outcome.result or ""
        else:
            message = change(db, org, aid)
    except (RemedyRejected, once.NonceInvalid) as exc:
        db.rollback()
        return _alert_page(aid, error=f"Nothing was saved: {exc}.", kept=kept, status=400)
    db.commit()
    flash(message)
    return redirect(url_for("buyer.alert", alert_id=aid)), 303


@buyer.post("/alerts/<alert_id>/acknowledge")
@buyer_required
def acknowledge(alert_id: str) -> ResponseReturnValue:
    def change(db: Session, org: int, aid: uuid.UUID) -> str:
        service.acknowledge(db, buyer_org_id=org, alert_id=aid,
                            actor_id=signed_in().account.id)
        return "Alert acknowledged."

    return _change(alert_id, change)


@buyer.post("/alerts/<alert_id>/actions")
@buyer_required
def record_action(alert_id: str) -> ResponseReturnValue:
    form = request.form
    kept = {"description": form.get("description", "")[: remedy.MAX_ACTION_CHARS * 2],
            "evidence": form.get("evidence", "")[: remedy.MAX_EVIDENCE_CHARS * 2],
            "kind": form.get("kind", ""), "remedy_action": form.get("remedy_action", "")}

    def change(db: Session, org: int, aid: uuid.UUID) -> str:
        try:
            kind = BuyerActionKind(kept["kind"])
        except ValueError:
            raise RemedyRejected("choose what kind of action you took") from None
        linked = None
        if kept["remedy_action"]:
            try:
                linked = uuid.UUID(kept["remedy_action"])
            except ValueError:
                raise RemedyNotFound("not an action id") from None
        service.record_action(db, buyer_org_id=org, alert_id=aid, kind=kind,
                              description=kept["description"], evidence=kept["evidence"],
                              remedy_action_id=linked, actor_id=signed_in().account.id)
        return "Your action was recorded. The desk and your organisation can see it."

    return _change(alert_id, change, kept=kept, once_per_form=True)


@buyer.post("/alerts/<alert_id>/thread")
@buyer_required
def post_message(alert_id: str) -> ResponseReturnValue:
    body = request.form.get("body", "")[: remedy.MAX_MESSAGE_CHARS * 2]

    def change(db: Session, org: int, aid: uuid.UUID) -> str:
        service.post_message(db, buyer_org_id=org, alert_id=aid, body=body,
                             actor_id=signed_in().account.id)
        return "Message posted to the buyers' thread."

    return _change(alert_id, change, kept={"body": body}, once_per_form=True)


# --- webhooks -------------------------------------------------------------------------------


@buyer.get("/webhooks")
@buyer_required
def webhooks() -> ResponseReturnValue:
    return _webhooks_page()


def _webhooks_page(*, error: str | None = None, url: str = "", secret: str | None = None,
                   status: int = 200) -> ResponseReturnValue:
    hooks = service.webhooks(db_session(), buyer_org_id=_org())
    return render_template("buyer/webhooks.html", hooks=hooks, error=error, url=url,
                           secret=secret, max_url=MAX_URL_CHARS), status


@buyer.post("/webhooks")
@buyer_required
def add_webhook() -> ResponseReturnValue:
    url = request.form.get("url", "").strip()[: MAX_URL_CHARS * 2]
    db = db_session()
    signing: list[str] = []

    def add() -> str:
        hook, secret = create_webhook(db, buyer_org_id=_org(), url=url,
                                      secret_key=settings_of().secret_key,
                                      actor_id=signed_in().account.id)
        signing.append(secret)
        return str(hook.id)  # never the secret: a repeat says it was shown already

    try:
        outcome = once.run_form_once(db, add)
    except (WebhookRejected, once.NonceInvalid) as exc:
        db.rollback()
        return _webhooks_page(error=f"No webhook was added: {exc}.", url=url, status=400)
    if outcome.repeated:
        flash(WEBHOOK_ADDED_ALREADY)
        return redirect(url_for("buyer.webhooks")), 303
    # The secret is shown once, on this page, and never again (it is stored sealed).
    return _webhooks_page(url="", secret=signing[0])


@buyer.post(f"/webhooks/<int(max={MAX_ID}):webhook_id>/disable")
@buyer_required
def disable_webhook(webhook_id: int) -> ResponseReturnValue:
    db = db_session()
    service.disable_webhook(db, buyer_org_id=_org(), webhook_id=webhook_id,
                            actor_id=signed_in().account.id)
    db.commit()
    flash("Webhook disabled: nothing more will be sent to it.")
    return redirect(url_for("buyer.webhooks")), 303
