"""Finding a workplace the way a worker names it: poster code, or a misspelled name.

Workplaces change rarely and are read on every step of every report, so this module keeps a
small index of them per database (id, name, country, poster code), refreshed after
``INDEX_TTL`` and at once when this process changes a facility. Another process's change
shows here within ``INDEX_TTL``.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from intake.supplychain.models import Facility

# The shape workers type; in Chinese or Thai, words are not spaced: 工厂MY4821扣工资.
POSTER_CODE = re.compile(r"(?<![A-Za-z\d])([A-Za-z]{2}\d{4})(?![A-Za-z\d])")
MIN_NAME_SCORE = 60
# Fewer letters than this name no workplace: WRatio gives any text found inside a long name
# the cut-off score (60), so "2", "si" or "ok" would each "find" some factory.
MIN_NAME_LETTERS = 3
MAX_QUERY_CHARS = 100
INDEX_TTL = 60.0  # seconds


@dataclass(frozen=True)
class Workplace:
    """What a worker-facing page or text needs to know of a facility."""

    id: int
    name: str
    country: str
    poster_code: str


@dataclass
class _Index:
    loaded_at: float
    workplaces: tuple[Workplace, ...]
    by_id: dict[int, Workplace] = field(default_factory=dict)
    by_code: dict[str, Workplace] = field(default_factory=dict)


_indexes: dict[str, _Index] = {}
_lock = threading.Lock()


def _forget_index(*_args: Any) -> None:
    with _lock:
        _indexes.clear()


for _event in ("after_insert", "after_update", "after_delete"):
    event.listen(Facility, _event, _forget_index)


def _index(session: Session) -> _Index:
    key = str(session.get_bind().engine.url)
    now = time.monotonic()
    with _lock:
        cached = _indexes.get(key)
    if cached is not None and now - cached.loaded_at < INDEX_TTL:
        return cached
    rows = session.execute(
        select(Facility.id, Facility.name, Facility.country, Facility.poster_code)
        .order_by(Facility.country, Facility.name)
    ).all()
    workplaces = tuple(Workplace(r.id, r.name, r.country, r.poster_code) for r in rows)
    index = _Index(now, workplaces, {w.id: w for w in workplaces},
                   {normalise_code(w.poster_code): w for w in workplaces})
    with _lock:
        _indexes[key] = index
    return index


def normalise_code(text: str) -> str:
    """A poster code as kept: spaces, dashes and case ignored, and letters and digits as
    ASCII whichever keyboard typed them (a Chinese one may type ＭＹ４８２１)."""
    folded = re.sub(r"[\s-]", "", _typed(text))
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in folded).upper()


def _typed(text: str) -> str:
    """Full-width letters and digits (a Chinese or Japanese keyboard's) as plain ones."""
    return unicodedata.normalize("NFKC", text)


def mentions_poster_code(text: str) -> bool:
    """Something shaped like a poster code somewhere in ``text`` (no database needed)."""
    return POSTER_CODE.search(_typed(text)) is not None


def is_poster_code(text: str) -> bool:
    """``text`` is only something shaped like a poster code."""
    return POSTER_CODE.fullmatch(_typed(text).strip()) is not None


def get(session: Session, facility_id: int | None) -> Workplace | None:
    if facility_id is None:
        return None
    return _index(session).by_id.get(facility_id)


def by_poster_code(session: Session, text: str) -> Workplace | None:
    """The workplace whose poster code is ``text`` (spaces, dashes and case ignored)."""
    code = normalise_code(text)
    if not code or len(code) > 16:
        return None
    return _index(session).by_code.get(code)


def code_in_text(session: Session, text: str) -> Workplace | None:
    """A workplace whose poster code appears anywhere in a message (SMS first messages)."""
    for match in POSTER_CODE.finditer(_typed(text)):
        found = by_poster_code(session, match.group(1))
        if found is not None:
            return found
    return None


def search(session: Session, text: str, *, limit: int = 8) -> list[Workplace]:
    """Workplaces whose names best match ``text``, best first (rapidfuzz WRatio)."""
    query = _typed(text).strip()[:MAX_QUERY_CHARS]
    if _letters(query) < MIN_NAME_LETTERS:
        return []
    index = _index(session)
    matches = process.extract(
        query, {w.id: w.name for w in index.workplaces}, scorer=fuzz.WRatio,
        processor=utils.default_process, limit=limit, score_cutoff=MIN_NAME_SCORE,
    )
    return [index.by_id[key] for _name, _score, key in matches]


def _letters(text: str) -> int:
    """Letters in ``text``, in any script; a wide one (a Chinese character) counts two, as
    two of them often make a name."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
               for c in text if c.isalpha())


def count(session: Session) -> int:
    return len(_index(session).workplaces)


def all_by_country(session: Session) -> list[Workplace]:
    return list(_index(session).workplaces)
