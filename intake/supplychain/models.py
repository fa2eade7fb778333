"""Facilities, suppliers, buyer organisations, contracts and desk coverage."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.db import Base


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))


class Facility(Base):
    """A workplace. ``poster_code`` is printed on posters and typed by workers (SMS, web).
    ``other_names`` are names workers use that the map does not write, often in another
    script (槟城电路, ปีนังเซอร์กิต): a worker's search finds the workplace by any of them."""

    __tablename__ = "facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    address: Mapped[str | None] = mapped_column(String(400))
    sector: Mapped[str | None] = mapped_column(String(100))
    os_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    poster_code: Mapped[str] = mapped_column(String(16), unique=True)
    other_names: Mapped[list[str] | None] = mapped_column(JSON)
    worker_band: Mapped[str | None] = mapped_column(String(16))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))

    supplier: Mapped[Supplier | None] = relationship()


class BuyerOrg(Base):
    """A public buyer (a city, a hospital trust, a university)."""

    __tablename__ = "buyer_orgs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    share_identity: Mapped[bool] = mapped_column(Boolean, default=False)


class Contract(Base):
    """A buyer buys from a facility (through a supplier) between two dates."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyer_orgs.id"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), index=True)
    product_category: Mapped[str | None] = mapped_column(String(100))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("buyer_id", "facility_id", "starts_on"),)


class Coverage(Base):
    """A desk covers a facility: reports about it are sealed to that desk."""

    __tablename__ = "coverage"

    desk_id: Mapped[int] = mapped_column(ForeignKey("desks.id"), primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facilities.id"), primary_key=True)
