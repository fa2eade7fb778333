"""The worker pages in a real browser: a cheap phone's width, JavaScript off, right-to-left,
Leave quickly, no third-party requests, and axe-core's WCAG 2.1 A/AA rules.

Screenshots of every step go to tests/artifacts/<lang>/ (git-ignored) for people to look at.
axe-core runs with JavaScript on (it is JavaScript); the markup it checks is the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright
from sqlalchemy import select

from channels.web.zawgyi import ZAWGYI_LINK
from intake.db import Database
from intake.i18n import BY_CODE
from intake.reports.models import Report
from intake.reports.service import add_desk_reply
from intake.settings import Settings
from tests import factories
from tests.burmese import ZAWGYI_WORDS
from tests.web.conftest import World
from tests.web.live import LiveServer, launch_chromium, serve

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WORDS = {
    "en": "The supervisor keeps our passports in his office.",
    "ar": "المشرف يحتفظ بجوازات سفرنا في مكتبه.",
}
DESK_ANSWER = "We will visit the factory on Monday."
# The pages for phones that show Burmese in Zawgyi: reached by a link spelled in Zawgyi.
WORDS["my-zawgyi"] = ZAWGYI_WORDS
LINK_NAMES = {"my-zawgyi": ZAWGYI_LINK}
HARMLESS_PAGE = "<!doctype html><title>Weather</title><p>Sunny, 31 degrees.</p>"
# Workplace names as a worker would type them; Thai and Burmese have no spaces between words.
LOCAL_WORKPLACES = {
    "my": ("MM", "ရန်ကုန်အထည်ချုပ်စက်ရုံအမှတ်နှစ်လိမိတက်ကုမ္ပဏီ"),
    "ne": ("NP", "काठमाडौं गार्मेन्ट उद्योग प्राइभेट लिमिटेड"),
    "hi": ("IN", "नोएडा परिधान निर्यात प्राइवेट लिमिटेड"),
    "bn": ("BD", "ঢাকা তৈরি পোশাক কারখানা লিমিটেড"),
    "th": ("TH", "บริษัทชิ้นส่วนอิเล็กทรอนิกส์บางนาจำกัดมหาชน"),
}


# --- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def live(app: Flask, world: World) -> Iterator[LiveServer]:
    with serve(app) as server:
        yield server


@contextmanager
def phone(
    browser: Browser, live: LiveServer, *, javascript: bool, locale: str = "en-US"
) -> Iterator[Page]:
    """A fresh 360x640 phone browser whose language settings say ``locale``.

    Requests for any other server than ``live`` are aborted, so no test reaches the internet.
    """
    context = browser.new_context(java_script_enabled=javascript, viewport=PHONE, locale=locale)
    context.route(lambda url: not url.startswith(live.origin + "/"), _abort)
    try:
        yield context.new_page()
    finally:
        context.close()


def _abort(route: Route, _request: Request) -> None:
    route.abort()


def record_requests(page: Page) -> list[str]:
    """Every URL the page's browser asks for from now on, aborted or not, in order."""
    requested: list[str] = []
    page.context.on("request", lambda request: requested.append(request.url))
    return requested


OnPage = Callable[[str], None]


def expect_step(page: Page, step: str) -> None:
    expect(page.locator('form input[name="step"]')).to_have_value(step)


def press_next(page: Page) -> None:
    page.locator('button[name="go"][value="next"]').click()


