"""Factories for test data: desks with real keys, facilities, coverage, cases."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crypto.hierarchy import TEST_FAST
from crypto.keys import PrivateKey
from intake.accounts.models import Desk, SmsNumber
from intake.accounts.service import create_desk
from intake.cases.models import Case, CaseReport
from intake.reports.models import Severity
from intake.supplychain.models import Coverage, Facility

_counter = itertools.count(1)


@dataclass
class DeskWithKey:
    desk: Desk
    key: PrivateKey


def desk(session: Session, *, country: str = "MY", fallback: bool = False) -> DeskWithKey:
    created = create_desk(
        session, name=f"Desk {next(_counter)}", country=country, profile=TEST_FAST,
        is_fallback=fallback,
    )
    return DeskWithKey(created.desk, created.private_key)


def facility(
    session: Session, *, name: str | None = None, country: str = "MY", code: str | None = None,
    other_names: list[str] | None = None,
) -> Facility:
    number = next(_counter)
    row = Facility(
        name=name or f"Facility {number}", country=country,
        poster_code=code or f"{country}{9000 + number:04d}", other_names=other_names,
    )
    session.add(row)
    session.flush()
    return row


def cover(session: Session, covering: DeskWithKey, facility_: Facility) -> None:
    session.add(Coverage(desk_id=covering.desk.id, facility_id=facility_.id))
    session.flush()


def sms_number(session: Session, number: str, *, country: str, language: str) -> SmsNumber:
    row = SmsNumber(number=number, country=country, default_language=language)
    session.add(row)
    session.flush()
    return row


def case_asking_verdict(
    session: Session, *, desk_id: int, facility_id: int, report_id: uuid.UUID
) -> Case:
    """A case the desk proposes to close, so linked workers are asked for their verdict."""
    case = Case(
        id=uuid.uuid4(), desk_id=desk_id, facility_id=facility_id, category="wages",
        severity=Severity.SERIOUS, title_sealed=b"\x00", verdict_requested_on=dt.date.today(),
    )
    session.add(case)
    session.flush()
    session.add(CaseReport(case_id=case.id, report_id=report_id))
    session.flush()
    return case
