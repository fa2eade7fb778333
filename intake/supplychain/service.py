"""Finding a workplace the way a worker names it: poster code, or a misspelled name."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process, utils
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.supplychain.models import Facility

_CODE = re.compile(r"\b([A-Za-z]{2}\d{4})\b")
MIN_NAME_SCORE = 60
MAX_QUERY_CHARS = 100


def normalise_code(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()


def by_poster_code(session: Session, text: str) -> Facility | None:
    """The facility whose poster code is ``text`` (spaces, dashes and case ignored)."""
    code = normalise_code(text)
    if not code or len(code) > 16:
        return None
    return session.scalar(select(Facility).where(func.upper(Facility.poster_code) == code))


def code_in_text(session: Session, text: str) -> Facility | None:
    """A facility whose poster code appears anywhere in a message (SMS first messages)."""
    for match in _CODE.finditer(text):
        found = by_poster_code(session, match.group(1))
        if found is not None:
            return found
    return None


def search(session: Session, text: str, *, limit: int = 8) -> list[Facility]:
    """Facilities whose names best match ``text``, best first (rapidfuzz WRatio)."""
    query = text.strip()[:MAX_QUERY_CHARS]
    if not query:
        return []
    rows = session.execute(select(Facility.id, Facility.name)).all()
    matches = process.extract(
        query, {row.id: row.name for row in rows}, scorer=fuzz.WRatio,
        processor=utils.default_process, limit=limit, score_cutoff=MIN_NAME_SCORE,
    )
    ids = [key for _name, _score, key in matches]
    by_id = {f.id: f for f in session.scalars(select(Facility).where(Facility.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Facility)) or 0)


def all_by_country(session: Session) -> list[Facility]:
    return list(session.scalars(select(Facility).order_by(Facility.country, Facility.name)))
