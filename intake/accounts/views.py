"""Monitor sign-in, TOTP enrolment, sign-out, password change and desk membership pages."""

from __future__ import annotations

import io
from collections.abc import Mapping

import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from limits import parse_many
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.accounts import login as signin
from intake.accounts import members
from intake.accounts.guard import (
    DeskLocked,
    account_required,
    current_monitor,
    end_session,
    monitor_required,
    promote,
    signed_in,
    start_session,
)
from intake.accounts.models import Account, Desk, Membership, Role
from intake.audit.service import record
from intake.db import MAX_ID
from intake.ext import db_session, settings_of
from intake.kdf import argon2_profile
from intake.limits import allowed, client_tag

auth = Blueprint("auth", __name__, url_prefix="/monitor")

# Per rotating client tag, on Flask-Limiter's storage (the account's own lock is in login.py).
LOGIN_LIMITS = parse_many("10 per minute;60 per hour")
MAX_FIELD = 254


def _field(name: str, limit: int = MAX_FIELD) -> str:
    return request.form.get(name, "")[:limit]


def _safe_next(target: str | None, account: Account) -> str:
    """Only our own pages for this account's role: never an open redirect."""
    prefix = "/buyer/" if account.role is Role.BUYER else "/monitor/"
    if target and target.startswith(prefix) and "//" not in target and "\\" not in target:
        return target
    return url_for("buyer.home") if account.role is Role.BUYER else url_for("triage.home")


def _layout_of(account: Account | None) -> str:
    """The pages shared by every role (the password, the authenticator set-up, a form that
    expired) in the account's own portal: a buyer's brand link and title lead to the buyer
    portal, since the desk's pages do not exist for a buyer (404)."""
    if account is not None and account.role is Role.BUYER:
        return "buyer/base.html"
    return "monitor/base.html"


@auth.errorhandler(CSRFError)
def stale_form(_error: CSRFError) -> ResponseReturnValue:
    monitor = current_monitor()
    return render_template("monitor/message.html", title="Form expired",
                           layout=_layout_of(monitor.account if monitor else None),
                           text="This form was open too long or was sent twice. "
                                "Nothing was saved. Go back, reload the page and try again."), 400


@auth.app_errorhandler(DeskLocked)
def desk_locked(_error: DeskLocked) -> ResponseReturnValue:
    """A desk joined after signing in (approved meanwhile) has no key in this session yet."""
    db_session().rollback()
    return render_template("monitor/message.html", title="Desk locked",
                           text="This desk's key is not unlocked in this session. Sign out "
                                "and sign in again to unlock it."), 403


@auth.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return _login_page(request.args.get("next", ""))
    if not all(allowed("login", item, client_tag()) for item in LOGIN_LIMITS):
        return _login_page(request.form.get("next", ""),
                           error="Too many sign-in attempts from here. Wait a few "
                                 "minutes and try again."), 429
    settings = settings_of()
    db = db_session()
    error = None
    try:
        result = signin.sign_in(
            db, email=_field("email"), password=_field("password", signin.MAX_PASSWORD_CHARS),
            code=_field("code", 20), secret_key=settings.secret_key,
            profile=argon2_profile(settings),
        )
    except signin.AccountLocked:
        error = "Too many failed attempts. This account is locked for a while; try again later."
    except signin.LoginFailed:
        error = "Wrong e-mail address, password or code."
    if error is not None:
        db.commit()  # the failure count must stick
        return _login_page(request.form.get("next", ""), error=error,
                           email=_field("email")), 401
    keys = members.unlock_desks(db, result.account, result.account_key)
    if result.needs_enrolment:
        start_session(result.account, keys, stage="enrol")
        db.commit()
        return redirect(url_for("auth.enrol"))
    start_session(result.account, keys)
    _record_login(db, result.account.id, keys)
    db.commit()
    return redirect(_safe_next(request.form.get("next"), result.account))


def _login_page(next_: str, **context: str) -> str:
    """One sign-in page for every role, in the buyer portal's layout when it was a buyer's
    page that asked for it (``next``), so a buyer is not sent to "Worker Voice desk"."""
    layout = "buyer/base.html" if next_.startswith("/buyer/") else "monitor/base.html"
    return render_template("monitor/login.html", next=next_, layout=layout, **context)


