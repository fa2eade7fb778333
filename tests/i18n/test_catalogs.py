"""Every catalog is complete, unfuzzy and keeps the source's placeholders and plural forms."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import BinaryIO

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
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


def test_workers_compiling_the_same_catalog_at_once_do_not_fail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gunicorn's workers start together on a fresh checkout and compile the same catalogs.

    Deterministic interleaving: while the first compile writes its file, a second one runs
    whole and renames its own file into place; the first must still finish.
    """
    from intake import i18n

    for code in ("en", "ms"):
        shutil.copytree(TRANSLATIONS / code, tmp_path / code,
                        ignore=shutil.ignore_patterns("*.mo"))
    real_write_mo = i18n.write_mo
    nested: list[int] = []
    inside = False

    def write_mo_while_another_compiles(handle: BinaryIO, catalog: Catalog, **options: bool
                                        ) -> None:
        nonlocal inside
        if not inside and not nested:
            inside = True
            nested.append(i18n.compile_catalogs(tmp_path))
        real_write_mo(handle, catalog, **options)

    monkeypatch.setattr(i18n, "write_mo", write_mo_while_another_compiles)
    first = i18n.compile_catalogs(tmp_path)
    # the second compiled both; the first finished its own and found the other fresh
    assert nested == [2] and first == 1
    assert sorted(path.name for path in (tmp_path / "ms" / "LC_MESSAGES").iterdir()) == [
        "messages.mo", "messages.po"]  # no temporary file left behind
    with (tmp_path / "ms" / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        assert len(read_mo(handle)) == len(catalog("ms"))
    mode = (tmp_path / "ms" / "LC_MESSAGES" / "messages.mo").stat().st_mode & 0o777
    assert mode == 0o644  # as a plain open() would make it, not mkstemp's 0600
