"""Worker pages for phones that show Burmese in Zawgyi (``/my-zawgyi/``): the same pages as
``/my/``, every Burmese word of ours spelled in Zawgyi; what the worker types kept as typed."""

from __future__ import annotations

import functools
import json
import re

from babel.lists import format_list
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from crypto.envelope import open_sealed
from crypto.keys import PrivateKey
from intake.db import Database
from intake.i18n import TRANSLATIONS
from intake.reports.burmese import zawgyi_spelling
from intake.reports.service import body_context, open_contact
from intake.settings import Settings
from tests.burmese import UNICODE_WORDS, ZAWGYI_WORDS
from tests.web.conftest import Worker, World
from tests.web.test_report_flow import only_report, plant_reply

MYANMAR_RUN = re.compile("[\u1000-\u109f]+")
# "We will talk to the factory manager today.", as the desk writes it (in Unicode).
DESK_REPLY = "ကျွန်ုပ်တို့ စက်ရုံ မန်နေဂျာနှင့် ဒီနေ့ စကားပြောပါမည်။"


@functools.cache
def catalog() -> Catalog:
    """The Burmese catalog as written (a fresh clone has no compiled one before the app)."""
    with (TRANSLATIONS / "my" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale="my")


def burmese(message: str, context: str | None = None) -> str:
    found = catalog().get(message, context=context)
    translated = found.string if found is not None else ""
    assert isinstance(translated, str) and MYANMAR_RUN.search(translated), \
        f"{message!r} is not translated into Burmese"
    return translated


def page(worker: Worker, path: str) -> str:
    response = worker.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_the_start_page_offers_zawgyi_in_its_own_letters(worker: Worker) -> None:
    start = page(worker, "/")
    link = zawgyi_spelling("မြန်မာ (ဇော်ဂျီ)")
    assert f'<a href="/my-zawgyi/" lang="my">{link}</a>' in start
    assert 'href="/my/"' in start  # Unicode stays where it was


def test_every_burmese_word_of_the_page_is_spelled_in_zawgyi(worker: Worker) -> None:
    unicode_page = page(worker, "/my/")
    zawgyi_page = page(worker, "/my-zawgyi/")
    name = burmese("Worker Voice", "site name")
    assert zawgyi_spelling(name) != name
    assert zawgyi_spelling(name) in zawgyi_page and name not in zawgyi_page
    # The page is the Unicode one, word for word, but spelled (and each footer offers the
    # other spelling).
    spelled = [zawgyi_spelling(run) for run in MYANMAR_RUN.findall(unicode_page)]
    assert MYANMAR_RUN.findall(zawgyi_page)[:-2] == spelled[:-2]
    # Its links stay on the Zawgyi pages; the footer leads back to Unicode.
    assert 'href="/my-zawgyi/report"' in zawgyi_page and 'href="/my/report"' not in zawgyi_page
    assert 'href="/my/" lang="my"' in zawgyi_page
    assert 'href="/my-zawgyi/" lang="my"' in unicode_page


def test_a_report_from_a_zawgyi_page_keeps_the_words_as_typed(
        worker: Worker, world: World, db: Database) -> None:
    worker.lang = "my-zawgyi"
    worker.get("/my-zawgyi/report")
    state = {"facility": str(world.penang.id), "category": ["wages", "forced_labour"]}
    worker.step("workplace", facility=state["facility"])
    worker.step("what", **state)
    state["details"] = ZAWGYI_WORDS
    worker.step("details", **state)
    review = worker.step("contact", **state, contact="web").get_data(as_text=True)
    # The worker reads their own words as they typed them, and our words in Zawgyi.
    assert ZAWGYI_WORDS in review
    assert zawgyi_spelling(burmese("What happened")) in review
    chosen = format_list([burmese("Pay", "category"), burmese("Forced work or debt", "category")],
                         locale="my")  # with the word for "and" between them
    assert zawgyi_spelling(chosen) in review and chosen not in review
    receipt = worker.report(facility=world.penang, categories=["wages"], details=ZAWGYI_WORDS)
    assert len(receipt) == 16
    report = only_report(db)
    assert report.language == "my"
    body = json.loads(open_sealed(report.body_sealed, world.union.key,
                                  context=body_context(report.id)))
    assert body == {"details": ZAWGYI_WORDS}  # sealed exactly as typed


def test_texts_back_to_a_phone_that_reads_zawgyi_pages_are_in_zawgyi(
        worker: Worker, world: World, db: Database, settings: Settings) -> None:
    """Even when the worker typed no Burmese: the page they read tells how their phone
    spells it."""
    worker.lang = "my-zawgyi"
    worker.report(facility=world.penang, categories=["wages"], details="MY pay was cut",
                  contact="sms", number="012-345 6789")
    assert settings.courier_key is not None
    contact = open_contact(only_report(db), PrivateKey.from_bytes(settings.courier_key))
    assert contact.zawgyi is True


def test_the_desks_answer_is_shown_in_the_spelling_of_the_page(
        worker: Worker, world: World, db: Database) -> None:
    worker.lang = "my-zawgyi"
    receipt = worker.report(facility=world.penang, categories=["wages"], details=UNICODE_WORDS)
    plant_reply(db, DESK_REPLY)
    threads = {}
    for lang in ("my", "my-zawgyi"):
        worker.lang = lang
        worker.get(f"/{lang}/followup")
        threads[lang] = worker.open_thread(receipt).get_data(as_text=True)
    assert DESK_REPLY in threads["my"]
    assert zawgyi_spelling(DESK_REPLY) in threads["my-zawgyi"] != DESK_REPLY
    # The date's words too ("Sent on 27 November 2026", the month in Burmese).
    sent_on = {lang: re.findall(r"<p>([^<]*?) · ", thread)[0]
               for lang, thread in threads.items()}
    assert MYANMAR_RUN.search(sent_on["my"])
    assert sent_on["my-zawgyi"] == zawgyi_spelling(sent_on["my"]) != sent_on["my"]


def test_an_unknown_page_under_zawgyi_is_answered_in_zawgyi(worker: Worker) -> None:
    response = worker.client.get("/my-zawgyi/no-such-page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    start = burmese("Start page", "link")
    assert zawgyi_spelling(start) in body and 'href="/my-zawgyi/"' in body
    assert worker.client.get("/en-zawgyi/").status_code == 404  # Burmese alone has it
