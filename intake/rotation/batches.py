"""Walking every report that holds a sealed number, in keyset batches of bounded size."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.reports.models import Report


def reports_with_numbers(session: Session, *, batch: int) -> Iterator[list[Report]]:
    """Every report with a sealed number, ``batch`` at a time in id order.

    After each batch the caller's changes are flushed and the rows let go, so memory stays
    bounded however many reports there are; the transaction holds the pending changes.
    """
    last = uuid.UUID(int=0)
    while True:
        reports = list(session.scalars(
            select(Report).where(Report.contact_sealed.is_not(None), Report.id > last)
            .order_by(Report.id).limit(batch)))
        if not reports:
            return
        last = reports[-1].id
        yield reports
        session.flush()
        session.expunge_all()
