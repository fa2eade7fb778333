"""Bad input on worker pages: a clear message in place, what was typed kept, never a 500."""

from __future__ import annotations

import dataclasses

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from intake import create_app
from intake.db import Database
from intake.reports.models import Report
from intake.reports.service import MAX_DETAILS_CHARS
from intake.settings import Settings
from tests.web.conftest import Worker, World


def count_reports(db: Database) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Report)) or 0)


def test_over_long_details_are_refused_and_kept(worker: Worker, world: World) -> None:
    worker.get("/en/report")
    long_text = "word " * (MAX_DETAILS_CHARS // 5 + 10)
    response = worker.step("details", facility=str(world.penang.id), category=["wages"],
                           details=long_text)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "too long" in page
    assert long_text.strip() in page  # what was typed comes back, to be shortened


def test_the_limit_is_told_before_it_is_hit(worker: Worker, world: World) -> None:
    worker.get("/en/report")
    page = worker.step("what", facility=str(world.penang.id), category=["wages"])
    html = page.get_data(as_text=True)
    assert f'maxlength="{MAX_DETAILS_CHARS}"' in html
    assert f"Up to {MAX_DETAILS_CHARS} letters" in html


def test_unknown_poster_code_gets_a_message(worker: Worker, world: World) -> None:
    worker.get("/en/report")
    response = worker.step("workplace", q="ZZ9999")
    assert response.status_code == 200
    assert "could not find that workplace" in response.get_data(as_text=True)


def test_unknown_facility_id_is_refused(worker: Worker, world: World) -> None:
    worker.get("/en/report")
    response = worker.step("workplace", facility="987654")
    assert "could not find that workplace" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/xx/report", "/klingon/followup", "/EN/report", "/xx/"])
def test_unknown_language_prefix_is_a_404_page_with_the_chooser(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path, headers={"Accept-Language": "ar"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'dir="rtl"' in page and 'href="/"' in page


def test_tampered_category_is_a_400_with_the_words_kept(worker: Worker, world: World) -> None:
    worker.get("/en/report")
    response = worker.step("details", facility=str(world.penang.id),
                           category=["wages", "<script>"], details="my words stay")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "changed" in page and "my words stay" in page
    assert "<script>" not in page


# "²" is a digit to str.isdigit but not to int(): it was a 500 on every database.
@pytest.mark.parametrize("field,value", [("facility", "1 OR 1=1"), ("facility", "²"),
                                         ("contact", "fax"), ("step", "pay-me")])
def test_tampered_hidden_fields_never_500(worker: Worker, world: World, field: str,
                                          value: str) -> None:
    worker.get("/en/report")
    data = {"step": "contact", "go": "next", "facility": str(world.penang.id),
            "category": ["wages"], "details": "kept", "contact": "web", field: value}
    response = worker.post("/en/report", data)
    assert response.status_code == 400


def test_missing_csrf_token_keeps_what_was_typed(worker: Worker, world: World,
                                                 db: Database) -> None:
    worker.get("/en/report")
    worker.token = ""
    response = worker.step("details", facility=str(world.penang.id), category=["wages"],
                           details="typed before the token expired")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "press the button again" in page
    assert "typed before the token expired" in page
    assert 'name="csrf_token" value="' in page  # a fresh token to go on with


def test_send_with_a_stale_token_loses_nothing(worker: Worker, world: World,
                                               db: Database) -> None:
    worker.get("/en/report")
    state = {"facility": str(world.penang.id), "category": ["wages"], "details": "keep me",
             "contact": "web", "number": ""}
    review = worker.step("contact", **state).get_data(as_text=True)
    nonce = review.split('name="nonce" value="')[1].split('"')[0]
    worker.token = "stale"
    refused = worker.post("/en/report", {"step": "review", "go": "send", "nonce": nonce,
                                         **state})
    assert refused.status_code == 400 and count_reports(db) == 0
    assert "keep me" in refused.get_data(as_text=True)
    sent = worker.post("/en/report", {"step": "review", "go": "send", "nonce": nonce, **state})
    assert "Your report was sent" in sent.get_data(as_text=True)
    assert count_reports(db) == 1


def test_bad_phone_number_is_refused_with_the_number_kept(worker: Worker, world: World) -> None:
    worker.get("/en/report")
    response = worker.step("contact", facility=str(world.penang.id), category=["wages"],
                           details="", contact="sms", number="12ab")
    page = response.get_data(as_text=True)
    assert "does not look right" in page and 'value="12ab"' in page


@pytest.mark.parametrize("typed", ["+52 1 33 1234 5678", "521 33 1234 5678",
                                   "1 33 1234 5678", "044 33 1234 5678", "045 33 1234 5678"])
def test_a_mexican_mobile_with_a_prefix_dropped_in_2019_is_taken(
        worker: Worker, world: World, typed: str) -> None:
    """WhatsApp shows a Mexican their own number as +52 1 …; older habits put 044 or 045
    before it. Each was refused as a wrong number; now it becomes the number dialled today."""
    worker.get("/en/report")
    response = worker.step("contact", facility=str(world.tijuana.id), category=["wages"],
                           details="", contact="sms", number=typed)
    page = response.get_data(as_text=True)
    assert "does not look right" not in page
    assert 'value="+523312345678"' in page


def test_oversized_body_is_a_413_page(worker: Worker, world: World) -> None:
    worker.get("/en/report")
    response = worker.step("details", facility=str(world.penang.id), category=["wages"],
                           details="x" * 200_000)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_flood_from_one_address_is_throttled_while_another_is_served(
    settings: Settings, world: World
) -> None:
    app = create_app(dataclasses.replace(settings))
    flooder = Worker(app.test_client(), environ={"REMOTE_ADDR": "192.0.2.66"})
    flooder.get("/en/report")
    statuses = [
        flooder.step("what", facility=str(world.penang.id), category=["wages"],
                     details="flood").status_code
        for _ in range(31)
    ]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    last = flooder.step("what", facility=str(world.penang.id), category=["wages"],
                        details="still here")
    assert "still here" in last.get_data(as_text=True)
    other = Worker(app.test_client(), environ={"REMOTE_ADDR": "198.51.100.9"})
    other.get("/en/report")
    assert other.step("workplace", facility=str(world.penang.id)).status_code == 200


def test_receipt_guessing_is_throttled(settings: Settings, world: World) -> None:
    app = create_app(settings)
    guesser = Worker(app.test_client(), environ={"REMOTE_ADDR": "192.0.2.77"})
    guesser.get("/en/followup")
    statuses = [guesser.post("/en/followup", {"receipt": f"{n:016d}"}).status_code
                for n in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429


@pytest.mark.parametrize("receipt", ["12345", "abcd efgh ijkl mnop", "1" * 40, ""])
def test_malformed_receipt_says_sixteen_digits(worker: Worker, world: World,
                                               receipt: str) -> None:
    worker.get("/en/followup")
    page = worker.post("/en/followup", {"receipt": receipt}).get_data(as_text=True)
    assert "16 digits" in page


def test_empty_addition_is_refused_gently(worker: Worker, world: World, db: Database) -> None:
    receipt = worker.report(facility=world.penang, categories=["wages"], details="x")
    worker.get("/en/followup")
    page = worker.add_more(receipt, "  ")
    assert "Please write something" in page.get_data(as_text=True)


def test_verdict_without_a_question_is_refused(worker: Worker, world: World) -> None:
    receipt = worker.report(facility=world.penang, categories=["wages"], details="x")
    worker.get("/en/followup")
    response = worker.post("/en/followup", {"receipt": receipt, "action": "verdict",
                                            "verdict": "yes"})
    assert response.status_code == 200
    assert "Your answer was saved" not in response.get_data(as_text=True)


def test_malformed_accept_language_falls_back_to_english(client: FlaskClient) -> None:
    response = client.get("/", headers={"Accept-Language": ";;q=abc,,\x00"})
    assert response.status_code == 200
    assert '<html lang="en"' in response.get_data(as_text=True)


def test_no_desk_to_seal_to_keeps_the_words_and_says_so(worker: Worker, db: Database) -> None:
    from tests import factories

    with db.transaction() as session:
        factories.desk(session, country="MX")  # covers nothing, and is no fallback
        lonely = factories.facility(session, name="Uncovered Works", code="TH7777")
        lonely_id = lonely.id
    worker.get("/en/report")
    state = {"facility": str(lonely_id), "category": ["wages"], "details": "keep these words",
             "contact": "web", "number": ""}
    review = worker.step("contact", **state).get_data(as_text=True)
    nonce = review.split('name="nonce" value="')[1].split('"')[0]
    response = worker.post("/en/report", {"step": "review", "go": "send", "nonce": nonce,
                                          **state})
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "cannot take reports at this moment" in page and "keep these words" in page
    assert count_reports(db) == 0
