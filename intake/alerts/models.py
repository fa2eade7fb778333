"""Alerts: one per case and buyer organisation, with its batch time and delivery state."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, ForeignKey, Integer, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UTCDateTime, new_id, utcnow


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    buyer_org_id: Mapped[int] = mapped_column(ForeignKey("buyer_orgs.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deliver_after: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    report_count: Mapped[int] = mapped_column(Integer)
    added_by_hand: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("case_id", "buyer_org_id"),)