def _record_login(db: Session, account_id: int, keys: Mapping[int, object], *,
                  detail: str | None = None) -> None:
    """One sign-in event, and an unlock event in the log of each desk it unlocked."""
    record(db, "login", actor_id=account_id, desk_id=None, detail=detail)
    for desk_id in sorted(keys):
        record(db, "desk.unlock", actor_id=account_id, desk_id=desk_id)


def _qr_svg(uri: str) -> Markup:
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", xmldecl=False, scale=5,
                                    svgclass="qr", lineclass=None, title="TOTP QR code")
    return Markup(out.getvalue().decode())  # noqa: S704 (segno's own SVG, no user text)


@auth.route("/enrol", methods=["GET", "POST"])
def enrol() -> ResponseReturnValue:
    monitor = current_monitor()
    if monitor is None or monitor.stage != "enrol":
        return redirect(url_for("auth.login"))
    settings = settings_of()
    db = db_session()
    account = monitor.account
    if request.method == "POST":
        if signin.confirm_enrolment(account, _field("code", 20), secret_key=settings.secret_key):
            promote(monitor)
            _record_login(db, account.id, monitor.keys, detail="totp-enrolled")
            db.commit()
            return redirect(_safe_next(None, account))
        db.commit()
        error = "That code is not right. Check the phone's clock and type the newest code."
    else:
        error = None
    uri = signin.provisioning_uri(account, secret_key=settings.secret_key, issuer="Worker Voice")
    secret = signin.totp_for(account, secret_key=settings.secret_key).secret
    return render_template("monitor/enrol.html", qr=_qr_svg(uri), secret=secret,
                           error=error, layout=_layout_of(account)), (400 if error else 200)


@auth.post("/logout")
def logout() -> ResponseReturnValue:
    monitor = current_monitor()
    if monitor is not None:
        db = db_session()
        record(db, "logout", actor_id=monitor.account.id, desk_id=None)
        db.commit()
    end_session()
    return redirect(url_for("auth.login"))


def _password_page(account: Account, error: str | None = None) -> str:
    return render_template("monitor/password.html", layout=_layout_of(account), error=error)


@auth.route("/password", methods=["GET", "POST"])
@account_required
def password() -> ResponseReturnValue:
    monitor = signed_in()
    if request.method == "GET":
        return _password_page(monitor.account)
    db = db_session()
    new = _field("new", signin.MAX_PASSWORD_CHARS + 1)
    if new != _field("repeat", signin.MAX_PASSWORD_CHARS + 1):
        return _password_page(monitor.account, "The two new passwords differ."), 400
    try:
        signin.change_password(monitor.account, old=_field("old", signin.MAX_PASSWORD_CHARS),
                               new=new, profile=argon2_profile(settings_of()))
    except (signin.LoginFailed, signin.WeakPassword) as exc:
        db.rollback()
        return _password_page(monitor.account, str(exc).capitalize() + "."), 400
    record(db, "password.change", actor_id=monitor.account.id, desk_id=None)
    start_session(monitor.account, monitor.keys)  # this session lives on; others end
    db.commit()
    flash("Password changed. Other sessions of this account were signed out.")
    return redirect(_safe_next(None, monitor.account))


# --- desk membership ---------------------------------------------------------------------


def _desk_of_member(desk_id: int) -> Desk:
    """The desk, if the signed-in monitor is an active member; 404 otherwise."""
    if desk_id not in signed_in().desk_ids:
        abort(404)
    desk = db_session().get(Desk, desk_id)
    if desk is None:
        abort(404)
    return desk


@auth.get("/d/<int:desk_id>/members")
@monitor_required
def member_list(desk_id: int) -> ResponseReturnValue:
    desk = _desk_of_member(desk_id)
    db = db_session()
    rows = [(m, a, members.approvals_of(db, m)) for m, a in members.active_members(db, desk.id)]
    return render_template("monitor/members.html", desk=desk, rows=rows,
                           needed=members.APPROVALS_NEEDED, me=signed_in().account)


@auth.post("/d/<int:desk_id>/members/invite")
@monitor_required
def member_invite(desk_id: int) -> ResponseReturnValue:
    desk = _desk_of_member(desk_id)
    db = db_session()
    settings = settings_of()
    # The address is not cut to fit: one too long is refused, never stored shortened.
    email, name = _field("email", 4 * MAX_FIELD).strip(), _field("display_name", 200).strip()
    if "@" not in email or not name:
        flash("Give the person's e-mail address and name.", "error")
        return redirect(url_for("auth.member_list", desk_id=desk.id)), 303
    try:
        invitation = members.invite(db, desk=desk, email=email, display_name=name,
                                    invited_by=signed_in().account,
                                    secret_key=settings.secret_key,
                                    profile=argon2_profile(settings))
    except members.MembershipError as exc:
        db.rollback()
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("auth.member_list", desk_id=desk.id)), 303
    db.commit()
    new = invitation.new_account
    return render_template("monitor/invited.html", desk=desk, email=email,
                           password=new.password if new else None)


