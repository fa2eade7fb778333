"""Signing in: password (Argon2id unwraps the account key) plus a TOTP code, with throttling.

Failures are throttled per account here (a growing lock after five wrong tries) and per
rotating client tag by Flask-Limiter on the view. Every failure gives the same answer, and
an unknown e-mail address costs the same Argon2id as a known one, so the form does not tell
which accounts exist.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import CryptoError, WrongPassword
from crypto.hierarchy import Argon2Profile, rewrap_account_key, unwrap_account_key, wrap_account_key
from crypto.keys import PrivateKey
from intake.accounts.models import Account, AccountStatus
from intake.accounts.service import open_totp_secret
from intake.db import utcnow
from intake.errors import IntakeError

FREE_FAILURES = 5
MAX_LOCK = dt.timedelta(hours=1)
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 200


class LoginFailed(IntakeError):
    """Wrong e-mail, password or code, or an account that may not sign in: one answer."""


class AccountLocked(IntakeError):
    """Too many wrong tries: the account accepts no password until ``until``."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__("too many failed sign-ins; try again later")
        self.until = until


class WeakPassword(IntakeError):
    """The new password is too short, too long, or the same as the old one."""


@dataclass(frozen=True)
class SignedIn:
    account: Account
    account_key: PrivateKey = field(repr=False)
    needs_enrolment: bool


_DUMMY_WRAPS: dict[str, bytes] = {}


def _dummy_wrap(profile: Argon2Profile) -> bytes:
    """A wrap under a random password, so an unknown address costs one real Argon2id."""
    if profile.name not in _DUMMY_WRAPS:
        _DUMMY_WRAPS[profile.name] = wrap_account_key(
            PrivateKey.generate(), pyotp.random_base32(), profile=profile
        )
    return _DUMMY_WRAPS[profile.name]


def sign_in(
    session: Session, *, email: str, password: str, code: str, secret_key: bytes,
    profile: Argon2Profile, now: dt.datetime | None = None,
) -> SignedIn:
    """Check password and code. An account without TOTP yet signs in to enrol only."""
    now = now or utcnow()
    account = session.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None or account.status is not AccountStatus.ACTIVE:
        _burn(password, profile)
        raise LoginFailed("wrong e-mail address, password or code")
    if account.locked_until is not None and account.locked_until > now:
        raise AccountLocked(account.locked_until)
    try:
        key = unwrap_account_key(account.wrapped_private_key, password[:MAX_PASSWORD_CHARS])
    except (WrongPassword, CryptoError):
        _count_failure(account, now)
        raise LoginFailed("wrong e-mail address, password or code") from None
    if account.totp_enrolled and not check_code(account, code, secret_key=secret_key, now=now):
        _count_failure(account, now)
        raise LoginFailed("wrong e-mail address, password or code")
    account.failed_logins = 0
    account.locked_until = None
    return SignedIn(account=account, account_key=key, needs_enrolment=not account.totp_enrolled)


def _burn(password: str, profile: Argon2Profile) -> None:
    with contextlib.suppress(CryptoError):
        unwrap_account_key(_dummy_wrap(profile), password[:MAX_PASSWORD_CHARS])


def _count_failure(account: Account, now: dt.datetime) -> None:
    account.failed_logins += 1
    over = account.failed_logins - FREE_FAILURES
    if over >= 0:
        account.locked_until = now + min(dt.timedelta(minutes=2**over), MAX_LOCK)


def totp_for(account: Account, *, secret_key: bytes) -> pyotp.TOTP:
    return pyotp.TOTP(open_totp_secret(account, secret_key=secret_key))


def check_code(
    account: Account, code: str, *, secret_key: bytes, now: dt.datetime | None = None
) -> bool:
    """A 6-digit code for this or an adjacent 30 s step, never one already used."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return False
    now = now or utcnow()
    totp = totp_for(account, secret_key=secret_key)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if totp.generate_otp(step) == code:
            if account.totp_last_step is not None and step <= account.totp_last_step:
                return False  # replayed
            account.totp_last_step = step
            return True
    return False


def provisioning_uri(account: Account, *, secret_key: bytes, issuer: str) -> str:
    return totp_for(account, secret_key=secret_key).provisioning_uri(
        name=account.email, issuer_name=issuer
    )


def confirm_enrolment(
    account: Account, code: str, *, secret_key: bytes, now: dt.datetime | None = None
) -> bool:
    if not check_code(account, code, secret_key=secret_key, now=now):
        return False
    account.totp_enrolled = True
    return True


def change_password(
    account: Account, *, old: str, new: str, profile: Argon2Profile
) -> None:
    """Re-wrap the account key under ``new`` and end the account's other sessions."""
    if new == old or not MIN_PASSWORD_CHARS <= len(new) <= MAX_PASSWORD_CHARS:
        raise WeakPassword(f"use {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters, "
                           "different from the old password")
    try:
        account.wrapped_private_key = rewrap_account_key(
            account.wrapped_private_key, old, new, profile=profile
        )
    except WrongPassword:
        raise LoginFailed("the current password is wrong") from None
    account.session_epoch += 1
