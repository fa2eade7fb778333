"""Cases, the reports they group, and desk notes (sealed to the desk)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import Date, Enum, ForeignKey, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UTCDateTime, new_id, today, utcnow
from intake.reports.models import Severity


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    ALERTED = "alerted"
    REMEDIATION = "remediation"
    CLOSED_REMEDIED = "closed_remedied"
    CLOSED_NOT_REMEDIED = "closed_not_remedied"
    CLOSED_OTHER = "closed_other"


class Case(Base):
    """``summary_approved`` is the only text that may leave the desk; all else is sealed."""

    __tablename__ = "cases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), index=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[Severity] = mapped_column(Enum(Severity, native_enum=False, length=24))
    status: Mapped[CaseStatus] = mapped_column(
        Enum(CaseStatus, native_enum=False, length=24), default=CaseStatus.OPEN
    )
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    summary_draft_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    summary_approved: Mapped[str | None] = mapped_column(Text)
    opened_on: Mapped[dt.date] = mapped_column(Date, default=today)
    # Set when the desk proposes to close: linked workers are asked for their verdict.
    verdict_requested_on: Mapped[dt.date | None] = mapped_column(Date)
    alerted_on: Mapped[dt.date | None] = mapped_column(Date)
    remedied_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


class CaseReport(Base):
    __tablename__ = "case_reports"

    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    report_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CaseNote(Base):
    __tablename__ = "case_notes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
