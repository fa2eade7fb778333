"""Burmese typed in Zawgyi (an older font encoding many phones still use) reaches the desk
readable: the desk's pages show it in Unicode, with the words as they arrived one click away;
what is sealed is what the worker sent."""

from __future__ import annotations

import html
import uuid
from typing import Any

from crypto.envelope import open_sealed
from intake.db import Database
from intake.reports.burmese import from_zawgyi, zawgyi_spelling
from intake.reports.models import Report
from intake.reports.service import body_context
from tests.monitor.conftest import Browser, DeskWorld, submit
from tests.monitor.test_api import Api, api, check_documented, doc

__all__ = ["api", "doc"]  # fixtures

# "They do not pay us wages", typed on a Zawgyi keyboard, and the same words in Unicode.
ZAWGYI = "ကၽြန္ေတာ္တို႔ကို လစာမေပးဘူး"
UNICODE = "ကျွန်တော်တို့ကို လစာမပေးဘူး"
ORIGINAL = "Converted from Zawgyi (an older Burmese font encoding): the words as they arrived"


def report_page(browser: Browser, desks: DeskWorld, db: Database, words: str
                ) -> tuple[str, str]:
    """A Burmese report of ``words``, opened by a member of its desk: (its id, the page)."""
    report_id, _ = submit(db, desks.factory_a, words, language="my")
    browser.login(desks.alice)
    page = browser.get(f"/monitor/d/{desks.a.desk.id}/reports/{report_id}")
    return report_id, html.unescape(page.get_data(as_text=True))


def test_zawgyi_is_converted_and_anything_else_left_alone() -> None:
    assert ZAWGYI != UNICODE
    assert from_zawgyi(ZAWGYI) == UNICODE
    assert from_zawgyi(f"Line 3, 40 of us:\n{ZAWGYI}") == f"Line 3, 40 of us:\n{UNICODE}"
    for text in (UNICODE, "They do not pay us", "工资没有发", "", "ဘာသာစကား"):
        assert from_zawgyi(text) is None, text


def test_unicode_is_spelled_for_zawgyi_phones_whatever_the_order_of_its_marks() -> None:
    """Words from Unicode to Zawgyi (texts to a phone that types Zawgyi). "Your" and "to
    see", with the dot below before the asat (Unicode's canonical order) and after it: both
    come out with Zawgyi's asat (U+1039), never U+103A (Zawgyi's medial ya)."""
    for dot_first, asat_first, zawgyi in [
            ("\u101e\u1004\u1037\u103a", "\u101e\u1004\u103a\u1037", "\u101e\u1004\u1039\u1037"),
            ("\u1000\u103c\u100a\u1037\u103a", "\u1000\u103c\u100a\u103a\u1037",
             "\u107e\u1000\u100a\u1039\u1037")]:
        assert zawgyi_spelling(dot_first) == zawgyi_spelling(asat_first) == zawgyi


def test_the_desk_reads_zawgyi_in_unicode_and_can_see_what_arrived(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    report_id, page = report_page(browser, desks, db, ZAWGYI)
    assert f'<div class="words" lang="my">{UNICODE}</div>' in page
    assert ORIGINAL in page
    assert f'<div class="words">{ZAWGYI}</div></details>' in page
    with db.transaction() as session:  # the sealed words are the worker's, unchanged
        report = session.get_one(Report, uuid.UUID(report_id))
        body = open_sealed(report.body_sealed, desks.a.key, context=body_context(report.id))
        assert ZAWGYI in body.decode() and UNICODE not in body.decode()


def test_unicode_burmese_is_shown_as_it_is(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    _report_id, page = report_page(browser, desks, db, UNICODE)
    assert f'<div class="words" lang="my">{UNICODE}</div>' in page
    assert ORIGINAL not in page


def test_the_api_gives_the_unicode_words_beside_the_words_as_they_arrived(
    api: Api, doc: dict[str, Any], desks: DeskWorld, db: Database
) -> None:
    for words, unicode in ((ZAWGYI, UNICODE), (UNICODE, None)):
        report_id, _ = submit(db, desks.factory_a, words, language="my")
        response = api.call("GET", f"/reports/{report_id}")
        check_documented(doc, response, "GET", "/reports/{report_id}")
        body = response.get_json()
        assert (body["details"], body["details_unicode"]) == (words, unicode)
