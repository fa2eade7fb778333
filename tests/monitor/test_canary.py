"""Canaries planted through the monitor desk (a report's words, a reply, a report taken by
phone, the monitor's address) rest nowhere in the clear: database, instance folder (file
sessions), Redis (sessions, limits), logs."""

from __future__ import annotations

import logging
import re

import pytest

from intake.db import Database
from intake.settings import Settings
from tests.leaks import captured_logs, found_in, resting_places
from tests.monitor.conftest import Browser, DeskWorld, submit

CANARIES = {
    "words": "CANARY-WORDS supervisor Lim locks the fire exit",
    "reply": "CANARY-REPLY we will call the buyers",
    "phoned": "CANARY-PHONED the agent kept my passport",
    "ip": "203.0.113.77",
    "user_agent": "CANARY-MONITOR-UA",
}


def test_monitor_desk_leaves_no_plaintext_at_rest_or_in_logs(
    browser: Browser, desks: DeskWorld, db: Database, settings: Settings,
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
) -> None:
    browser.environ = {"REMOTE_ADDR": CANARIES["ip"], "HTTP_USER_AGENT": CANARIES["user_agent"]}
    with caplog.at_level(logging.DEBUG):
        report_id, _ = submit(db, desks.factory_a, CANARIES["words"])
        browser.login(desks.alice)
        path = f"/monitor/d/{desks.a.desk.id}/reports/{report_id}"
        assert CANARIES["words"] in browser.get(path).get_data(as_text=True)
        browser.post(path + "/reply", {"text": CANARIES["reply"], "action": "send"})
        browser.get(f"/monitor/d/{desks.a.desk.id}/enter")
        entered = browser.post(f"/monitor/d/{desks.a.desk.id}/enter", {
            "channel": "phone", "language": "en", "category": ["forced_labour"],
            "details": CANARIES["phoned"]}).get_data(as_text=True)
    receipt = re.search(r"<strong>([\d ]{19})</strong>", entered)
    assert receipt
    canaries = {**CANARIES, "receipt": receipt.group(1).replace(" ", "")}
    logs = captured_logs(caplog, capsys)
    for place, haystack in resting_places(settings).items():
        assert found_in(haystack, canaries) == [], place
    assert found_in(logs, canaries) == []
