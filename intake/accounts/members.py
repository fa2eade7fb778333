"""Desk membership: unlocking a member's desk keys, inviting, the two-person vetting rule,
removal, and recovery of a desk from its offline secret (DESIGN 4.2, 6)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.hierarchy import Argon2Profile, recover_desk_key, unwrap_desk_key, wrap_desk_key
from crypto.keys import PrivateKey, PublicKey
from intake.accounts.models import (
    Account,
    AccountStatus,
    Desk,
    Membership,
    MembershipApproval,
    MembershipStatus,
    Role,
)
from intake.accounts.service import NewAccount, create_account, desk_context, give_new_keys
from intake.audit.service import record
from intake.errors import IntakeError

APPROVALS_NEEDED = 2
MAX_EMAIL_CHARS = 254  # the accounts.email column
ALREADY_INVITED = "that person is already a member or invited"


class MembershipError(IntakeError):
    """The membership change is not allowed; the message says why."""


class DeskNotFound(IntakeError):
    """No desk has that name or id."""


@dataclass(frozen=True)
class Invitation:
    membership: Membership
    new_account: NewAccount | None  # None when the address already had an account


def unlock_desks(
    session: Session, account: Account, account_key: PrivateKey
) -> dict[int, PrivateKey]:
    """The desk keys of every active membership whose wrap opens with the account key."""
    keys: dict[int, PrivateKey] = {}
    rows = session.scalars(select(Membership).where(
        Membership.account_id == account.id, Membership.status == MembershipStatus.ACTIVE,
        Membership.wrapped_desk_key.is_not(None),
    ))
    for membership in rows:
        wrapped = membership.wrapped_desk_key or b""
        try:
            keys[membership.desk_id] = unwrap_desk_key(
                wrapped, account_key, desk_id=desk_context(membership.desk_id)
            )
        except CryptoError:
            continue  # a damaged wrap: the member asks another to re-add them
    return keys


def invite(
    session: Session, *, desk: Desk, email: str, display_name: str, invited_by: Account,
    secret_key: bytes, profile: Argon2Profile,
) -> Invitation:
    """A pending membership (and account, if new). It sees nothing until two approve."""
    email = email.strip().lower()
    if len(email) > MAX_EMAIL_CHARS:  # checked once lower-cased: "İ" becomes two characters
        raise MembershipError(f"an e-mail address can have at most {MAX_EMAIL_CHARS} characters")
    account, created = _invitee(session, email=email, display_name=display_name,
                                secret_key=secret_key, profile=profile)
    if account.role is not Role.MONITOR:
        raise MembershipError("that address belongs to an account that is not a monitor")
    existing = session.scalar(select(Membership).where(
        Membership.desk_id == desk.id, Membership.account_id == account.id))
    if existing is not None and existing.status is not MembershipStatus.REMOVED:
        raise MembershipError(ALREADY_INVITED)
    if existing is None:
        existing = Membership(desk_id=desk.id, account_id=account.id)
        try:
            with session.begin_nested():
                session.add(existing)
        except IntegrityError:  # another member invited them at the same moment
            raise MembershipError(ALREADY_INVITED) from None
    existing.status = MembershipStatus.PENDING
    existing.wrapped_desk_key = None
    existing.invited_by_id = invited_by.id
    session.flush()
    session.execute(delete(MembershipApproval).where(
        MembershipApproval.membership_id == existing.id))
    record(session, "member.invite", actor_id=invited_by.id, desk_id=desk.id,
           object_type="account", object_id=account.id)
    return Invitation(membership=existing, new_account=created)


def _lock(session: Session, membership: Membership) -> None:
    """Read the membership again, locked until commit: two approvals at the same moment (a
    double click, two members) or an approval and a removal are then decided one after the
    other, each on what the other did, never both on the same stale state."""
    session.refresh(membership, with_for_update=True)


def _invitee(session: Session, *, email: str, display_name: str, secret_key: bytes,
             profile: Argon2Profile) -> tuple[Account, NewAccount | None]:
    """The account of the address, made now if there is none (returned as new too)."""
    account = session.scalar(select(Account).where(Account.email == email))
    if account is not None:
        return account, None
    try:
        with session.begin_nested():
            created = create_account(
                session, email=email, display_name=display_name, role=Role.MONITOR,
                secret_key=secret_key, profile=profile, status=AccountStatus.ACTIVE,
            )
    except IntegrityError:  # made at the same moment by another invitation (any desk's)
        account = session.scalar(select(Account).where(Account.email == email))
        if account is None:
            raise
        return account, None
    return created.account, created


def approvals_of(session: Session, membership: Membership) -> int:
    return session.scalar(select(func.count()).select_from(MembershipApproval).where(
        MembershipApproval.membership_id == membership.id)) or 0


def approve(
    session: Session, *, membership: Membership, approver: Account, desk_key: PrivateKey
) -> bool:
    """Record one member's approval; the second distinct approval activates the member
    (their wrap of the desk key is made with ``desk_key``). True once active."""
    _lock(session, membership)
    if membership.status is not MembershipStatus.PENDING:
        raise MembershipError("this person is not waiting for approval")
    if membership.account_id == approver.id:
        raise MembershipError("nobody can approve themselves")
    already = session.get(MembershipApproval, (membership.id, approver.id))
    if already is not None:
        raise MembershipError("you have approved this person already; another member must too")
    session.add(MembershipApproval(membership_id=membership.id, approver_id=approver.id))
    session.flush()
    record(session, "member.approve", actor_id=approver.id, desk_id=membership.desk_id,
           object_type="account", object_id=membership.account_id)
    if approvals_of(session, membership) < APPROVALS_NEEDED:
        return False
    account = session.get_one(Account, membership.account_id)
    membership.wrapped_desk_key = wrap_desk_key(
        desk_key, PublicKey.from_bytes(account.public_key),
        desk_id=desk_context(membership.desk_id),
    )
    membership.status = MembershipStatus.ACTIVE
    record(session, "member.activate", actor_id=approver.id, desk_id=membership.desk_id,
           object_type="account", object_id=membership.account_id)
    return True


def remove(session: Session, *, membership: Membership, removed_by: Account) -> None:
    """Delete the member's wrap and end their sessions at once."""
    _lock(session, membership)
    if membership.status is MembershipStatus.REMOVED:
        raise MembershipError("this person is not a member any more")
    membership.status = MembershipStatus.REMOVED
    membership.wrapped_desk_key = None
    account = session.get_one(Account, membership.account_id)
    account.session_epoch += 1
    record(session, "member.remove", actor_id=removed_by.id, desk_id=membership.desk_id,
           object_type="account", object_id=membership.account_id)


