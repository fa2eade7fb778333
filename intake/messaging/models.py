"""Conversation state per sender_tag (never a number), idempotency records, outbound queue.

The conversation keeps a minute-precise ``updated_at`` because idle expiry needs it; the row
is deleted when the conversation ends or expires, and it never names a report's content.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import (
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UTCDateTime, new_id, utcnow


class Conversation(Base):
    __tablename__ = "sms_conversations"

    sender_tag: Mapped[str] = mapped_column(String(80), primary_key=True)
    inbound_number: Mapped[str] = mapped_column(String(20))
    whatsapp: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(16))
    step: Mapped[str] = mapped_column(String(32))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    category: Mapped[str | None] = mapped_column(String(40))
    candidate_facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    report_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("reports.id", ondelete="SET NULL")
    )
    return_step: Mapped[str | None] = mapped_column(String(32))
    invalid_answers: Mapped[int] = mapped_column(Integer, default=0)
    # The worker's phone types Burmese in Zawgyi (intake.reports.burmese): answers are sent
    # in that spelling. A fact about the phone's font, as ``language`` is about its reader.
    zawgyi: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised by every write: a message writes the row only if the version it read is still
    # there, so two messages of one sender never overwrite each other (no lock is held while
    # a turn is handled). ORM writes raise it through ``version_id_col``.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)


class OptOut(Base):
    """A sender_tag that texted STOP: we send them nothing until START."""

    __tablename__ = "sms_opt_outs"

    sender_tag: Mapped[str] = mapped_column(String(80), primary_key=True)


class ProcessedInbound(Base):
    """An inbound MessageSid already handled, keyed by a keyed hash of the sid.

    The reply is kept sealed under a key derived from the sid and the pepper until
    ``keep_until``, so a retried webhook gets the same answer (DESIGN 5.2); the web's Send and
    the forms handled once (``intake.once``) keep theirs here too, each for its own window.
    A periodic job then drops it (``intake.messaging.inbound.forget_old_replies``); the tag
    stays, so a late repeat is still recognised.
    """

    __tablename__ = "processed_inbound"
    __table_args__ = (
        # Only the replies still kept: the sweep finds those due without reading the tags of
        # every message ever handled.
        Index("ix_processed_inbound_kept", "keep_until",
              postgresql_where=text("reply_sealed IS NOT NULL"),
              sqlite_where=text("reply_sealed IS NOT NULL")),
    )

    sid_tag: Mapped[str] = mapped_column(String(80), primary_key=True)
    processed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reply_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # None: kept before each row said how long (then the longest window, ``LONGEST_KEEP``)
    keep_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class OutboundStatus(enum.StrEnum):
    QUEUED = "queued"
    # Handed to Twilio, or about to be: a job that finds this status after a crash looks in
    # Twilio's list before sending, so a text is never sent twice.
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    OPTED_OUT = "opted_out"
    # WhatsApp refused it: its 24-hour window had closed. We sent the approved notice
    # (``nudge_sid``); the text goes out again when the worker answers it.
    HELD = "held"


# Texts still owed: when the number goes (STOP, retention), these will never be sent.
OWED = (OutboundStatus.QUEUED, OutboundStatus.HELD)


class OutboundMessage(Base):
    """A text we owe a worker (a desk reply, a remedy question); content stays sealed."""

    __tablename__ = "outbound_messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("report_messages.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[OutboundStatus] = mapped_column(
        Enum(OutboundStatus, native_enum=False, length=16), default=OutboundStatus.QUEUED
    )
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Twilio's error code for a text it could not deliver (why, for the desk; no content).
    error_code: Mapped[str | None] = mapped_column(String(8))
    # The approved WhatsApp notice sent for a HELD text: Twilio's sid of it, or the claim of
    # the job sending it (``NUDGE_CLAIM`` + hex) until Twilio answers. Set once, never again.
    nudge_sid: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    # When WhatsApp's refusal made it HELD: a text whose notice goes unanswered for
    # ``NOTICE_WAIT`` is given up (``expire_held``).
    held_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PendingDeletion(Base):
    """A message Twilio still keeps (one a worker sent us, or one we sent them: a reply, a
    receipt); a job deletes it there, retried until done."""

    __tablename__ = "provider_deletions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    provider_sid: Mapped[str] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # One of ours (False: one a worker sent). Twilio refuses to delete a message it has
    # just sent (error 20009): ours wait until ``not_before``.
    outbound: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    not_before: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Counter(Base):
    """A named running count for operations (e.g. messages deleted at Twilio)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
