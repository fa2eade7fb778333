"""Every page a link leads to, walked the way each kind of user walks the site.

From a role's first pages, every same-origin ``<a href>`` is followed (GET, breadth first,
each address once) in the world ``tests/test_authz.py`` builds (two desks, a case with an
alert, a remedy plan, API tokens, a worker's receipt). Each page must answer 200 (after the
redirects it asks for) and be well formed: one plain title ending in its area's site name,
one ``<h1>``, unique ids that labels point to, the CSRF token in every form that posts, no
template or Python leftovers in its text. The stylesheets and scripts it loads answer 200.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from werkzeug.test import TestResponse

from channels.web.zawgyi import PATH_CODE as ZAWGYI_PATH
from intake.accounts.models import Account, Desk
from intake.accounts.service import add_active_member
from intake.db import Database
from intake.i18n import TRANSLATIONS
from intake.reports.burmese import zawgyi_spelling
from intake.settings import Settings
from tests.monitor.conftest import Browser
from tests.test_authz import (
    World,
    browser_of,
    module_app,
    module_settings,
    module_twilio,
    world,
)

__all__ = ["module_app", "module_settings", "module_twilio", "world"]

ORIGIN = "http://localhost"  # the test client's
CAP = 300  # pages and files a walk fetches at most: far above what a role reaches
REDIRECTS = (301, 302, 303, 307, 308)
DESK, BUYERS = "Worker Voice desk", "Worker Voice for buyers"  # {% block site %} of each
WORKER_LANGUAGES = ("en", "th")  # the worker's threads; the links reach every language


@dataclass(frozen=True)
class Walk:
    portal: str  # the site name of every page under /monitor/ and /buyer/ the role sees
    starts: tuple[str, ...]  # opened with GET
    floor: int  # distinct pages reached at least: a little below what the walk reaches
    reaches: tuple[str, ...] = ()  # pages the walk must find a link to


# The worker's first pages are the threads their receipt opens (a POST: ``first_pages``).
# The admin is a member of one desk here (``walked_world``), as the admin who once never
# reached the import page was. A buyer signs in and changes the password under /monitor/,
# but stays in the buyer portal.
WALKS = {
    "anonymous": Walk(DESK, ("/", *(f"/{code}/" for code in WORKER_LANGUAGES)), floor=40,
                      reaches=("/th/report", "/th/followup", "/static/web/leave.js")),
    "worker": Walk(DESK, (), floor=42, reaches=("POST /th/followup", "/en/report")),
    "monitor_a": Walk(DESK, ("/monitor/",), floor=14, reaches=("/monitor/password",)),
    "admin": Walk(DESK, ("/monitor/",), floor=9, reaches=("/monitor/admin/import",)),
    "buyer_a": Walk(BUYERS, ("/buyer/",), floor=4, reaches=("/buyer/webhooks",)),
}

# Text a template or Python left on the page instead of words for people.
LEFTOVERS = {
    "a Python None": re.compile(r"\bNone\b"),
    "template syntax": re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}"),
    "a traceback": re.compile(r"Traceback"),
    "an unfilled gettext placeholder": re.compile(r"%\(\w+\)[sd]"),
    "a gettext context key (an untranslated pgettext)": re.compile("\x04"),
    "an enum's repr": re.compile(r"<\w+\.\w+: |\b[A-Z][a-z]\w*\.[A-Z][A-Z0-9_]+\b"),
}
# "None" is a word people read in one place: the empty choice of a select ("no buyer", "no
# action of the plan"), an <option> whose whole text it is.
OPTION_NONE = "None"
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})  # elements without an end tag


@functools.cache
def worker_site_name(code: str) -> str:
    """The worker pages' site name in ``code``, from its catalog (the title's last words)."""
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        message = read_po(handle, locale=code).get("Worker Voice", context="site name")
    return message.string if message is not None and message.string else "Worker Voice"


def site_name(path: str, portal: str, page_language: str) -> str:
    """What every title at ``path`` ends with: the worker site's name in the page's language,
    or the name of the signed-in person's portal."""
    if path.startswith(("/monitor/", "/buyer/")):
        return portal
    if path.startswith(f"/{ZAWGYI_PATH}/"):  # the Burmese pages for phones that show Zawgyi
        return zawgyi_spelling(worker_site_name("my"))
    return worker_site_name(page_language.replace("-", "_"))


