"""A canary sentence and phone number sent through the worker pages rest nowhere in the clear."""

from __future__ import annotations

import logging

import pytest

from intake.settings import Settings
from tests.leaks import captured_logs, database_bytes, found_in, resting_places
from tests.web.conftest import Worker, World

CANARIES = {
    "sentence": "CANARY the supervisor Mr Lim locks dormitory 7B at night",
    "addition": "CANARY-ADDITION they took our passports again",
    "number": "+60123987654",
    "ip": "203.0.113.199",
    "receipt": "",  # filled in once the receipt is known
}


def test_canaries_from_the_web_form_are_nowhere_at_rest(
    worker: Worker, world: World, settings: Settings, caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    worker.environ = {"REMOTE_ADDR": CANARIES["ip"], "HTTP_USER_AGENT": "CANARY-UA"}
    with caplog.at_level(logging.DEBUG):
        receipt = worker.report(facility=world.penang, categories=["forced_labour"],
                                details=CANARIES["sentence"], contact="sms",
                                number=CANARIES["number"])
        worker.get("/en/followup")
        worker.add_more(receipt, CANARIES["addition"])
    canaries = {**CANARIES, "receipt": receipt, "user_agent": "CANARY-UA"}
    logs = captured_logs(caplog, capsys)
    for place, haystack in resting_places(settings).items():
        assert found_in(haystack, canaries) == [], place
    assert found_in(logs, canaries) == []


def test_the_search_would_find_a_canary_stored_in_the_clear(settings: Settings,
                                                            world: World) -> None:
    """The search itself can fail: plant the sentence in a clear column and find it."""
    from intake.db import Database
    from intake.supplychain.models import Facility

    database = Database(settings.database_url)
    with database.transaction() as session:
        session.add(Facility(name=CANARIES["sentence"][:200], country="MY", poster_code="CN0001"))
    database.dispose()
    assert found_in(database_bytes(settings.database_url), CANARIES) == ["sentence"]
