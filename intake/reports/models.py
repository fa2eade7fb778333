"""Reports, the desks each is sealed to, and the sealed thread between worker and desk.

What is in the clear is what triage needs to filter on (facility, language, channel,
category) and the *day* of arrival, never the minute (DESIGN 2).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.db import Base, new_id, today


class Channel(enum.StrEnum):
    WEB = "web"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    PHONE = "phone"
    IN_PERSON = "in_person"


class TriageStatus(enum.StrEnum):
    """Where a report stands in one desk's triage (each desk triages its own copy)."""

    NEW = "new"
    IN_TRIAGE = "in_triage"
    IN_CASE = "in_case"
    NO_ACTION = "no_action"


# The queue shows new reports first, then those being triaged, then the rest.
QUEUE_RANK = {TriageStatus.NEW: 0, TriageStatus.IN_TRIAGE: 1, TriageStatus.IN_CASE: 2,
              TriageStatus.NO_ACTION: 3}


class Severity(enum.StrEnum):
    IMMEDIATE_DANGER = "immediate_danger"
    SERIOUS = "serious"
    OTHER = "other"


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    received_on: Mapped[dt.date] = mapped_column(Date, default=today)
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    language: Mapped[str] = mapped_column(String(16))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    # Category codes the worker chose, sorted and comma-joined (triage filters on them).
    categories: Mapped[str] = mapped_column(String(200), default="")
    # Set when the receipt is issued: at once on the web, at the end of an SMS conversation
    # (whose words arrive as sealed messages before the worker has a receipt).
    receipt_lookup: Mapped[bytes | None] = mapped_column(LargeBinary, unique=True)
    worker_public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    desks: Mapped[list[ReportDesk]] = relationship(
        cascade="all, delete-orphan", foreign_keys="ReportDesk.report_id"
    )
    messages: Mapped[list[ReportMessage]] = relationship(
        cascade="all, delete-orphan", order_by="ReportMessage.seq"
    )


class ReportDesk(Base):
    """A desk the report is sealed to (who may see it) and that desk's triage of it.

    Triage state is per desk: two desks covering one facility each decide for themselves.
    ``received_on``, ``facility_id``, ``channel`` and ``language`` repeat the report's (they
    never change after arrival) so the queue and its counts read this table alone.
    """

    __tablename__ = "report_desks"

    report_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), primary_key=True, index=True)
    received_on: Mapped[dt.date] = mapped_column(Date, default=today)
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    language: Mapped[str] = mapped_column(String(16))
    status: Mapped[TriageStatus] = mapped_column(
        Enum(TriageStatus, native_enum=False, length=16), default=TriageStatus.NEW
    )
    queue_rank: Mapped[int] = mapped_column(SmallInteger, default=0)
    category: Mapped[str | None] = mapped_column(String(40))
    severity: Mapped[Severity | None] = mapped_column(Enum(Severity, native_enum=False, length=24))
    tags: Mapped[str] = mapped_column(String(400), default="")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("reports.id", ondelete="SET NULL")
    )
    no_action_reason: Mapped[str | None] = mapped_column(String(40))
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    # The thread's last place when a member of this desk last opened the report: the
    # worker's words after it are new to the desk (the queue marks them). None: never opened.
    seen_seq: Mapped[int | None] = mapped_column(Integer)

    # The queue is read per desk, new first then newest; its filters and per-facet counts
    # read only this table (and facilities for the country), as index-only scans where the
    # database can (PostgreSQL's INCLUDE). bench/triage.py measures it on 1,000,000 reports.
    __table_args__ = (
        Index("ix_report_desks_queue", "desk_id", "queue_rank", "received_on", "report_id",
              postgresql_include=["status", "category", "channel", "language", "facility_id"]),
        Index("ix_report_desks_facility", "desk_id", "facility_id", "queue_rank",
              "received_on", "report_id"),
    )


class Author(enum.StrEnum):
    WORKER = "worker"
    DESK = "desk"


class ReportMessage(Base):
    """One sealed message in a report's thread: a worker's addition or a desk's reply."""

    __tablename__ = "report_messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column()
    author: Mapped[Author] = mapped_column(Enum(Author, native_enum=False, length=16))
    author_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    sent_on: Mapped[dt.date] = mapped_column(Date, default=today)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