def walk_report_and_followup(
    page: Page, live: LiveServer, *, lang: str, workplace: str, on_page: OnPage,
    before_followup: Callable[[], None] = lambda: None,
) -> None:
    """A worker's whole visit, by clicks: language, report, receipt, then the follow-up.

    Controls are found by what the pages submit (names and values), never by translated
    wording; ``on_page(name)`` runs once each page has loaded.
    """

    def loaded(name: str) -> None:
        page.wait_for_load_state("load")
        on_page(name)

    page.goto(live.url("/"))
    loaded("start")
    if lang in LINK_NAMES:
        link = page.locator(f'main a[href="/{lang}/"]')
        expect(link).to_have_text(LINK_NAMES[lang])
        link.click()
    else:
        page.get_by_role("link", name=BY_CODE[lang].name, exact=True).click()
    expect(page).to_have_url(live.url(f"/{lang}/"))
    loaded("home")
    page.locator(f'main a[href="/{lang}/report"]').click()
    expect_step(page, "workplace")
    loaded("workplace")
    page.get_by_role("radio", name=workplace).check()
    press_next(page)
    expect_step(page, "what")
    loaded("what")
    page.locator('input[name="category"][value="wages"]').check()
    page.locator('input[name="category"][value="forced_labour"]').check()
    press_next(page)
    expect_step(page, "details")
    loaded("details")
    page.locator("#details").fill(WORDS[lang])
    press_next(page)
    expect_step(page, "contact")
    loaded("contact")
    page.locator('input[name="contact"][value="web"]').check()
    press_next(page)
    expect_step(page, "review")
    loaded("review")
    page.locator('button[name="go"][value="send"]').click()
    expect(page.locator(".receipt")).to_be_visible()
    loaded("receipt")
    receipt = " ".join(page.locator(".receipt span").all_inner_texts())
    before_followup()
    page.goto(live.url(f"/{lang}/followup"))
    loaded("followup-login")
    page.locator("#receipt").fill(receipt)
    page.locator('main form button[type="submit"]').click()
    expect(page.locator("#message")).to_be_visible()
    loaded("followup-thread")


def desk_answers_and_asks_for_a_verdict(db: Database, world: World) -> None:
    """So the thread page shows all it can: a reply, and the 'was it fixed?' question."""
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        add_desk_reply(session, report, DESK_ANSWER, author_account_id=None)
        factories.case_asking_verdict(session, desk_id=world.union.desk.id,
                                      facility_id=world.penang.id, report_id=report.id)


class Album:
    """Full-page screenshots, numbered in the order taken, in tests/artifacts/<lang>/."""

    def __init__(self, page: Page, lang: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / lang
        self.folder.mkdir(parents=True, exist_ok=True)
        self.taken = 0

    def __call__(self, name: str) -> None:
        self.taken += 1
        self.page.screenshot(path=self.folder / f"{self.taken:02d}-{name}.png", full_page=True)


# --- the flow without JavaScript ---------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_worker_reports_and_reads_the_answer_without_javascript_on_a_small_phone(
    browser: Browser, live: LiveServer, world: World, db: Database, lang: str
) -> None:
    seen: dict[str, str] = {}
    receipt: list[str] = []
    with phone(browser, live, javascript=False, locale=lang) as page:
        album = Album(page, lang)

        def on_page(name: str) -> None:
            album(name)
            seen[name] = page.locator("main").inner_text()
            if name == "receipt":
                receipt.extend(page.locator(".receipt span").all_inner_texts())

        walk_report_and_followup(
            page, live, lang=lang, workplace=world.penang.name, on_page=on_page,
            before_followup=lambda: desk_answers_and_asks_for_a_verdict(db, world),
        )
    assert WORDS[lang] in seen["review"]
    assert len(receipt) == 4 and all(re.fullmatch(r"[0-9]{4}", group) for group in receipt)
    assert DESK_ANSWER in seen["followup-thread"]
    assert album.taken == 10


def test_arabic_pages_are_right_to_left_with_leave_quickly_across_the_top(
    browser: Browser, live: LiveServer, world: World
) -> None:
    pages: dict[str, tuple[str, str, dict[str, float] | None]] = {}
    with phone(browser, live, javascript=False, locale="ar") as page:

        def on_page(name: str) -> None:
            html = page.locator("html")
            box = page.locator("#leave").bounding_box()
            pages[name] = (html.get_attribute("lang") or "", html.get_attribute("dir") or "", box)

        walk_report_and_followup(page, live, lang="ar", workplace=world.penang.name,
                                 on_page=on_page)
    assert len(pages) == 10
    for name, (lang, direction, box) in pages.items():
        assert (lang, direction) == ("ar", "rtl"), name
        assert box is not None, name
        assert (box["x"], box["y"], box["width"]) == (0, 0, PHONE["width"]), name


# --- Leave quickly, with JavaScript ------------------------------------------------------


