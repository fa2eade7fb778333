"""Who is signed in (a monitor, or a buyer): the server-side session, a monitor's unlocked
desk keys, idle timeout.

Unlocked desk keys are kept in the session only sealed under a key that lives in the
monitor's cookie (DESIGN 4.2): neither the session store nor the cookie alone can use them.
Every request re-reads the account and its memberships, so a suspension, a removal or a
password change ends the session at once.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from crypto.errors import CryptoError
from crypto.keys import PrivateKey
from crypto.session import new_session_key, open_session_keys, seal_session_keys
from intake.accounts.models import Account, AccountStatus, Membership, MembershipStatus, Role
from intake.errors import IntakeError
from intake.ext import db_session

KEY_COOKIE = "intake_desk_keys"
IDLE_TIMEOUT = dt.timedelta(minutes=30)
MONITOR_ROLES = frozenset({Role.MONITOR, Role.ADMIN})
SEEN_RESOLUTION = dt.timedelta(seconds=60)  # write the session at most once a minute

F = TypeVar("F", bound=Callable[..., Any])


class DeskLocked(IntakeError):
    """This session holds no key for that desk (not a member, or not unlocked)."""


@dataclass(frozen=True)
class Monitor:
    account: Account
    desk_ids: frozenset[int]
    stage: str
    keys: dict[int, PrivateKey] = field(repr=False)

    def desk_key(self, desk_id: int) -> PrivateKey:
        if desk_id not in self.desk_ids or desk_id not in self.keys:
            raise DeskLocked("this desk is not unlocked in this session")
        return self.keys[desk_id]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start_session(account: Account, keys: dict[int, PrivateKey], *, stage: str = "in") -> None:
    """A fresh session (new id) holding ``keys`` sealed under a new cookie-only key."""
    session.clear()
    interface = current_app.session_interface
    if hasattr(interface, "regenerate"):
        interface.regenerate(session)
    _store(account, keys, stage=stage)


def _store(account: Account, keys: dict[int, PrivateKey], *, stage: str) -> None:
    session_key = new_session_key()
    sid = secrets.token_urlsafe(16)
    session["monitor"] = {
        "account": account.id,
        "epoch": account.session_epoch,
        "sid": sid,
        "stage": stage,
        "keys": seal_session_keys({str(k): v for k, v in keys.items()}, session_key,
                                  session_id=sid),
        "seen": _now().timestamp(),
    }
    g.new_key_cookie = base64.urlsafe_b64encode(session_key).decode()


def promote(monitor: Monitor) -> None:
    """Enrolment done: the same keys, now for a fully signed-in session."""
    start_session(monitor.account, monitor.keys, stage="in")


def end_session() -> None:
    session.clear()
    g.drop_key_cookie = True


def set_key_cookie(response: Response) -> Response:
    """After-request hook: write or delete the cookie that holds the session's key."""
    new, drop = g.get("new_key_cookie"), g.get("drop_key_cookie", False)
    if not (new or drop):  # most requests
        return response
    secure = request.is_secure or current_app.config.get("SESSION_COOKIE_SECURE", False)
    if new:
        response.set_cookie(KEY_COOKIE, new, httponly=True, samesite="Strict",
                            secure=bool(secure), path="/")
    else:
        response.delete_cookie(KEY_COOKIE, path="/", httponly=True, samesite="Strict",
                               secure=bool(secure))
    return response


def _cookie_key() -> bytes | None:
    value = g.get("new_key_cookie") or request.cookies.get(KEY_COOKIE, "")
    try:
        return base64.urlsafe_b64decode(value.encode()) if value else None
    except (binascii.Error, ValueError):
        return None


def current_monitor() -> Monitor | None:
    """The signed-in monitor of this request, or None (and the session is ended if stale)."""
    if "monitor" in g:
        monitor: Monitor | None = g.monitor
        return monitor
    g.monitor = monitor = _load()
    return monitor


def _load() -> Monitor | None:
    state = session.get("monitor")
    if not isinstance(state, dict):
        return None
    key = _cookie_key()
    seen = dt.datetime.fromtimestamp(float(state.get("seen", 0)), dt.UTC)
    if key is None or _now() - seen > IDLE_TIMEOUT:
        end_session()
        return None
    db = db_session()
    account = db.get(Account, state.get("account"))
    if (account is None or account.status is not AccountStatus.ACTIVE
            or account.session_epoch != state.get("epoch")):
        end_session()
        return None
    try:
        opened = open_session_keys(state["keys"], key, session_id=state["sid"])
    except (CryptoError, KeyError, TypeError):
        end_session()
        return None
    desk_ids = frozenset(db.scalars(select(Membership.desk_id).where(
        Membership.account_id == account.id, Membership.status == MembershipStatus.ACTIVE)))
    keys = {int(k): v for k, v in opened.items() if int(k) in desk_ids}
    if _now() - seen > SEEN_RESOLUTION:
        state["seen"] = _now().timestamp()
        session.modified = True
    return Monitor(account=account, desk_ids=desk_ids, stage=str(state.get("stage")), keys=keys)


def _role_required(view: F, roles: frozenset[Role]) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        person = current_monitor()
        if person is None or person.stage != "in":
            return redirect(url_for("auth.login", next=request.path))
        if person.account.role not in roles:
            abort(404)  # another role's pages do not exist for this account
        result: ResponseReturnValue = view(*args, **kwargs)
        return result

    return wrapper  # type: ignore[return-value]


def monitor_required(view: F) -> F:
    """Only a fully signed-in monitor (or admin); others go to the sign-in page."""
    return _role_required(view, MONITOR_ROLES)


def account_required(view: F) -> F:
    """Any fully signed-in account (pages every role has, such as changing the password)."""
    return _role_required(view, frozenset(Role))


def admin_required(view: F) -> F:
    """Only a fully signed-in platform admin."""
    return _role_required(view, frozenset({Role.ADMIN}))


def buyer_required(view: F) -> F:
    """Only a fully signed-in member of a buyer organisation."""
    return _role_required(view, frozenset({Role.BUYER}))


def signed_in() -> Monitor:
    """The monitor of a view behind ``monitor_required``."""
    monitor = current_monitor()
    if monitor is None:
        raise DeskLocked("no monitor is signed in")  # only reachable outside monitor_required
    return monitor
