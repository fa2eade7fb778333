"""Every SMS prompt in every language fits its segment budget (DESIGN 5.2, issue 5)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_babel import force_locale

from intake.i18n import LANGUAGES
from intake.messaging import prompts
from intake.messaging.conversation import language_menu
from intake.messaging.segments import count_segments
from intake.reports.burmese import zawgyi_spelling

SAMPLES = {"receipt": "1234 5678 9012 3456", "name": "Penang Circuit Assembly Sdn Bhd",
           "text": ""}
PROMPTS = {name: value for name, value in vars(prompts).items()
           if name.isupper() and value._args[0] == "sms"}
CONVERSATION = ["WELCOME", "CONFIRM_WORKPLACE", "CATEGORY_MENU", "DETAILS", "CONSENT",
                "RECEIPT"]
CODES = [language.code for language in LANGUAGES]


def render(app: Flask, name: str, lang: str) -> str:
    with app.test_request_context(), force_locale(lang):
        text = str(PROMPTS[name])
    return text % SAMPLES if "%(" in text else text


def budget(encoding: str) -> int:
    return 1 if encoding == "GSM-7" else 2


@pytest.mark.parametrize("lang", CODES)
def test_every_prompt_fits_one_gsm7_or_two_ucs2_segments(app: Flask, lang: str) -> None:
    over = {}
    for name in PROMPTS:
        counted = count_segments(render(app, name, lang))
        if counted.segments > budget(counted.encoding):
            over[name] = counted
    assert over == {}


@pytest.mark.parametrize("lang", CODES)
def test_a_whole_report_costs_at_most_8_gsm7_or_14_ucs2_segments(app: Flask,
                                                                 lang: str) -> None:
    counts = [count_segments(render(app, name, lang)) for name in CONVERSATION]
    total = sum(c.segments for c in counts)
    limit = 8 if all(c.encoding == "GSM-7" for c in counts) else 14
    assert total <= limit, [(n, c.segments) for n, c in zip(CONVERSATION, counts, strict=True)]


@pytest.mark.parametrize("lang", CODES)
def test_a_report_in_a_language_chosen_from_the_menu_keeps_the_budget(app: Flask,
                                                                      lang: str) -> None:
    """A worker who texts a number that starts in English (a migrant in Malaysia): its
    welcome, the menu's pages up to their language, then the workplace question and the
    rest of the report in theirs. The menu is UCS-2 (it names each language in its own
    script), so the whole costs at most 14 segments."""
    page = 1 if CODES.index(lang) < 7 else 2
    with app.test_request_context(), force_locale("en"):
        menu = [count_segments(language_menu(shown)) for shown in range(1, page + 1)]
    counts = [count_segments(render(app, "WELCOME", "en")), *menu] + [
        count_segments(render(app, name, lang)) for name in ["WORKPLACE", *CONVERSATION[1:]]]
    assert sum(c.segments for c in counts) <= 14, [c.segments for c in counts]


def test_burmese_spelled_in_zawgyi_keeps_the_budgets(app: Flask) -> None:
    """A phone that types Zawgyi gets every prompt in that spelling (intake.reports.burmese)."""
    spelled = {name: zawgyi_spelling(render(app, name, "my")) for name in PROMPTS}
    assert spelled["CONSENT"] != render(app, "CONSENT", "my")  # the spelling does differ
    counts = {name: count_segments(text) for name, text in spelled.items()}
    assert {name: c for name, c in counts.items() if c.segments > budget(c.encoding)} == {}
    assert sum(counts[name].segments for name in CONVERSATION) <= 14
    with app.test_request_context():
        assert all(count_segments(zawgyi_spelling(language_menu(page))).segments <= 2
                   for page in (1, 2))


@pytest.mark.parametrize("lang", CODES)
def test_prompts_are_translated(app: Flask, lang: str) -> None:
    if lang == "en":
        return
    same = [name for name in PROMPTS if render(app, name, lang) == render(app, name, "en")]
    assert same == []


@pytest.mark.parametrize("page", [1, 2])
def test_language_menu_pages_fit_two_segments(app: Flask, page: int) -> None:
    with app.test_request_context():
        assert count_segments(language_menu(page)).segments <= 2


def test_the_counter_knows_gsm7_extension_and_ucs2() -> None:
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("{" * 80) == count_segments("€" * 80)  # two septets each
    assert count_segments("€" * 81).segments == 2
    assert count_segments("中" * 70).segments == 1 and count_segments("中" * 71).segments == 2
    assert count_segments("é").encoding == "GSM-7" and count_segments("á").encoding == "UCS-2"