def test_leave_quickly_replaces_the_page_so_back_does_not_return(
    browser: Browser, live: LiveServer, settings: Settings
) -> None:
    with phone(browser, live, javascript=True) as page:
        requested = record_requests(page)
        page.route(settings.leave_url,
                   lambda route: route.fulfill(content_type="text/html", body=HARMLESS_PAGE))
        page.goto(live.url("/en/"))
        page.locator('main a[href="/en/report"]').click()
        expect_step(page, "workplace")
        page.wait_for_load_state("load")
        length_before = page.evaluate("history.length")
        page.locator("#leave").click()
        page.wait_for_url(settings.leave_url)
        assert page.title() == "Weather"
        assert page.evaluate("history.length") == length_before
    assert [url for url in requested if not url.startswith(live.origin + "/")] == [
        settings.leave_url
    ]


def test_first_tab_on_a_report_step_focuses_leave_quickly(
    browser: Browser, live: LiveServer
) -> None:
    with phone(browser, live, javascript=True) as page:
        page.goto(live.url("/en/report"))
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "leave"


# --- nothing leaves for a third party ----------------------------------------------------


def test_worker_pages_request_nothing_from_any_other_server(
    browser: Browser, live: LiveServer, world: World, db: Database
) -> None:
    with phone(browser, live, javascript=True) as page:
        requested = record_requests(page)
        walk_report_and_followup(
            page, live, lang="en", workplace=world.penang.name, on_page=lambda _name: None,
            before_followup=lambda: desk_answers_and_asks_for_a_verdict(db, world),
        )
    assert live.url("/static/web/worker.css") in requested  # the listener did listen
    assert [url for url in requested if not url.startswith(live.origin + "/")] == []


# --- accessibility -----------------------------------------------------------------------


def axe_violations(page: Page) -> list[str]:
    results = Axe().run(page, options={
        "runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"],
    })
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} {node['failureSummary']}"
        for violation in results.response["violations"] for node in violation["nodes"]
    ]


@pytest.mark.parametrize("lang", ["en", "ar", "my-zawgyi"])
def test_every_worker_page_passes_axe_wcag_21_aa(
    browser: Browser, live: LiveServer, world: World, db: Database, lang: str
) -> None:
    found: dict[str, list[str]] = {}
    with phone(browser, live, javascript=True, locale=lang.removesuffix("-zawgyi")) as page:

        def on_page(name: str) -> None:
            found[name] = axe_violations(page)

        walk_report_and_followup(
            page, live, lang=lang, workplace=world.penang.name, on_page=on_page,
            before_followup=lambda: desk_answers_and_asks_for_a_verdict(db, world),
        )
        response = page.goto(live.url(f"/{lang}/no-such-page"))
        assert response is not None and response.status == 404
        found["not-found"] = axe_violations(page)
    assert len(found) == 11
    failing = {name: problems for name, problems in found.items() if problems}
    assert failing == {}, "\n".join(
        f"{name}: {problem}" for name, problems in failing.items() for problem in problems
    )


# --- complex scripts at 360 px -----------------------------------------------------------


@pytest.mark.parametrize("lang", sorted(LOCAL_WORKPLACES))
def test_complex_scripts_fit_a_360_px_screen(
    browser: Browser, live: LiveServer, db: Database, lang: str
) -> None:
    country, workplace = LOCAL_WORKPLACES[lang]
    with db.transaction() as session:
        factories.facility(session, name=workplace, country=country)
    widths: dict[str, int] = {}
    with phone(browser, live, javascript=False, locale=lang) as page:
        album = Album(page, lang)
        page.goto(live.url("/"))
        expect(page.locator("html")).to_have_attribute("lang", BY_CODE[lang].bcp47)
        album("start")
        widths["start"] = page.evaluate("document.documentElement.scrollWidth")
        page.goto(live.url(f"/{lang}/report"))
        expect(page.get_by_role("radio", name=workplace)).to_be_visible()
        album("workplace")
        widths["workplace"] = page.evaluate("document.documentElement.scrollWidth")
    assert {name: width for name, width in widths.items() if width > PHONE["width"]} == {}
