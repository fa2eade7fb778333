"""A remedy form that creates something, sent twice (a double click, a resend after a
timeout, or two at the same moment), creates it once: the desk's plan actions and thread
messages, a buyer's actions and thread messages, a buyer's webhooks (two webhooks would
deliver every alert twice). The second answer says it was saved already; a form without
its nonce is refused, kept, and creates nothing (intake.once)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from intake import once
from intake.alerts.models import BuyerWebhook, ThreadMessage
from intake.db import Database
from intake.remedy.models import BuyerAction, RemedyAction
from intake.settings import Settings
from tests.buyers.conftest import BuyerWorld, add_alert, approved_case
from tests.monitor.conftest import Browser
from tests.monitor.test_cases import case_url
from tests.races import at_once

ALREADY = "Already saved (the form was sent twice)"
BAD_NONCES = [None, "", "short", "x" * 23 + "!"]  # None: the field is missing


@dataclass(frozen=True)
class Form:
    """One form: who sends it, from which page, to which path, and the rows it creates."""

    name: str
    buyer: bool  # sent by the buyer (Westhaven's Ann), else by the desk (Alice)
    page: Callable[[BuyerWorld, str, str], str]  # (world, case id, alert id) -> page
    path: Callable[[BuyerWorld, str, str], str]
    fields: dict[str, str]
    creates: type
    kept: str  # what the refused page shows again of the form
    repeat: str  # what the second answer says


def _case(world: BuyerWorld, case_id: str, _alert: str) -> str:
    return case_url(world.desks, case_id)


def _alert(_world: BuyerWorld, _case_id: str, alert: str) -> str:
    return f"/buyer/alerts/{alert}"


FORMS = [
    Form("desk plan action", False, _case,
         lambda w, c, a: case_url(w.desks, c, "/remedy/actions"),
         {"description": "Pay back the overtime", "owner": "supplier", "buyer": "",
          "due_on": "", "evidence": "Payroll records"}, RemedyAction,
         "Pay back the overtime", ALREADY),
    Form("desk thread message", False, _case, lambda w, c, a: case_url(w.desks, c, "/thread"),
         {"body": "The supplier has agreed to meet."}, ThreadMessage,
         "The supplier has agreed to meet.", ALREADY),
    Form("buyer action", True, _alert, lambda w, c, a: f"/buyer/alerts/{a}/actions",
         {"kind": "joint_letter", "description": "Wrote to the supplier with Eastport",
          "evidence": "", "remedy_action": ""}, BuyerAction,
         "Wrote to the supplier with Eastport", ALREADY),
    Form("buyer thread message", True, _alert, lambda w, c, a: f"/buyer/alerts/{a}/thread",
         {"body": "We raised it at the contract review."}, ThreadMessage,
         "We raised it at the contract review.", ALREADY),
    Form("buyer webhook", True, lambda w, c, a: "/buyer/webhooks",
         lambda w, c, a: "/buyer/webhooks", {"url": "http://127.0.0.1:9/hook"}, BuyerWebhook,
         'value="http://127.0.0.1:9/hook"', "This webhook was added already"),
]
IDS = [form.name for form in FORMS]


@dataclass
class Ready:
    """Alice's approved case, alerted to Westhaven; the form's page open in ``sender``."""

    case_id: str
    alert: str
    sender: Browser
    page: str
    path: str


def ready(form: Form, browser: Browser, sender: Browser, buyers: BuyerWorld,
          db: Database) -> Ready:
    case_id, _ = approved_case(browser, buyers.desks, db)
    alert = add_alert(db, case_id, buyers.westhaven)
    if sender is not browser:
        sender.login(buyers.buyer_a if form.buyer else buyers.desks.alice)
    page = form.page(buyers, case_id, alert)
    sender.get(page)
    return Ready(case_id, alert, sender, page, form.path(buyers, case_id, alert))


def sender_of(form: Form, browser: Browser, other_browser: Browser) -> Browser:
    return other_browser if form.buyer else browser


def send(browser: Browser, path: str, form: dict[str, Any], nonce: str | None) -> TestResponse:
    """``form`` as a browser sends it, with ``nonce`` (None: without the field)."""
    data = {"csrf_token": browser.token, **form}
    if nonce is not None:
        data["nonce"] = nonce
    return browser.client.post(path, data=data, environ_base=browser.environ)


def count(db: Database, model: type) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("form", FORMS, ids=IDS)
def test_a_form_sent_twice_creates_one_row_and_the_second_answer_says_so(
    form: Form, browser: Browser, other_browser: Browser, buyers: BuyerWorld, db: Database
) -> None:
    world = ready(form, browser, sender_of(form, browser, other_browser), buyers, db)
    nonce = world.sender.nonce
    answers = [send(world.sender, world.path, form.fields, nonce) for _ in range(2)]
    assert answers[1].status_code == 303
    assert form.repeat in world.sender.get(answers[1].headers["Location"]).get_data(
        as_text=True)
    assert count(db, form.creates) == 1


@pytest.mark.parametrize("form", FORMS, ids=IDS)
def test_a_form_sent_twice_at_the_same_moment_creates_one_row(
    form: Form, browser: Browser, other_browser: Browser, third_browser: Browser,
    buyers: BuyerWorld, db: Database
) -> None:
    """Both requests find the form not handled yet before either saves (tests.races lines
    them up at the audit chain): the second to save finds the first one's record."""
    world = ready(form, browser, sender_of(form, browser, other_browser), buyers, db)
    third_browser.login(buyers.buyer_a if form.buyer else buyers.desks.alice)
    third_browser.get(world.page)
    nonce = world.sender.nonce
    answers = at_once(db.engine, lambda: send(world.sender, world.path, form.fields, nonce),
                      lambda: send(third_browser, world.path, form.fields, nonce))
    assert all(a.status_code in (200, 303) for a in answers), [a.status_code for a in answers]
    assert count(db, form.creates) == 1


@pytest.mark.parametrize("nonce", BAD_NONCES)
@pytest.mark.parametrize("form", FORMS, ids=IDS)
def test_a_form_without_its_nonce_is_refused_kept_and_creates_nothing(
    form: Form, nonce: str | None, browser: Browser, other_browser: Browser,
    buyers: BuyerWorld, db: Database
) -> None:
    world = ready(form, browser, sender_of(form, browser, other_browser), buyers, db)
    response = send(world.sender, world.path, form.fields, nonce)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "the form was incomplete" in page and form.kept in page
    assert count(db, form.creates) == 0


def test_the_webhook_secret_is_not_kept_for_a_repeat(
    other_browser: Browser, browser: Browser, buyers: BuyerWorld, db: Database,
    settings: Settings
) -> None:
    """The signing secret is shown on the first answer only (kept nowhere, not even sealed
    in the record of the form): the second says it was shown, and how to get a new one."""
    world = ready(FORMS[-1], browser, other_browser, buyers, db)
    nonce = other_browser.nonce
    first = send(other_browser, world.path, {"url": "http://127.0.0.1:9/hook"}, nonce)
    second = send(other_browser, world.path, {"url": "http://127.0.0.1:9/hook"}, nonce)
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", first.get_data(as_text=True))
    assert first.status_code == 200 and secret is not None
    page = other_browser.get(second.headers["Location"]).get_data(as_text=True)
    assert "signing secret was shown once" in page and "whsec_" not in page
    with db.transaction() as session:
        hook_id = session.scalars(select(BuyerWebhook.id)).one()
        kept = once.done_before(session, nonce, pepper=settings.pepper,
                                scope="form:buyer.add_webhook")
    assert kept == (True, str(hook_id))
