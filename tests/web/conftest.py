"""Fixtures for worker pages: a world with two desks and facilities, and a page client."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from intake.db import Database
from intake.supplychain.models import Facility
from tests import factories


@dataclass
class World:
    union: factories.DeskWithKey
    ngo: factories.DeskWithKey
    penang: Facility
    tijuana: Facility
    bangkok: Facility


@pytest.fixture
def world(db: Database) -> World:
    with db.transaction() as session:
        union = factories.desk(session, country="MY", fallback=True)
        ngo = factories.desk(session, country="MX")
        penang = factories.facility(session, name="Penang Circuit Assembly", code="MY4821")
        tijuana = factories.facility(session, name="Tijuana Power Plant", country="MX",
                                     code="MX2045")
        bangkok = factories.facility(session, name="Bangkok Sensor Works", country="TH",
                                     code="TH2254")
        factories.cover(session, union, penang)
        factories.cover(session, ngo, tijuana)
        session.expunge_all()
    return World(union, ngo, penang, tijuana, bangkok)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')
RECEIPT = re.compile(r"<span>(\d{4})</span>")


@dataclass
class Worker:
    """A worker's phone browser, posting forms exactly as the pages define them."""

    client: FlaskClient
    lang: str = "en"
    token: str = ""
    nonce: str = ""  # the last page's, sent only where a test passes it (the forms differ)
    environ: dict[str, str] = field(default_factory=lambda: {"REMOTE_ADDR": "192.0.2.10"})

    def get(self, path: str) -> TestResponse:
        response = self.client.get(path, environ_base=self.environ)
        self._remember(response)
        return response

    def post(self, path: str, data: dict[str, Any]) -> TestResponse:
        response = self.client.post(
            path, data={"csrf_token": self.token, **data}, environ_base=self.environ
        )
        self._remember(response)
        return response

    def _remember(self, response: TestResponse) -> None:
        page = response.get_data(as_text=True)
        found = CSRF.search(page)
        if found:
            self.token = found.group(1)
        nonce = NONCE.search(page)
        self.nonce = nonce.group(1) if nonce else ""

    def open_thread(self, receipt: str) -> TestResponse:
        """The follow-up thread, opened with the receipt (its "add more" form's nonce kept)."""
        return self.post(f"/{self.lang}/followup", {"receipt": receipt})

    def add_more(self, receipt: str, message: str) -> TestResponse:
        """Open the thread and send more on its form, as a worker does."""
        self.open_thread(receipt)
        return self.post(f"/{self.lang}/followup", {"receipt": receipt, "action": "add",
                                                    "message": message, "nonce": self.nonce})

    def step(self, step: str, **fields: Any) -> TestResponse:
        return self.post(f"/{self.lang}/report", {"step": step, "go": "next", **fields})

    def report(self, *, facility: Facility | str, categories: list[str], details: str,
               contact: str = "web", number: str = "") -> str:
        """Walk every step and press Send; return the receipt digits shown."""
        self.get(f"/{self.lang}/report")
        chosen = str(facility.id) if isinstance(facility, Facility) else facility
        state: dict[str, Any] = {"facility": chosen}
        assert self.step("workplace", **state).status_code == 200
        state["category"] = categories
        assert self.step("what", **state).status_code == 200
        state["details"] = details
        assert self.step("details", **state).status_code == 200
        state.update(contact=contact, number=number)
        review = self.step("contact", **state)
        assert review.status_code == 200, review.get_data(as_text=True)
        nonce = NONCE.search(review.get_data(as_text=True))
        assert nonce, "the review page carries a submission nonce"
        if contact == "sms":
            state["number"] = re.search(r'name="number" value="([^"]*)"',
                                        review.get_data(as_text=True)).group(1)
        sent = self.post(f"/{self.lang}/report",
                         {"step": "review", "go": "send", "nonce": nonce.group(1), **state})
        assert sent.status_code == 200
        return "".join(RECEIPT.findall(sent.get_data(as_text=True)))


@pytest.fixture
def worker(client: FlaskClient) -> Worker:
    return Worker(client)
