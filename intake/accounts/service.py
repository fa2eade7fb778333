"""Creating desks and accounts with real keys, and making a member of a desk."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.hierarchy import (
    Argon2Profile,
    new_recovery_secret,
    unwrap_account_key,
    wrap_account_key,
    wrap_desk_key,
    wrap_desk_key_for_recovery,
)
from crypto.keys import PrivateKey, PublicKey
from crypto.pseudonyms import open_with_key, seal_with_key
from crypto.subkeys import derive_subkey
from intake.accounts.models import (
    Account,
    AccountStatus,
    Desk,
    InstallState,
    Membership,
    MembershipStatus,
    Role,
)
from intake.errors import IntakeError

TOTP_PURPOSE = "totp-secrets v1"


class AccountExists(IntakeError):
    """An account with that e-mail address exists already."""


class DeskExists(IntakeError):
    """A desk with that name exists already."""


@dataclass(frozen=True)
class NewDesk:
    desk: Desk
    private_key: PrivateKey = field(repr=False)
    recovery_secret: str = field(repr=False)


@dataclass(frozen=True)
class NewAccount:
    account: Account
    password: str = field(repr=False)
    totp_secret: str = field(repr=False)


def desk_context(desk_id: int) -> str:
    return f"desk:{desk_id}"


def create_desk(
    session: Session,
    *,
    name: str,
    country: str | None,
    profile: Argon2Profile,
    is_fallback: bool = False,
) -> NewDesk:
    """A desk with a fresh keypair, wrapped to a recovery secret that is returned once."""
    if session.scalar(select(Desk.id).where(Desk.name == name)) is not None:
        raise DeskExists("a desk with this name exists already")
    private_key = PrivateKey.generate()
    desk = Desk(
        name=name,
        country=country,
        public_key=private_key.public_key().to_bytes(),
        recovery_wrap=b"",
        is_fallback=is_fallback,
    )
    session.add(desk)
    session.flush()  # the id binds the recovery wrap to this desk
    secret = new_recovery_secret()
    desk.recovery_wrap = wrap_desk_key_for_recovery(
        private_key, secret, desk_id=desk_context(desk.id), profile=profile
    )
    return NewDesk(desk=desk, private_key=private_key, recovery_secret=secret)


def create_account(
    session: Session,
    *,
    email: str,
    display_name: str,
    role: Role,
    secret_key: bytes,
    profile: Argon2Profile,
    status: AccountStatus = AccountStatus.PENDING,
    buyer_org_id: int | None = None,
    password: str | None = None,
) -> NewAccount:
    """An account with its own keypair, the private half wrapped under the password."""
    email = email.strip().lower()
    if session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise AccountExists("an account with this e-mail address exists already")
    account = Account(email=email, display_name=display_name, role=role, status=status,
                      buyer_org_id=buyer_org_id)
    created = give_new_keys(account, secret_key=secret_key, profile=profile, password=password)
    session.add(account)
    session.flush()
    return created


def give_new_keys(account: Account, *, secret_key: bytes, profile: Argon2Profile,
                  password: str | None = None) -> NewAccount:
    """A fresh keypair (the private half wrapped under a new first password) and a fresh
    TOTP secret to enrol at the next sign-in. Given to an account that had keys, nothing
    wrapped to its old key opens any more, nor does its old password or authenticator."""
    password = password or new_password()
    totp_secret = pyotp.random_base32()
    private_key = PrivateKey.generate()
    account.public_key = private_key.public_key().to_bytes()
    account.wrapped_private_key = wrap_account_key(private_key, password, profile=profile)
    account.totp_secret_sealed = seal_totp_secret(totp_secret, secret_key=secret_key,
                                                  email=account.email)
    account.totp_enrolled, account.totp_last_step = False, None
    return NewAccount(account=account, password=password, totp_secret=totp_secret)


def add_active_member(
    session: Session, *, desk: Desk, desk_key: PrivateKey, account: Account
) -> Membership:
    """Make ``account`` an active member, wrapping the desk key to the account's public key.

    Only someone holding the unlocked desk key can do this (DESIGN 4.2).
    """
    membership = Membership(
        desk_id=desk.id,
        account_id=account.id,
        status=MembershipStatus.ACTIVE,
        wrapped_desk_key=wrap_desk_key(
            desk_key, PublicKey.from_bytes(account.public_key), desk_id=desk_context(desk.id)
        ),
    )
    session.add(membership)
    session.flush()
    return membership


def check_password(account: Account, password: str) -> PrivateKey:
    """The account's private key if ``password`` is right (raises ``WrongPassword`` if not)."""
    return unwrap_account_key(account.wrapped_private_key, password)


def seal_totp_secret(totp_secret: str, *, secret_key: bytes, email: str) -> bytes:
    key = derive_subkey(secret_key, purpose=TOTP_PURPOSE)
    return seal_with_key(key, totp_secret.encode("ascii"), context=b"totp:" + email.encode())


def open_totp_secret(account: Account, *, secret_key: bytes) -> str:
    key = derive_subkey(secret_key, purpose=TOTP_PURPOSE)
    context = b"totp:" + account.email.encode()
    return open_with_key(key, account.totp_secret_sealed, context=context).decode("ascii")


def new_password() -> str:
    """A fresh random password, easy to read aloud (five groups of four lowercase letters)."""
    alphabet = "abcdefghijkmnopqrstuvwxyz"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(5))


def install_value(session: Session, name: str) -> bytes | None:
    row = session.get(InstallState, name)
    return row.value if row is not None else None


def ensure_install_value(session: Session, name: str, make: bytes) -> bytes:
    """Store ``make`` under ``name`` unless a value is there already; return the stored one."""
    existing = install_value(session, name)
    if existing is not None:
        return existing
    session.add(InstallState(name=name, value=make))
    session.flush()
    return make
