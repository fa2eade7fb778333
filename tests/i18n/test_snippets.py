"""Reply snippets for monitors: translated everywhere, within their SMS budget in every language."""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale

from intake.i18n import LANGUAGES, TRANSLATIONS
from intake.messaging.segments import count_segments
from intake.reports.snippets import SNIPPETS, snippet_text, snippets_for

CODES = [language.code for language in LANGUAGES]
TRANSLATED = [code for code in CODES if code != "en"]
PLAIN_LATIN = ["en", "ms", "id", "fil"]  # must stay GSM-7: one segment holds 160 letters
CONTEXTS = {"reply snippet", "reply snippet title"}
PLACEHOLDER = re.compile(r"%\(?[a-z_]*\)?[sd]|\{[a-z_]*\}")


def catalog(code: str) -> Catalog:
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=code)


def snippet_entries(code: str) -> dict[tuple[str | None, str], str]:
    return {(m.context, str(m.id)): str(m.string)
            for m in catalog(code) if m.id and m.context in CONTEXTS and not m.fuzzy}


def sources() -> set[tuple[str, str]]:
    return {(value._args[0], value._args[1])
            for snippet in SNIPPETS for value in (snippet.title, snippet.text)}


def test_snippet_codes_are_unique() -> None:
    codes = [snippet.code for snippet in SNIPPETS]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_snippet_title_and_text_is_translated(code: str) -> None:
    entries = snippet_entries(code)
    missing = [source for source in sources() if not entries.get(source)]
    assert missing == []


@pytest.mark.parametrize("code", CODES)
def test_snippet_translations_keep_the_sources_placeholders(code: str) -> None:
    problems = [(msgid, text) for (_, msgid), text in snippet_entries(code).items()
                if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(msgid))]
    assert problems == []


@pytest.mark.parametrize("lang", CODES)
def test_every_snippet_fits_one_gsm7_or_two_ucs2_segments(app: Flask, lang: str) -> None:
    over = {}
    with app.app_context():
        for snippet in SNIPPETS:
            counted = count_segments(snippet_text(snippet.code, lang))
            if counted.segments > (1 if counted.encoding == "GSM-7" else 2):
                over[snippet.code] = counted
    assert over == {}


@pytest.mark.parametrize("lang", PLAIN_LATIN)
def test_plain_latin_snippets_stay_gsm7(app: Flask, lang: str) -> None:
    with app.app_context():
        encodings = {snippet.code: count_segments(snippet_text(snippet.code, lang)).encoding
                     for snippet in SNIPPETS}
    assert set(encodings.values()) == {"GSM-7"}, encodings


def test_snippet_text_is_in_the_workers_language(app: Flask) -> None:
    with app.app_context():
        assert snippet_text("received", "ms") != snippet_text("received", "en")
        assert snippet_text("received", "en").startswith("We got your report.")


def test_snippets_for_titles_follow_the_monitor_and_texts_the_worker(app: Flask) -> None:
    with app.test_request_context(), force_locale("es"):
        code, title, text = snippets_for("ms")[0]
    assert code == SNIPPETS[0].code
    assert title == "Reporte recibido"
    assert text.startswith("Kami sudah terima aduan anda.")


def test_unknown_snippet_code_raises_key_error(app: Flask) -> None:
    with app.app_context(), pytest.raises(KeyError):
        snippet_text("no_such_snippet", "en")


def test_unknown_language_raises_key_error(app: Flask) -> None:
    with app.app_context(), pytest.raises(KeyError):
        snippet_text("received", "xx")


def test_snippet_text_refuses_to_run_without_an_app_context() -> None:
    with pytest.raises(RuntimeError):
        snippet_text("received", "ms")
