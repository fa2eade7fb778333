"""API tokens: issuing one for a desk, revoking it, and turning a presented token back into
the caller and the desk key it carries.

A token reads ``wvi_<id>_<secret>`` with a 32-byte random secret (base64url). The database
keeps only SHA-256 of the secret (enough for a high-entropy secret: nothing to brute-force)
and the desk key sealed under a key derived from the secret, so a copy of the database
alone can neither present a token nor use the desk key (DESIGN 4.2). A token works only
while it is not revoked and its account is active and still an active member of the desk.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.keys import PrivateKey
from crypto.pseudonyms import open_with_key, seal_with_key
from crypto.subkeys import derive_subkey
from intake.accounts.models import (
    Account,
    AccountStatus,
    ApiToken,
    Desk,
    Membership,
    MembershipStatus,
    Role,
)
from intake.audit.service import record
from intake.db import today, utcnow
from intake.errors import IntakeError

PREFIX = "wvi"
SECRET_BYTES = 32
MAX_NAME_CHARS = 100
DESK_KEY_PURPOSE = "api token desk key v1"
# wvi_<id>_<43 base64url characters>; the secret's alphabet includes "_" itself.
_TOKEN = re.compile(r"wvi_([1-9][0-9]{0,17})_([A-Za-z0-9_-]{43})")


class TokenError(IntakeError):
    """Base class of the token errors."""


class TokenRejected(TokenError):
    """The token cannot be issued as asked; the message says why."""


class TokenInvalid(TokenError):
    """Malformed, unknown or revoked, or its owner may no longer use the desk. One answer
    for all, so a caller learns nothing about which."""


class TokenNotFound(TokenError):
    """No such token in this desk."""


@dataclass(frozen=True)
class IssuedToken:
    row: ApiToken
    text: str = field(repr=False)  # shown once to its creator, never stored


@dataclass(frozen=True)
class ApiCaller:
    """Who a valid token speaks for: one account, in one desk, with that desk's key."""

    account: Account
    desk_id: int
    token_id: int
    desk_key: PrivateKey = field(repr=False)


def _encode(secret: bytes) -> str:
    return base64.urlsafe_b64encode(secret).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes | None:
    try:
        secret = base64.urlsafe_b64decode(text + "=")
    except (binascii.Error, ValueError):
        return None
    # Only the canonical spelling: one secret, one token string.
    return secret if len(secret) == SECRET_BYTES and _encode(secret) == text else None


def _hash(secret: bytes) -> bytes:
    return hashlib.sha256(secret).digest()


def _context(token_id: int) -> bytes:
    return f"api-token:{token_id}".encode("ascii")


def _sealing_key(secret: bytes) -> bytes:
    return derive_subkey(secret, purpose=DESK_KEY_PURPOSE)


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise TokenRejected("give the token a name that says where it is used")
    if len(name) > MAX_NAME_CHARS:
        raise TokenRejected(f"a token name can have at most {MAX_NAME_CHARS} characters")
    return name


def issue(
    session: Session, *, account: Account, desk_id: int, desk_key: PrivateKey, name: str
) -> IssuedToken:
    """A new token for ``account`` in the desk; ``desk_key`` comes from their unlocked
    session and is kept only sealed under the token's secret. Audited (without the secret)."""
    name = check_name(name)
    secret = secrets.token_bytes(SECRET_BYTES)
    row = ApiToken(account_id=account.id, desk_id=desk_id, name=name,
                   token_hash=_hash(secret), desk_key_sealed=b"")
    session.add(row)
    session.flush()  # the id is part of the token and of the sealing context
    row.desk_key_sealed = seal_with_key(_sealing_key(secret), desk_key.to_bytes(),
                                        context=_context(row.id))
    record(session, "token.create", actor_id=account.id, desk_id=desk_id,
           object_type="api_token", object_id=row.id)
    session.flush()
    return IssuedToken(row=row, text=f"{PREFIX}_{row.id}_{_encode(secret)}")


def revoke(session: Session, *, desk_id: int, token_id: int, actor_id: int) -> ApiToken:
    """End a token of the desk at once (any member may: a leaked token is the desk's risk)."""
    row = session.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                                ApiToken.desk_id == desk_id))
    if row is None:
        raise TokenNotFound("no such token in this desk")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record(session, "token.revoke", actor_id=actor_id, desk_id=desk_id,
               object_type="api_token", object_id=row.id)
        session.flush()
    return row


def desk_tokens(session: Session, desk_id: int) -> list[tuple[ApiToken, str]]:
    """The desk's tokens, newest first, with their owner's display name."""
    rows = session.execute(
        select(ApiToken, Account.display_name).join(Account, Account.id == ApiToken.account_id)
        .where(ApiToken.desk_id == desk_id).order_by(ApiToken.id.desc()))
    return [(token, owner) for token, owner in rows]


def parse_bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, value = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def authenticate(session: Session, text: str, *, on: dt.date | None = None) -> ApiCaller:
    """The caller a presented token speaks for, or TokenInvalid. Notes the day of use."""
    found = _TOKEN.fullmatch(text)
    secret = _decode(found.group(2)) if found else None
    if found is None or secret is None:
        raise TokenInvalid("not a token")
    digest = _hash(secret)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if (row is None or not hmac.compare_digest(bytes(row.token_hash), digest)
            or row.id != int(found.group(1)) or row.revoked_at is not None):
        raise TokenInvalid("unknown or revoked token")
    account = _usable_account(session, row)
    desk_key = _desk_key(session, row, secret)
    day = on or today()
    if row.last_used_on != day:
        row.last_used_on = day
    return ApiCaller(account=account, desk_id=row.desk_id, token_id=row.id, desk_key=desk_key)


def _usable_account(session: Session, row: ApiToken) -> Account:
    account = session.get(Account, row.account_id)
    if (account is None or account.status is not AccountStatus.ACTIVE
            or account.role not in (Role.MONITOR, Role.ADMIN)):
        raise TokenInvalid("the token's account is not active")
    member = session.scalar(select(Membership.id).where(
        Membership.desk_id == row.desk_id, Membership.account_id == account.id,
        Membership.status == MembershipStatus.ACTIVE))
    if member is None:
        raise TokenInvalid("the token's account is no longer a member of the desk")
    return account


def _desk_key(session: Session, row: ApiToken, secret: bytes) -> PrivateKey:
    try:
        key = PrivateKey.from_bytes(open_with_key(_sealing_key(secret), row.desk_key_sealed,
                                                  context=_context(row.id)))
    except CryptoError:
        raise TokenInvalid("the token's desk key does not open") from None
    desk = session.get(Desk, row.desk_id)
    # A rotated desk key leaves old tokens holding a key that no longer opens new reports.
    if desk is None or bytes(desk.public_key) != key.public_key().to_bytes():
        raise TokenInvalid("the desk key has changed since the token was made")
    return key
