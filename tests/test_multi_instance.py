"""Two app processes behind a round-robin (issue 9 item 7): web reports, monitor sessions,
rate limits and SMS conversations behave as with one.

Two ``intake serve`` processes share PostgreSQL and Redis; every request of a test goes
through a WSGI proxy that forwards it to the two in turn, so each step of a flow lands on the
other process than the step before. The same page helpers as the single-app tests drive it.
Scaling out needs PostgreSQL and Redis (DESIGN 3): on the embedded default the limits and
jobs live in one process, so these tests are skipped there.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import Client

from intake.db import Database
from intake.reports.models import Report
from intake.settings import Settings
from tests.conftest import ON_POSTGRES, TEST_REDIS_URL
from tests.monitor.conftest import Browser, DeskWorld, desks
from tests.procs import free_ports
from tests.sms.conftest import Phone
from tests.sms.test_multi_instance import wait_until_up
from tests.web.conftest import Worker, World, world

__all__ = ["desks", "world"]

pytestmark = pytest.mark.skipif(
    not (ON_POSTGRES and TEST_REDIS_URL),
    reason="several app processes share state only through PostgreSQL and Redis "
           "(INTAKE_TEST_DATABASE_URL, INTAKE_TEST_REDIS_URL); the embedded default is one "
           "process")

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class RoundRobin:
    """A WSGI app that forwards each request to the next of ``ports`` on 127.0.0.1."""

    def __init__(self, ports: list[int]) -> None:
        self._next = itertools.cycle(ports)
        self._lock = threading.Lock()
        self.served: Counter[int] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            port = next(self._next)
            self.served[port] += 1
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        path = environ.get("RAW_URI") or environ["PATH_INFO"]
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {key[5:].replace("_", "-").title(): value
                   for key, value in environ.items() if key.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        headers["X-Forwarded-For"] = environ.get("REMOTE_ADDR", "")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request(environ["REQUEST_METHOD"], path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        start_response(f"{response.status} {response.reason}",
                       [(k, v) for k, v in response.getheaders()
                        if k.lower() not in _HOP_BY_HOP])
        return [data]


@dataclass
class Pair:
    proxy: RoundRobin
    ports: list[int]

    def client(self) -> Client:
        return Client(self.proxy)


def _environ(settings: Settings) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    environ.update(
        INTAKE_DATABASE_URL=settings.database_url, INTAKE_REDIS_URL=settings.redis_url or "",
        INTAKE_PUBLIC_URL=settings.public_url, TWILIO_AUTH_TOKEN=settings.twilio_auth_token or "",
        INTAKE_SECRET_KEY=settings.secret_key.hex(), INTAKE_PEPPER=settings.pepper.hex(),
        INTAKE_COURIER_KEY=base64.urlsafe_b64encode(settings.courier_key or b"").decode(),
    )
    return environ


@pytest.fixture
def pair(app: Flask, settings: Settings, tmp_path: Path) -> Iterator[Pair]:
    """Two `intake serve` processes on the test database and Redis, behind a round-robin."""
    environ = _environ(settings)
    ports = free_ports(2)
    servers = [subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "serve", "--port", str(port)],
        env={**environ, "INTAKE_INSTANCE": str(tmp_path / f"instance-{port}")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    try:
        for port in ports:
            wait_until_up(port)
        yield Pair(RoundRobin(ports), ports)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)


def _both_served(pair: Pair) -> None:
    assert all(pair.proxy.served[port] > 0 for port in pair.ports), pair.proxy.served


def test_a_web_report_and_its_follow_up_cross_both_processes(pair: Pair, world: World,
                                                            db: Database) -> None:
    worker = Worker(pair.client())  # type: ignore[arg-type]  # same get/post as FlaskClient
    receipt = worker.report(facility=world.penang, categories=["wages"],
                            details="Overtime unpaid since March")
    assert re.fullmatch(r"\d{16}", receipt)
    with db.transaction() as session:
        before = len(session.scalars(select(Report)).one().messages)
    worker.get("/en/followup")
    added = worker.add_more(receipt, "They also keep our passports")
    assert added.status_code == 200
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()  # one report, the addition with it
        assert len(report.messages) == before + 1
    _both_served(pair)


def test_a_monitor_session_holds_on_both_processes_and_ends_on_both(
        pair: Pair, desks: DeskWorld, db: Database) -> None:
    browser = Browser(pair.client(), db)  # type: ignore[arg-type]
    signed_in = browser.login(desks.alice)
    assert signed_in.status_code == 302, signed_in.get_data(as_text=True)
    queue = f"/monitor/d/{desks.a.desk.id}/"
    pages = [browser.get(queue) for _ in range(4)]  # two on each process
    assert [page.status_code for page in pages] == [200] * 4
    browser.post("/monitor/logout")
    after = [browser.get(queue) for _ in range(2)]
    assert [page.status_code for page in after] == [302, 302]
    assert all("/monitor/login" in page.headers["Location"] for page in after)
    _both_served(pair)


def test_the_page_limit_counts_the_hits_on_both_processes_together(
        pair: Pair, settings: Settings) -> None:
    per_minute = int(settings.page_limits.split(" per minute")[0])
    client = pair.client()
    statuses = [client.get("/").status_code for _ in range(per_minute + 1)]
    assert statuses[:per_minute] == [200] * per_minute
    assert statuses[-1] == 429  # not 2 x the limit: the count lives in Redis
    _both_served(pair)


def test_an_sms_conversation_alternates_between_the_processes(
        pair: Pair, settings: Settings, world: World, db: Database) -> None:
    from tests import factories
    from tests.sms.conftest import MY_NUMBER

    with db.transaction() as session:
        factories.sms_number(session, MY_NUMBER, country="MY", language="en")
    phone = Phone(pair.client(), settings)  # type: ignore[arg-type]
    script = ["hello", "MY4821", "3", "The fire door is chained", "#", "2"]
    answers = [phone.text(body) for body in script]
    assert re.search(r"\d{4} \d{4} \d{4} \d{4}", " ".join(answers[-1]))
    with db.transaction() as session:
        report = session.scalars(select(Report)).one()
        assert report.categories == "safety" and len(report.messages) == 1
    _both_served(pair)