def new_first_password(
    session: Session, *, membership: Membership, by: Account, secret_key: bytes,
    profile: Argon2Profile,
) -> NewAccount:
    """New keys and a new first password for an invited person who has never signed in:
    the page that showed the first one was lost (a dropped connection, a closed tab), and
    the password cannot be read back (it exists only as the wrap of the account's key).

    Refused once the person has enrolled their authenticator (they can change their own
    password), and while any desk's key is wrapped to their account (new keys would lock
    them out of it). The approvals of this invitation start again: two members approve the
    person who will sign in with the password shown now."""
    _lock(session, membership)
    if membership.status is not MembershipStatus.PENDING:
        raise MembershipError("this person is not waiting for approval")
    account = session.get_one(Account, membership.account_id, with_for_update=True)
    if account.totp_enrolled:
        raise MembershipError("this person has signed in already; they can change their "
                              "own password")
    if session.scalar(select(Membership.id).where(
            Membership.account_id == account.id,
            Membership.wrapped_desk_key.is_not(None)).limit(1)) is not None:
        raise MembershipError("this person is a member of another desk; new keys would "
                              "lock them out of it")
    created = give_new_keys(account, secret_key=secret_key, profile=profile)
    account.failed_logins, account.locked_until = 0, None
    account.session_epoch += 1
    session.execute(delete(MembershipApproval).where(
        MembershipApproval.membership_id == membership.id))
    record(session, "member.new_password", actor_id=by.id, desk_id=membership.desk_id,
           object_type="account", object_id=account.id)
    return created


def desk_by_name(session: Session, name: str) -> Desk:
    desk = session.scalar(select(Desk).where(Desk.name == name))
    if desk is None:
        raise DeskNotFound(f"no desk is named {name!r}")
    return desk


def recover(session: Session, *, desk: Desk, secret: str, account: Account) -> Membership:
    """Restore access to ``desk`` from its recovery secret: (re)make ``account`` an active
    member with a fresh wrap. Raises RecoveryTypo / WrongPassword from crypto."""
    desk_key = recover_desk_key(desk.recovery_wrap, secret, desk_id=desk_context(desk.id))
    membership = session.scalar(select(Membership).where(
        Membership.desk_id == desk.id, Membership.account_id == account.id))
    if membership is None:
        membership = Membership(desk_id=desk.id, account_id=account.id)
        session.add(membership)
    membership.status = MembershipStatus.ACTIVE
    membership.wrapped_desk_key = wrap_desk_key(
        desk_key, PublicKey.from_bytes(account.public_key), desk_id=desk_context(desk.id)
    )
    session.flush()
    record(session, "desk.recover", actor_id=None, desk_id=desk.id,
           object_type="account", object_id=account.id)
    return membership


def active_members(session: Session, desk_id: int) -> list[tuple[Membership, Account]]:
    rows = session.execute(
        select(Membership, Account).join(Account, Account.id == Membership.account_id)
        .where(Membership.desk_id == desk_id, Membership.status != MembershipStatus.REMOVED)
        .order_by(Account.display_name)
    )
    return [(m, a) for m, a in rows]
