"""Desks (monitor organisations), accounts and desk memberships with their wrapped keys."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.db import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    MONITOR = "monitor"
    BUYER = "buyer"


class AccountStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Desk(Base):
    """A monitor organisation; its private key exists only wrapped (to members, to recovery)."""

    __tablename__ = "desks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    recovery_wrap: Mapped[bytes] = mapped_column(LargeBinary)
    is_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    k_threshold: Mapped[int] = mapped_column(Integer, default=3)
    # Alerts go out in one daily batch at this hour (UTC), the day after a case is alerted
    # at the earliest: never the minute a report arrives (DESIGN 2).
    alert_batch_hour: Mapped[int] = mapped_column(Integer, default=6)
    retention_days: Mapped[int] = mapped_column(Integer, default=730)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Account(Base):
    """A monitor, buyer or admin. The password never leaves Argon2id: it unwraps the key."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16))
    status: Mapped[AccountStatus] = mapped_column(
        Enum(AccountStatus, native_enum=False, length=16), default=AccountStatus.PENDING
    )
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    totp_secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    buyer_org_id: Mapped[int | None] = mapped_column(ForeignKey("buyer_orgs.id"))
    language: Mapped[str] = mapped_column(String(16), default="en")
    # TOTP is confirmed at enrolment (first login scans the QR code and types a code);
    # the last accepted time step is kept so one code cannot be replayed.
    totp_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Raised to end every session of the account at once (password change, removal).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="account", foreign_keys="Membership.account_id"
    )


class MembershipStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REMOVED = "removed"


class Membership(Base):
    """An account's place in a desk; ``wrapped_desk_key`` is set once two members approve."""

    __tablename__ = "memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    status: Mapped[MembershipStatus] = mapped_column(
        Enum(MembershipStatus, native_enum=False, length=16), default=MembershipStatus.PENDING
    )
    wrapped_desk_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[Account] = relationship(back_populates="memberships", foreign_keys=[account_id])
    desk: Mapped[Desk] = relationship()

    __table_args__ = (UniqueConstraint("desk_id", "account_id"),)


class MembershipApproval(Base):
    """One active member's approval of a pending member (two are needed)."""

    __tablename__ = "membership_approvals"

    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), primary_key=True)
    approver_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    approved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SmsNumber(Base):
    """An inbound number we operate (public by nature) and the language its callers get first."""

    __tablename__ = "sms_numbers"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    default_language: Mapped[str] = mapped_column(String(16))


class ApiToken(Base):
    """A monitor's API token for one desk. Only a hash of the secret is stored; the desk key
    is kept sealed under a key derived from the secret, so the token is needed to use it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    desk_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_on: Mapped[dt.date | None] = mapped_column(Date)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class InstallState(Base):
    """Per-install values that are not secrets: the receipt salt, the courier public key."""

    __tablename__ = "install_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
