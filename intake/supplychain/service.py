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
from dataclasses import dataclass, field, replace
from typing import Any

from rapidfuzz import fuzz, process, utils
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from intake import i18n
from intake.reports.burmese import from_zawgyi
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
    """What a worker-facing page or text needs to know of a facility. ``known_as`` is the
    other name a search found it by (the worker's own words for it), else None."""

    id: int
    name: str
    country: str
    poster_code: str
    other_names: tuple[str, ...] = ()
    known_as: str | None = None

    @property
    def called(self) -> str:
        """The name to show the worker who searched: theirs if they used another."""
        return self.known_as or self.name

    def also_called(self, language: str) -> str | None:
        """The other name to show beside the map's to a worker who reads ``language``: the
        one they searched by, else the first written in their language's script. None in a
        language written in Latin letters: a Latin other name may be any language's."""
        if self.known_as is not None:
            return self.known_as
        script = i18n.script_of_language(language)
        if script in (None, "LATIN"):
            return None
        return next((name for name in self.other_names if i18n.script_of(name) == script), None)

    def name_for(self, language: str) -> str:
        """The name a worker who reads ``language`` knows it by, as far as the map tells."""
        return self.also_called(language) or self.name


@dataclass
class _Index:
    loaded_at: float
    workplaces: tuple[Workplace, ...]
    by_id: dict[int, Workplace] = field(default_factory=dict)
    by_code: dict[str, Workplace] = field(default_factory=dict)
    # Every name of every workplace, already folded for matching: (id, other name or None).
    names: dict[tuple[int, str | None], str] = field(default_factory=dict)


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
        select(Facility.id, Facility.name, Facility.country, Facility.poster_code,
               Facility.other_names)
        .order_by(Facility.country, Facility.name)
    ).all()
    workplaces = tuple(Workplace(r.id, r.name, r.country, r.poster_code,
                                 tuple(r.other_names or ())) for r in rows)
    names: dict[tuple[int, str | None], str] = {}
    for w in workplaces:
        names[(w.id, None)] = _folded(w.name)
        for other in w.other_names:
            names[(w.id, other)] = _folded(other)
    index = _Index(now, workplaces, {w.id: w for w in workplaces},
                   {normalise_code(w.poster_code): w for w in workplaces}, names)
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


def without_code(text: str, code: str) -> str:
    """``text`` with the poster code ``code`` (as kept) taken out wherever it is written,
    however wide; everything else as the worker typed it."""
    # Full-width letters and digits, each as its one plain character, so that the places
    # found are places in ``text``.
    plain = "".join(n if len(n := unicodedata.normalize("NFKC", c)) == 1 else c for c in text)
    spans = [match.span(1) for match in POSTER_CODE.finditer(plain)
             if normalise_code(match.group(1)) == code]
    for start, end in reversed(spans):
        left, right = text[:start].rstrip(), text[end:].lstrip()
        spaced = left and right and not unicodedata.category(right[0]).startswith("P")
        text = left + (" " if spaced else "") + right
    return text


def search(session: Session, text: str, *, limit: int = 8) -> list[Workplace]:
    """Workplaces whose names (the map's or another, ``Facility.other_names``) best match
    ``text``, best first (rapidfuzz WRatio), each once. One found by another name says so
    in ``known_as``."""
    query = _typed(text).strip()[:MAX_QUERY_CHARS]
    if _letters(query) < MIN_NAME_LETTERS:
        return []
    query = from_zawgyi(query) or query  # other names are kept in Unicode Burmese
    index = _index(session)
    matches = process.extract(
        _folded(query), index.names, scorer=fuzz.WRatio, processor=None, limit=None,
        score_cutoff=MIN_NAME_SCORE,
    )
    found: dict[int, Workplace] = {}
    for _name, _score, (facility_id, other) in matches:  # best first; ties keep the map's
        if facility_id not in found and len(found) < limit:
            found[facility_id] = replace(index.by_id[facility_id], known_as=other)
    return list(found.values())


def _folded(name: str) -> str:
    """A name as matched: full-width forms and Latin letters' accents dropped (a phone's SMS
    keyboard often has none: Juarez, Dong Nai), then rapidfuzz's own processing (case
    folded, anything but letters and digits a space; in Thai or Burmese, whose words are
    not spaced, that splits a name at its vowel signs, which scores parts of names better
    than whole runs of letters would)."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFKD", _typed(name).translate(_NO_STROKE)):
        if not (kept and kept[-1].isascii() and unicodedata.combining(char)):
            kept.append(char)
    return str(utils.default_process(unicodedata.normalize("NFC", "".join(kept))))


_NO_STROKE = str.maketrans("đĐ", "dD")  # Vietnamese: no decomposition drops the stroke


def _letters(text: str) -> int:
    """Letters in ``text``, in any script; a wide one (a Chinese character) counts two, as
    two of them often make a name."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
               for c in text if c.isalpha())


def count(session: Session) -> int:
    return len(_index(session).workplaces)


def all_by_country(session: Session) -> list[Workplace]:
    return list(_index(session).workplaces)
