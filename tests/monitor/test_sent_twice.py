"""A desk form that creates something, sent twice (a double click, a resend after a timeout,
or two at the same moment), creates it once: a new case, a note, an API token. The second
answer says it was saved already; a form without its nonce is refused, kept, and creates
nothing (intake.once)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from intake import once
from intake.accounts.models import ApiToken
from intake.cases.models import Case, CaseNote
from intake.db import Database
from intake.messaging.models import ProcessedInbound
from intake.settings import Settings
from tests.monitor.conftest import Browser, DeskWorld, submit
from tests.monitor.test_cases import LOCATION, case_url, cases_url, new_case
from tests.races import at_once

TOKEN = re.compile(r"wvi_[0-9]+_[A-Za-z0-9_-]{43}")
ALREADY = "Already saved (the form was sent twice)"
BAD_NONCES = [None, "", "short", "x" * 23 + "!"]  # None: the field is missing


def count(db: Database, model: type) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def send(browser: Browser, path: str, form: dict[str, Any], nonce: str | None) -> TestResponse:
    """``form`` as a browser sends it, with ``nonce`` (None: without the field)."""
    data = {"csrf_token": browser.token, **form}
    if nonce is not None:
        data["nonce"] = nonce
    return browser.client.post(path, data=data, environ_base=browser.environ)


def case_form(desks: DeskWorld, reports: list[str]) -> dict[str, str]:
    return {"title": "Unpaid overtime, night shift", "category": "wages",
            "severity": "serious", "facility": str(desks.factory_a.id),
            "reports": "\n".join(reports)}


def desk_reports(db: Database, desks: DeskWorld, count: int = 2) -> list[str]:
    return [submit(db, desks.factory_a, f"Overtime not paid, report {i}.")[0]
            for i in range(count)]


def flashed(browser: Browser, response: TestResponse) -> str:
    return browser.get(response.headers["Location"]).get_data(as_text=True)


# --- a new case ---------------------------------------------------------------------------


def test_a_case_form_sent_twice_opens_one_case_and_the_second_answer_says_so(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    reports = desk_reports(db, desks)
    browser.login(desks.alice)
    browser.get(cases_url(desks))
    nonce = browser.nonce
    first = send(browser, cases_url(desks), case_form(desks, reports), nonce)
    second = send(browser, cases_url(desks), case_form(desks, reports), nonce)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]  # the same case
    assert ALREADY in flashed(browser, second)
    assert count(db, Case) == 1


def test_a_case_form_sent_again_past_its_window_opens_nothing_and_shows_no_case(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """Past the ten minutes its result is kept, a repeat is still recognised (one case)
    but no longer shown the first case, even before the sweep has dropped that result."""
    reports = desk_reports(db, desks)
    browser.login(desks.alice)
    browser.get(cases_url(desks))
    nonce = browser.nonce
    first = send(browser, cases_url(desks), case_form(desks, reports), nonce)
    with db.transaction() as session:
        kept = session.scalars(select(ProcessedInbound)).one()
        assert kept.reply_sealed is not None  # not swept
        kept.keep_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    again = send(browser, cases_url(desks), case_form(desks, reports), nonce)
    assert again.status_code == 303
    assert again.headers["Location"] != first.headers["Location"]
    assert again.headers["Location"].endswith(cases_url(desks))
    assert ALREADY in flashed(browser, again)
    assert count(db, Case) == 1


def test_a_case_form_sent_twice_at_the_same_moment_opens_one_case(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """Both requests take the reports' rows in turn (tests.races lines them up): the second
    finds them in the first one's case, and answers as the repeat it is, not as a refusal."""
    reports = desk_reports(db, desks)
    for each in (browser, other_browser):
        each.login(desks.alice)
        each.get(cases_url(desks))
    nonce = browser.nonce
    answers = at_once(db.engine,
                      lambda: send(browser, cases_url(desks), case_form(desks, reports), nonce),
                      lambda: send(other_browser, cases_url(desks), case_form(desks, reports),
                                   nonce))
    assert [a.status_code for a in answers] == [303, 303]
    assert {LOCATION.search(a.headers["Location"]) is not None for a in answers} == {True}
    assert count(db, Case) == 1


@pytest.mark.parametrize("nonce", BAD_NONCES)
def test_a_case_form_without_its_nonce_is_refused_kept_and_opens_nothing(
    browser: Browser, desks: DeskWorld, db: Database, nonce: str | None
) -> None:
    reports = desk_reports(db, desks)
    browser.login(desks.alice)
    browser.get(cases_url(desks))
    response = send(browser, cases_url(desks), case_form(desks, reports), nonce)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "No case was opened: the form was incomplete" in page
    assert "Unpaid overtime, night shift" in page and reports[0] in page
    assert count(db, Case) == 0


# --- a note -------------------------------------------------------------------------------


