"""Every worker page in every language: the right lang and dir, and no English sentence."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from sqlalchemy import select

from intake.db import Database
from intake.i18n import LANGUAGES, TRANSLATIONS
from intake.reports.models import Report
from intake.reports.service import add_desk_reply
from tests import factories
from tests.web.conftest import Worker, World

CODES = [language.code for language in LANGUAGES if language.code != "en"]
TAG = re.compile(r"<[^>]+>")


def sentences(code: str) -> set[str]:
    """English source sentences whose translation in ``code`` differs from English."""
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        book = read_po(handle, locale=code)
    found = set()
    for message in book:
        if not message.id or message.context in ("sms", "sms keyword"):
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for source in sources:
            text = re.split(r"%\(\w+\)s", source)
            for part in text:
                part = part.strip(" .,:·")
                if len(part) >= 12 and " " in part and part not in forms:
                    found.add(part)
    return found


def visible_text(html: str) -> str:
    import html as html_lib

    return html_lib.unescape(TAG.sub(" ", html))


def every_page(worker: Worker, world: World, db: Database, lang: str) -> dict[str, str]:
    worker.lang = lang
    pages = {"home": worker.get(f"/{lang}/").get_data(as_text=True),
             "workplace": worker.get(f"/{lang}/report").get_data(as_text=True)}
    state = {"facility": str(world.penang.id)}
    pages["what"] = worker.step("workplace", **state).get_data(as_text=True)
    state["category"] = ["wages"]
    pages["details"] = worker.step("what", **state).get_data(as_text=True)
    state["details"] = "x"
    pages["contact"] = worker.step("details", **state).get_data(as_text=True)
    state.update(contact="sms", number="1")
    pages["contact-problem"] = worker.step("contact", **state).get_data(as_text=True)
    state.update(contact="web", number="")
    pages["review"] = worker.step("contact", **state).get_data(as_text=True)
    receipt = worker.report(facility=world.penang, categories=["wages"], details="x")
    with db.transaction() as session:
        report = session.scalars(select(Report)).first()
        assert report is not None
        add_desk_reply(session, report, "ok", author_account_id=None)
        factories.case_asking_verdict(session, desk_id=world.union.desk.id,
                                      facility_id=world.penang.id, report_id=report.id)
    pages["followup"] = worker.get(f"/{lang}/followup").get_data(as_text=True)
    pages["thread"] = worker.post(f"/{lang}/followup",
                                  {"receipt": receipt}).get_data(as_text=True)
    more = {"receipt": receipt, "action": "add", "message": "x", "nonce": worker.nonce}
    worker.post(f"/{lang}/followup", more)
    pages["added-twice"] = worker.post(f"/{lang}/followup", more).get_data(as_text=True)
    pages["add-incomplete"] = worker.post(f"/{lang}/followup",
                                          {**more, "nonce": ""}).get_data(as_text=True)
    pages["not-found"] = worker.post(f"/{lang}/followup",
                                     {"receipt": "0" * 16}).get_data(as_text=True)
    pages["add-not-kept"] = worker.post(f"/{lang}/followup",
                                        {**more, "receipt": "0" * 16}).get_data(as_text=True)
    pages["404"] = worker.client.get(f"/{lang}/no-such-page").get_data(as_text=True)
    return pages


@pytest.mark.parametrize("lang", CODES)
def test_no_english_sentence_on_any_worker_page(worker: Worker, world: World, db: Database,
                                                lang: str) -> None:
    english = sentences(lang)
    leaks = {}
    for name, html in every_page(worker, world, db, lang).items():
        text = visible_text(html)
        found = sorted(s for s in english if s in text)
        if found:
            leaks[name] = found
    assert leaks == {}


@pytest.mark.parametrize("lang", CODES)
def test_every_worker_page_has_the_right_lang_and_dir(worker: Worker, world: World,
                                                      db: Database, lang: str) -> None:
    language = next(item for item in LANGUAGES if item.code == lang)
    expected = f'<html lang="{language.bcp47}" dir="{"rtl" if language.rtl else "ltr"}">'
    for name, html in every_page(worker, world, db, lang).items():
        assert expected in html, name


def test_the_check_would_see_an_english_sentence(client: FlaskClient) -> None:
    """The English check can fail: an English page contains the sentences it looks for."""
    html = client.get("/en/report").get_data(as_text=True)
    assert any(s in visible_text(html) for s in sentences("es"))
