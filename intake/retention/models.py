"""Counts kept for the dashboards after retention deleted the reports behind them.

A tally row says "``count`` reports of this desk arrived in this month, for this workplace,
in this category, by this channel, and were first opened this many days after arriving".
It names no report, no day and no words: the month is the finest time it keeps.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base
from intake.reports.models import Channel


class ReportTally(Base):
    __tablename__ = "report_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"))
    month: Mapped[dt.date] = mapped_column(Date)  # the first day of the month of arrival
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facilities.id"))
    category: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=16))
    # Days from arrival to the desk first opening the report (None: never opened).
    triage_days: Mapped[int | None] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_report_tallies_desk_month", "desk_id", "month"),)