# --- reading a page ---------------------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    csrf: bool = False


class Page(HTMLParser):
    """What the checks need of one HTML page, read with the standard library's parser."""

    VISIBLE_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.language = ""
        self.titles: list[str] = []
        self.tags_in_title: list[str] = []
        self.h1s = 0
        self.ids: list[str] = []
        self.label_targets: list[str] = []
        self.aria_targets: list[str] = []
        self.forms: list[Form] = []
        self.nested_forms = 0
        self.links: list[str] = []
        self.files: list[str] = []  # stylesheets, scripts, images
        self.texts: list[tuple[str, str]] = []  # (enclosing tag, text people see)
        self._open: list[str] = []
        self._title: int | None = None
        self._form: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._title is not None:
            self.tags_in_title.append(tag)
        self._read(tag, {name: value or "" for name, value in attrs})
        if tag not in VOID:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._read(tag, {name: value or "" for name, value in attrs})

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._title = None
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        enclosing = self._open[-1] if self._open else ""
        if enclosing in ("script", "style"):
            return
        if self._title is not None:
            self.titles[self._title] += data
        if data.strip():
            self.texts.append((enclosing, data.strip()))

    def _read(self, tag: str, values: dict[str, str]) -> None:
        if "id" in values:
            self.ids.append(values["id"])
        for name in ("aria-labelledby", "aria-describedby"):
            self.aria_targets += values.get(name, "").split()
        self.texts += [(tag, values[name].strip()) for name in self.VISIBLE_ATTRIBUTES
                       if values.get(name, "").strip()]
        if tag == "html":
            self.language = values.get("lang", "")
        elif tag == "title" and "svg" not in self._open:  # a chart's own name is not one
            self._title = len(self.titles)
            self.titles.append("")
        elif tag == "h1":
            self.h1s += 1
        elif tag == "label" and "for" in values:
            self.label_targets.append(values["for"])
        elif tag == "a" and "href" in values:
            self.links.append(values["href"])
        elif tag in ("script", "img") and "src" in values:
            self.files.append(values["src"])
        elif tag == "link" and "href" in values:
            self.files.append(values["href"])
        elif tag == "form":
            self.nested_forms += self._form is not None
            self._form = Form(values.get("method", "get").lower(), values.get("action", ""))
        elif tag in ("input", "button"):
            self._read_field(values)

    def _read_field(self, values: dict[str, str]) -> None:
        hidden = values.get("type", "").lower() == "hidden"
        if hidden and values.get("name") == "csrf_token" and values.get("value"):
            if self._form is not None:
                self._form.csrf = True
        elif not hidden and values.get("value", "").strip():  # a button's words, a field's
            self.texts.append(("input", values["value"].strip()))


