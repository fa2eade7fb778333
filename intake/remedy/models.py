"""Remedy actions on a case and the workers' verdicts (UNGP principle 31)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import Date, Enum, ForeignKey, LargeBinary, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, new_id, today


class ActionOwner(enum.StrEnum):
    SUPPLIER = "supplier"
    BUYER = "buyer"
    DESK = "desk"


class ActionStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_DONE = "not_done"


class RemedyAction(Base):
    __tablename__ = "remedy_actions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[ActionOwner] = mapped_column(Enum(ActionOwner, native_enum=False, length=16))
    buyer_org_id: Mapped[int | None] = mapped_column(ForeignKey("buyer_orgs.id"))
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(Text)  # what counts as evidence it was done
    status: Mapped[ActionStatus] = mapped_column(
        Enum(ActionStatus, native_enum=False, length=16), default=ActionStatus.PLANNED
    )
    created_on: Mapped[dt.date] = mapped_column(Date, default=today)
    done_on: Mapped[dt.date | None] = mapped_column(Date)


class BuyerActionKind(enum.StrEnum):
    CONTRACT_CLAUSE = "contract_clause"
    JOINT_LETTER = "joint_letter"
    AUDIT_REQUEST = "audit_request"
    CORRECTIVE_ACTION_PLAN = "corrective_action_plan"
    SUSPENSION = "suspension"
    OTHER = "other"


class BuyerAction(Base):
    """What a buyer did about an alert, with a description of the evidence they hold."""

    __tablename__ = "buyer_actions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("buyer_orgs.id"), index=True)
    remedy_action_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("remedy_actions.id", ondelete="SET NULL")
    )
    kind: Mapped[BuyerActionKind] = mapped_column(
        Enum(BuyerActionKind, native_enum=False, length=32)
    )
    description: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    taken_on: Mapped[dt.date] = mapped_column(Date, default=today)


class Verdict(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class WorkerVerdict(Base):
    """A worker's answer to "was the problem really fixed?"; the comment is sealed to the desk."""

    __tablename__ = "worker_verdicts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    # None once retention deleted the report: the verdict still counts on the dashboards.
    report_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("reports.id", ondelete="CASCADE")
    )
    verdict: Mapped[Verdict] = mapped_column(Enum(Verdict, native_enum=False, length=8))
    comment_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    given_on: Mapped[dt.date] = mapped_column(Date, default=today)
    channel: Mapped[str] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("case_id", "report_id"),)
