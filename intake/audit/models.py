"""Audit events: each carries the hash of the one before it (a hash chain)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    desk_id: Mapped[int | None] = mapped_column(ForeignKey("desks.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    # A short, content-free detail ("status=no_action", "count=12"); never words of a report.
    detail: Mapped[str | None] = mapped_column(String(200))
    # Unique: two writers racing for the same head cannot both append (the chain cannot fork).
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
