"""The desk's API tokens page (monitor UI): list, create (the token shown once, and made
once however often the form is sent), revoke."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from intake import once
from intake.accounts.guard import DeskLocked, monitor_required, signed_in
from intake.accounts.models import Desk
from intake.accounts.views import stale_form
from intake.api import tokens as api_tokens
from intake.api.tokens import IssuedToken, TokenNotFound, TokenRejected
from intake.db import MAX_ID
from intake.ext import database_of
from intake.triage.views import member_desk

tokens = Blueprint("tokens", __name__, url_prefix="/monitor")
MADE_ALREADY = ("This token was made already (the form was sent twice). Its secret was shown "
                "once, on the page that made it: if it was not copied, revoke the token and "
                "make another.")


tokens.register_error_handler(CSRFError, stale_form)


def _tokens_page(desk: Desk, *, new_token: str | None = None, error: str | None = None,
                 name: str = "", status: int = 200) -> ResponseReturnValue:
    rows = api_tokens.desk_tokens(database_of().session(), desk.id)
    return render_template("monitor/tokens.html", desk=desk, rows=rows, new_token=new_token,
                           error=error, name=name, max_name=api_tokens.MAX_NAME_CHARS), status


@tokens.get("/d/<int:desk_id>/tokens")
@monitor_required
def token_list(desk_id: int) -> ResponseReturnValue:
    return _tokens_page(member_desk(desk_id))


@tokens.post("/d/<int:desk_id>/tokens")
@monitor_required
def token_create(desk_id: int) -> ResponseReturnValue:
    """The token is shown on this page once and kept nowhere (not in the session, nor in the
    record of the form's nonce: a repeat of the form says the token was made already)."""
    desk = member_desk(desk_id)
    monitor = signed_in()
    db = database_of().session()
    name = request.form.get("name", "")[: api_tokens.MAX_NAME_CHARS * 4]
    issued: list[IssuedToken] = []

    def make() -> str:
        issued.append(api_tokens.issue(db, account=monitor.account, desk_id=desk.id,
                                       desk_key=monitor.desk_key(desk.id), name=name))
        return str(issued[0].row.id)

    try:
        outcome = once.run_form_once(db, make)
    except (TokenRejected, once.NonceInvalid) as exc:
        db.rollback()
        return _tokens_page(desk, error=str(exc).capitalize() + ".", name=name, status=400)
    except DeskLocked:
        db.rollback()
        return _tokens_page(desk, error="This desk's key is not unlocked in this session. "
                                        "Sign out and in again.", name=name, status=409)
    if outcome.repeated:
        flash(MADE_ALREADY)
        return redirect(url_for("tokens.token_list", desk_id=desk.id)), 303
    return _tokens_page(desk, new_token=issued[0].text)


@tokens.post(f"/d/<int:desk_id>/tokens/<int(max={MAX_ID}):token_id>/revoke")
@monitor_required
def token_revoke(desk_id: int, token_id: int) -> ResponseReturnValue:
    desk = member_desk(desk_id)
    db = database_of().session()
    try:
        api_tokens.revoke(db, desk_id=desk.id, token_id=token_id, actor_id=signed_in().account.id)
    except TokenNotFound:
        db.rollback()
        return render_template("monitor/message.html", title="Not found",
                               text="There is no such token in this desk."), 404
    db.commit()
    flash("Revoked. The token stopped working now.")
    return redirect(url_for("tokens.token_list", desk_id=desk.id)), 303
