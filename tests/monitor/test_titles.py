"""A page's title is plain text: the browser tab and a screen reader's first words.

Two templates once had part of their page inside ``{% block title %}`` (a form, a link),
so the tab read "Members<h2>Desk settings</h2><form method=…" and the admin's home page
said its link twice to a screen reader.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from intake.accounts.models import Role
from intake.db import Database
from tests.monitor.conftest import Browser, DeskWorld, make_member

TEMPLATES = Path(__file__).resolve().parents[2] / "intake" / "templates"
TITLE_BLOCK = re.compile(r"\{% block title %\}(.*?)\{% endblock %\}", re.S)


class _Title(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside, self.titles = False, list[str]()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.inside = True
            self.titles.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.titles[-1] += data


def title_of(page: str) -> str:
    parser = _Title()
    parser.feed(page)
    assert len(parser.titles) == 1, parser.titles
    return parser.titles[0]


def test_every_templates_title_block_is_one_line_of_text() -> None:
    blocks = {path.relative_to(TEMPLATES).as_posix(): TITLE_BLOCK.findall(path.read_text())
              for path in TEMPLATES.rglob("*.html")}
    assert sum(len(found) for found in blocks.values()) > 20  # the pattern finds them
    wrong = {name: found for name, found in blocks.items()
             if any("<" in block or "\n" in block for block in found)}
    assert wrong == {}


def test_the_members_page_and_the_admins_home_have_plain_titles(
    browser: Browser, desks: DeskWorld, db: Database, settings: Any
) -> None:
    with db.transaction() as session:
        admin = make_member(session, settings, desks.a, "root@platform.example",
                            role=Role.ADMIN)
    browser.login(admin)
    home = browser.get("/monitor/").get_data(as_text=True)  # not sent on to the one desk
    assert title_of(home) == "Your desks – Worker Voice desk"
    assert home.count("Import facilities, buyers, contracts or coverage") == 1
    members = browser.get(f"/monitor/d/{desks.a.desk.id}/members").get_data(as_text=True)
    assert title_of(members) == "Members – Worker Voice desk"
    assert members.count('name="k_threshold"') == 1


def test_the_desk_menu_marks_the_page_it_is_on(browser: Browser, desks: DeskWorld) -> None:
    """Once, on the menu link of the page shown (a screen reader says "current page")."""
    browser.login(desks.alice)
    desk = desks.a.desk.id
    for path, label in [(f"/monitor/d/{desk}/", "Queue"), (f"/monitor/d/{desk}/cases/", "Cases"),
                        (f"/monitor/d/{desk}/members", "Members"),
                        (f"/monitor/d/{desk}/dashboard", "Dashboard")]:
        page = browser.get(path).get_data(as_text=True)
        assert page.count('aria-current="page"') == 1, path
        assert f'aria-current="page">{label}</a>' in page, path
