"""Alerts to buyers (one per case and buyer organisation, delivered in batches), buyers'
webhook endpoints, every delivery attempt, and the buyers' shared, desk-moderated thread."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UTCDateTime, new_id, utcnow


class Alert(Base):
    """A case's alert for one buyer organisation. Counts, never reports; the text buyers
    read is the case's approved de-identified summary."""

    __tablename__ = "alerts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("buyer_orgs.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Delivered with the first batch at or after this time (never the minute a report came).
    deliver_after: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    report_count: Mapped[int] = mapped_column(Integer)
    added_by_hand: Mapped[bool] = mapped_column(Boolean, default=False)
    # The monitor confirmed the re-identification warning (one report, small workplace).
    reidentification_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("case_id", "buyer_org_id"),)


class BuyerWebhook(Base):
    """A buyer's endpoint for signed webhooks (Standard Webhooks). The signing secret is
    kept sealed under a key derived from the app secret (it must be usable to sign)."""

    __tablename__ = "buyer_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("buyer_orgs.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryChannel(enum.StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class DeliveryAttempt(Base):
    """One attempt to deliver to a buyer (a webhook call or a digest e-mail): when, how it
    went. Never the alert's text."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("buyer_orgs.id"), index=True)
    alert_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[DeliveryChannel] = mapped_column(
        Enum(DeliveryChannel, native_enum=False, length=16)
    )
    message_id: Mapped[str] = mapped_column(String(64))  # webhook-id / digest id, for retries
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(100))


class ThreadMessage(Base):
    """A message in the buyers' shared thread of a case (buyers of that facility and the
    desk). Written by buyers and the desk, about the buyers' action; the desk moderates."""

    __tablename__ = "case_thread_messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    buyer_org_id: Mapped[int | None] = mapped_column(ForeignKey("buyer_orgs.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    body: Mapped[str] = mapped_column(Text)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