def _membership(desk: Desk, membership_id: int) -> Membership:
    membership = db_session().scalar(select(Membership).where(
        Membership.id == membership_id, Membership.desk_id == desk.id))
    if membership is None:
        abort(404)
    return membership


@auth.post(f"/d/<int:desk_id>/members/<int(max={MAX_ID}):membership_id>/approve")
@monitor_required
def member_approve(desk_id: int, membership_id: int) -> ResponseReturnValue:
    desk = _desk_of_member(desk_id)
    db = db_session()
    monitor = signed_in()
    try:
        active = members.approve(db, membership=_membership(desk, membership_id),
                                 approver=monitor.account, desk_key=monitor.desk_key(desk.id))
    except members.MembershipError as exc:
        db.rollback()
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("auth.member_list", desk_id=desk.id)), 303
    db.commit()
    flash("Approved. The person is now a member." if active
          else "Approved. One more member must approve.")
    return redirect(url_for("auth.member_list", desk_id=desk.id)), 303


@auth.post(f"/d/<int:desk_id>/members/<int(max={MAX_ID}):membership_id>/password")
@monitor_required
def member_new_password(desk_id: int, membership_id: int) -> ResponseReturnValue:
    """A new first password for an invited person who never signed in (the page that
    showed the first was lost). Sent twice, the second password is the one that works."""
    desk = _desk_of_member(desk_id)
    db = db_session()
    settings = settings_of()
    try:
        created = members.new_first_password(
            db, membership=_membership(desk, membership_id), by=signed_in().account,
            secret_key=settings.secret_key, profile=argon2_profile(settings))
    except members.MembershipError as exc:
        db.rollback()
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("auth.member_list", desk_id=desk.id)), 303
    db.commit()
    return render_template("monitor/invited.html", desk=desk, email=created.account.email,
                           password=created.password, replaced=True)


@auth.post(f"/d/<int:desk_id>/members/<int(max={MAX_ID}):membership_id>/remove")
@monitor_required
def member_remove(desk_id: int, membership_id: int) -> ResponseReturnValue:
    desk = _desk_of_member(desk_id)
    db = db_session()
    try:
        members.remove(db, membership=_membership(desk, membership_id),
                       removed_by=signed_in().account)
    except members.MembershipError as exc:
        db.rollback()
        flash(str(exc).capitalize() + ".", "error")
        return redirect(url_for("auth.member_list", desk_id=desk.id)), 303
    db.commit()
    flash("Removed. Their access to the desk key and their sessions ended now.")
    return redirect(url_for("auth.member_list", desk_id=desk.id)), 303


K_RANGE = range(2, 21)  # below 2 a count of one would be shown; above 20 buyers see nothing


@auth.post("/d/<int:desk_id>/settings")
@monitor_required
def desk_settings(desk_id: int) -> ResponseReturnValue:
    """The desk's k (smallest count shown exactly to buyers) and its daily alert batch hour."""
    desk = _desk_of_member(desk_id)
    db = db_session()
    k_text, hour_text = _field("k_threshold", 4), _field("alert_batch_hour", 4)
    if not (k_text.isascii() and k_text.isdigit() and int(k_text) in K_RANGE
            and hour_text.isascii() and hour_text.isdigit() and int(hour_text) in range(24)):
        flash(f"Nothing was changed: k must be {K_RANGE.start} to {K_RANGE.stop - 1} and the "
              "batch hour 0 to 23.", "error")
        return redirect(url_for("auth.member_list", desk_id=desk.id)), 303
    desk.k_threshold, desk.alert_batch_hour = int(k_text), int(hour_text)
    record(db, "desk.settings", actor_id=signed_in().account.id, desk_id=desk.id,
           detail=f"k={desk.k_threshold} batch_hour={desk.alert_batch_hour}")
    db.commit()
    flash("Desk settings saved.")
    return redirect(url_for("auth.member_list", desk_id=desk.id)), 303
