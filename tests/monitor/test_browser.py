"""The monitor desk in a real browser (Debian's Chromium): every desk page passes axe-core's
WCAG 2.1 A/AA rules, loads nothing from another server, and breaks no CSP rule (the pages
have no script at all). Screenshots go to tests/artifacts/monitor/ (git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from intake.db import Database
from tests.monitor.conftest import DeskWorld, code_for, submit
from tests.web.live import LiveServer, launch_chromium, serve
from tests.web.test_browser import axe_violations

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "monitor"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def live(app: Flask) -> Iterator[LiveServer]:
    with serve(app) as server:
        yield server


def _abort(route: Route, _request: Request) -> None:
    route.abort()


def test_every_desk_page_passes_axe_and_stays_on_this_server(
    chromium: Browser, live: LiveServer, desks: DeskWorld, db: Database
) -> None:
    report_id, _ = submit(db, desks.factory_a, "The supervisor keeps our passports.")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    foreign: list[str] = []
    context.route(lambda url: not url.startswith(live.origin + "/"),
                  lambda route, request: (foreign.append(request.url), _abort(route, request)))
    page: Page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(
        message.text) if message.type == "error" else None)
    found: dict[str, list[str]] = {}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def check(name: str) -> None:
        found[name] = axe_violations(page)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    page.goto(live.url("/monitor/login"))
    check("login")
    page.fill("#email", desks.alice.email)
    page.fill("#password", desks.alice.password)
    page.fill("#code", code_for(db, desks.alice))
    page.click("button[type=submit]")
    page.wait_for_url(f"**/monitor/d/{desks.a.desk.id}/")
    check("queue")
    desk = f"/monitor/d/{desks.a.desk.id}"
    for name, path in (("report", f"{desk}/reports/{report_id}"), ("enter", f"{desk}/enter"),
                       ("members", f"{desk}/members"), ("audit", f"{desk}/audit"),
                       ("cases", f"{desk}/cases/"), ("tokens", f"{desk}/tokens"),
                       ("password", "/monitor/password")):
        response = page.goto(live.url(path))
        assert response is not None and response.status == 200, name
        check(name)
    page.goto(live.url(f"{desk}/reports/{report_id}"))
    page.click("button[value='snippet:received']")
    check("reply-preview")
    context.close()
    assert foreign == []
    assert [m for m in console if "Content Security Policy" in m] == []
    failing = {name: problems for name, problems in found.items() if problems}
    assert failing == {}, "\n".join(
        f"{name}: {problem}" for name, problems in failing.items() for problem in problems)
    assert len(found) == 10