def test_a_note_sent_twice_is_saved_once_and_the_second_answer_says_so(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    browser.get(case_url(desks, case_id))
    nonce = browser.nonce
    answers = [send(browser, case_url(desks, case_id, "/notes"), {"text": "Called the rep."},
                    nonce) for _ in range(2)]
    assert [a.status_code for a in answers] == [303, 303]
    assert ALREADY in flashed(browser, answers[1])
    assert count(db, CaseNote) == 1


def test_a_note_sent_twice_at_the_same_moment_is_saved_once(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    case_id, _ = new_case(browser, desks, db)
    other_browser.login(desks.alice)
    other_browser.get(case_url(desks, case_id))
    browser.get(case_url(desks, case_id))
    nonce = browser.nonce
    path = case_url(desks, case_id, "/notes")
    answers = at_once(db.engine,
                      lambda: send(browser, path, {"text": "Called the rep."}, nonce),
                      lambda: send(other_browser, path, {"text": "Called the rep."}, nonce))
    assert [a.status_code for a in answers] == [303, 303]
    assert count(db, CaseNote) == 1


@pytest.mark.parametrize("nonce", BAD_NONCES)
def test_a_note_without_its_nonce_is_refused_kept_and_saves_nothing(
    browser: Browser, desks: DeskWorld, db: Database, nonce: str | None
) -> None:
    case_id, _ = new_case(browser, desks, db)
    browser.get(case_url(desks, case_id))
    response = send(browser, case_url(desks, case_id, "/notes"), {"text": "Called the rep."},
                    nonce)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was changed: the form was incomplete" in page and "Called the rep." in page
    assert count(db, CaseNote) == 0


def test_one_pages_nonce_sent_with_two_different_forms_saves_both(
    browser: Browser, desks: DeskWorld, db: Database
) -> None:
    """A nonce names one form: the same value sent with another form (another tab of an old
    page, a tampered form) is not mistaken for a repeat of the first."""
    case_id, _ = new_case(browser, desks, db)
    browser.get(case_url(desks, case_id))
    nonce = browser.nonce
    assert send(browser, case_url(desks, case_id, "/notes"), {"text": "A note."},
                nonce).status_code == 303
    response = send(browser, case_url(desks, case_id, "/remedy/actions"),
                    {"description": "Pay the overtime", "owner": "supplier"}, nonce)
    assert response.status_code == 303
    assert ALREADY not in flashed(browser, response)


# --- an API token ---------------------------------------------------------------------------


def test_a_token_form_sent_twice_makes_one_token_and_keeps_no_secret(
    browser: Browser, desks: DeskWorld, db: Database, settings: Settings
) -> None:
    """The second answer cannot show the token (its secret is kept nowhere, not even sealed
    in the record of the form): it says the token was made and its secret shown once."""
    path = f"/monitor/d/{desks.a.desk.id}/tokens"
    browser.login(desks.alice)
    browser.get(path)
    nonce = browser.nonce
    first = send(browser, path, {"name": "nightly export"}, nonce)
    second = send(browser, path, {"name": "nightly export"}, nonce)
    assert first.status_code == 200 and TOKEN.search(first.get_data(as_text=True))
    assert second.status_code == 303
    page = flashed(browser, second)
    assert "This token was made already" in page and "secret was shown once" in page
    assert TOKEN.search(page) is None
    assert count(db, ApiToken) == 1
    with db.transaction() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
        kept = once.done_before(session, nonce, pepper=settings.pepper,
                                scope="form:tokens.token_create")
    assert kept == (True, str(token_id))


def test_a_token_form_sent_twice_at_the_same_moment_makes_one_token(
    browser: Browser, other_browser: Browser, desks: DeskWorld, db: Database
) -> None:
    path = f"/monitor/d/{desks.a.desk.id}/tokens"
    for each in (browser, other_browser):
        each.login(desks.alice)
        each.get(path)
    nonce = browser.nonce
    answers = at_once(db.engine, lambda: send(browser, path, {"name": "export"}, nonce),
                      lambda: send(other_browser, path, {"name": "export"}, nonce))
    assert sorted(a.status_code for a in answers) == [200, 303]
    assert sum(len(TOKEN.findall(a.get_data(as_text=True))) for a in answers) == 1
    assert count(db, ApiToken) == 1


@pytest.mark.parametrize("nonce", BAD_NONCES)
def test_a_token_form_without_its_nonce_is_refused_kept_and_makes_nothing(
    browser: Browser, desks: DeskWorld, db: Database, nonce: str | None
) -> None:
    path = f"/monitor/d/{desks.a.desk.id}/tokens"
    browser.login(desks.alice)
    browser.get(path)
    response = send(browser, path, {"name": "nightly export"}, nonce)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The form was incomplete" in page and 'value="nightly export"' in page
    assert TOKEN.search(page) is None
    assert count(db, ApiToken) == 0
