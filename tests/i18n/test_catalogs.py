"""Every catalog is complete, unfuzzy and keeps the source's placeholders and plural forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from intake.i18n import LANGUAGES, TRANSLATIONS

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")
CODES = [language.code for language in LANGUAGES]


def catalog(code: str) -> Catalog:
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=code)


def template_ids() -> set[object]:
    with Path(TRANSLATIONS / "messages.pot").open("rb") as handle:
        return {(m.context, m.id if isinstance(m.id, str) else m.id[0])
                for m in read_po(handle) if m.id}


@pytest.mark.parametrize("code", CODES)
def test_catalog_has_every_message_of_the_template(code: str) -> None:
    ids = {(m.context, m.id if isinstance(m.id, str) else m.id[0])
           for m in catalog(code) if m.id}
    assert template_ids() - ids == set()


@pytest.mark.parametrize("code", CODES)
def test_every_message_is_translated_and_not_fuzzy(code: str) -> None:
    problems = []
    for message in catalog(code):
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(forms):
            problems.append(message.id)
    assert problems == []


@pytest.mark.parametrize("code", CODES)
def test_placeholders_match_the_source(code: str) -> None:
    problems = []
    for message in catalog(code):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[-1]
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(source))
        for form in forms:
            if set(PLACEHOLDER.findall(form)) != wanted:
                problems.append((message.id, form))
    assert problems == []


@pytest.mark.parametrize("code", CODES)
def test_babel_checkers_find_nothing(code: str) -> None:
    """Babel's own checks: python-format consistency and the number of plural forms."""
    found = [(message.id, [str(e) for e in errors])
             for message, errors in catalog(code).check() if errors]
    assert found == []


@pytest.mark.parametrize("code", CODES)
def test_plural_entries_have_every_form_the_language_needs(code: str) -> None:
    book = catalog(code)
    for message in book:
        if message.id and isinstance(message.id, tuple):
            assert len(message.string) == book.num_plurals, message.id