def read_page(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def problems_of(path: str, page: Page, portal: str) -> list[str]:
    """Everything wrong with the page at ``path``, each said in a few words."""
    found = []
    if len(page.titles) != 1:
        found.append(f"{len(page.titles)} <title> elements")
    else:
        title, suffix = page.titles[0], " – " + site_name(path, portal, page.language)
        if page.tags_in_title or "<" in title or "\n" in title:
            found.append(f"the title is not plain text: {title[:80]!r} {page.tags_in_title}")
        elif not title.endswith(suffix) or not title.removesuffix(suffix).strip():
            found.append(f"the title {title!r} is not 'page{suffix}'")
    if page.h1s != 1:
        found.append(f"{page.h1s} <h1> elements")
    repeated = sorted({name for name in page.ids if page.ids.count(name) > 1})
    if repeated:
        found.append(f"ids used more than once: {repeated}")
    ids = set(page.ids)
    found += [f"<label for={name!r}> names no element" for name in page.label_targets
              if name not in ids]
    found += [f"aria reference {name!r} names no element" for name in page.aria_targets
              if name not in ids]
    if page.nested_forms:
        found.append("a form inside a form")
    # No page form is exempt: CSRF is lifted only for the JSON API (bearer tokens) and the
    # Twilio webhooks (machine routes, intake.machines), and neither renders a form.
    found += [f"form posting to {form.action} has no CSRF token" for form in page.forms
              if form.method == "post" and not form.csrf]
    for tag, text in page.texts:
        if tag == "option" and text == OPTION_NONE:
            continue
        found += [f"{what} in {text[:80]!r}" for what, pattern in LEFTOVERS.items()
                  if pattern.search(text)]
    return found


# --- walking ----------------------------------------------------------------------------


def own_address(base: str, href: str) -> str | None:
    """``href`` on the page at ``base`` as a path and query, or None when it leaves the site
    (another host, or a scheme like ``mailto:``)."""
    parts = urlsplit(urljoin(ORIGIN + base, href))
    if parts.scheme not in ("http", "https") or parts.netloc != urlsplit(ORIGIN).netloc:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def deliberately_external(href: str, settings: Settings) -> bool:
    """The only links that leave the site, on purpose: "Leave quickly" (a harmless site from
    the settings, which a worker follows to hide the page; leave.js only replaces the history
    entry), and the e-mail addresses of buyers who chose to share who they are. Signing out is
    a POST form, never a link, so the walk cannot end its own session."""
    return href == settings.leave_url or urlsplit(href).scheme == "mailto"


def fetch(browser: Browser, path: str) -> tuple[str, TestResponse]:
    """GET ``path`` and each redirect it asks for: (where it was answered, the answer)."""
    response = browser.get(path)
    for _ in range(5):
        if response.status_code not in REDIRECTS:
            break
        target = own_address(path, response.headers.get("Location", ""))
        if target is None:
            break
        path, response = target, browser.get(target)
    return path, response


@dataclass
class Walked:
    pages: set[str] = field(default_factory=set)  # HTML pages, where they were answered
    files: set[str] = field(default_factory=set)  # everything else: CSS, scripts, CSV, JSON
    problems: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # not fetched: the cap was reached


@dataclass
class Walker:
    """One role's walk: breadth first, each address once, up to ``CAP``."""

    browser: Browser
    settings: Settings
    portal: str
    walked: Walked = field(default_factory=Walked)
    queue: deque[str] = field(default_factory=deque)
    linked_from: dict[str, str] = field(default_factory=dict)

    def run(self, first: list[tuple[str, str, TestResponse]],
            starts: tuple[str, ...]) -> Walked:
        """From pages answered already (``first``: a name, the path, the answer) and the
        addresses ``starts``."""
        for name, path, response in first:
            self.read(name, path, response)
        self.linked_from.update(dict.fromkeys(starts, "the start"))
        self.queue.extend(starts)
        while self.queue:
            if len(self.walked.pages) + len(self.walked.files) >= CAP:
                self.walked.left = list(self.queue)
                break
            asked = self.queue.popleft()
            self.answered(asked, *fetch(self.browser, asked))
        return self.walked

    def answered(self, asked: str, path: str, response: TestResponse) -> None:
        """The answer to following ``asked``, given at ``path`` (after its redirects)."""
        if response.status_code != 200:
            self.walked.problems.append(f"{self.where(asked)}: {response.status_code} at {path}")
        elif response.mimetype != "text/html":
            self.walked.files.add(path)
        elif path not in self.walked.pages:  # else a redirect to a page read already
            self.linked_from.setdefault(path, asked)  # a redirect's target: not fetched again
            self.read(path, path, response)

    def read(self, name: str, path: str, response: TestResponse) -> None:
        self.walked.pages.add(name)
        page = read_page(response.get_data(as_text=True))
        self.walked.problems += [f"{self.where(name)}: {problem}"
                                 for problem in problems_of(path, page, self.portal)]
        self.follow(path, [*page.links, *page.files])

    def where(self, name: str) -> str:
        return f"{name} (linked from {self.linked_from.get(name, 'the start')})"

    def follow(self, path: str, hrefs: list[str]) -> None:
        for href in hrefs:
            target = own_address(path, href)
            if target is None:
                if not deliberately_external(href, self.settings):
                    self.walked.problems.append(f"{path}: a link leaves the site: {href}")
            elif target not in self.linked_from:
                self.linked_from[target] = path
                self.queue.append(target)


def first_pages(role: str, browser: Browser,
                world: World) -> list[tuple[str, str, TestResponse]]:
    """Pages a role opens with a POST: the worker's threads, opened with the receipt."""
    if role != "worker":
        return []
    return [(f"POST /{code}/followup", f"/{code}/followup",
             browser.post(f"/{code}/followup", {"receipt": world.receipt}))
            for code in WORKER_LANGUAGES]


# --- the walks --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def walked_world(world: World, module_app: Flask) -> World:
    """The authorization test's world, with the platform admin also a member of desk B."""
    db: Database = module_app.extensions["intake.db"]
    with db.transaction() as session:
        add_active_member(session, desk=session.get_one(Desk, world.desk_b),
                          desk_key=world.desks.b.key,
                          account=session.get_one(Account, world.members["admin"].account_id))
    return world


@pytest.mark.parametrize("role", WALKS)
def test_every_link_leads_to_a_well_formed_page(role: str, module_app: Flask,
                                                walked_world: World) -> None:
    browser = browser_of(role, module_app, walked_world)
    walker = Walker(browser, module_app.extensions["intake.settings"], WALKS[role].portal)
    walked = walker.run(first_pages(role, browser, walked_world), WALKS[role].starts)
    assert walked.left == [], f"the walk stopped at {CAP} pages and files"
    assert walked.problems == []
    assert set(WALKS[role].reaches) - walked.pages - walked.files == set()
    assert len(walked.pages) >= WALKS[role].floor, sorted(walked.pages)


MALFORMED = """<!doctype html><html lang="en"><head><title>Members<h2>Desk</h2> – Worker Voice
desk</title></head><body><h1>One</h1><h1>Two</h1>
<label for="missing">Name</label><input id="twice"><input id="twice">
<form method="post" action="/monitor/x"><button>Go</button></form>
<p>Severity: None</p><p>{{ name }}</p><p>Sent on %(date)s</p><p>Status.OPEN</p>
</body></html>"""


def test_the_checks_see_each_kind_of_malformed_page() -> None:
    found = problems_of("/monitor/x", read_page(MALFORMED), DESK)
    assert [problem.split(":")[0].split(" in ")[0] for problem in found] == [
        "the title is not plain text", "2 <h1> elements", "ids used more than once",
        "<label for='missing'> names no element", "form posting to /monitor/x has no CSRF token",
        "a Python None", "template syntax", "an unfilled gettext placeholder", "an enum's repr",
    ]


def test_a_title_must_end_with_its_areas_name() -> None:
    page = read_page("<html lang='th'><title>Alerts – Worker Voice desk</title><h1>A</h1>")
    assert problems_of("/buyer/", page, BUYERS) == [
        "the title 'Alerts – Worker Voice desk' is not 'page – Worker Voice for buyers'"]
    assert problems_of("/th/", page, DESK) == [
        f"the title 'Alerts – Worker Voice desk' is not 'page – {worker_site_name('th')}'"]
