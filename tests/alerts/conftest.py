"""Fixtures for alerts: two desks (the monitor tests' world), buyers with contracts, a case
ready to alert, a real SMTP server and a webhook receiver, both on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from intake.cases import service as cases
from intake.db import Database
from intake.reports.models import Severity
from intake.settings import Settings
from intake.supplychain.models import BuyerOrg, Contract, Facility
from tests.monitor.conftest import DeskWorld, browser, desks, other_browser, submit
from tests.procs import free_port

__all__ = ["browser", "desks", "other_browser"]

SUMMARY = "Overtime on the night shift was not paid for three months."
WEBHOOK_TIMEOUT = 0.3  # seconds; the slow endpoint answers only when the test ends


# --- a real SMTP server on loopback -------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[Any] = field(default_factory=list)  # aiosmtpd envelopes

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()


# --- a webhook receiver on loopback -------------------------------------------------------


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers for the next calls, then 200
    hang: bool = False  # answer nothing until the test ends (a timeout)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with lock:
                state.received.append(Received(body, {k.lower(): v for k, v in
                                                      self.headers.items()}))
                status = state.statuses.pop(0) if state.statuses else 200
            if state.hang:
                state.release.wait(10)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/intake"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(settings: Settings, mailbox: Mailbox) -> Settings:
    """The shared test settings with SMTP on the loopback server, a short webhook timeout,
    and webhooks allowed to reach 127.0.0.1."""
    return dataclasses.replace(
        settings, smtp_url=f"smtp://127.0.0.1:{mailbox.port}",  # type: ignore[attr-defined]
        mail_from="alerts@intake.test", webhook_timeout=WEBHOOK_TIMEOUT,
        webhook_allow_private=True)  # the test endpoints listen on 127.0.0.1


# --- buyers, contracts and cases ------------------------------------------------------------


def buyer(session: Session, name: str, *, email: str | None = None) -> BuyerOrg:
    org = BuyerOrg(name=name, contact_email=email or f"procurement@{name.split()[-1].lower()}"
                                                     ".example")
    session.add(org)
    session.flush()
    return org


def contract(session: Session, org: BuyerOrg, facility_id: int, *, starts: dt.date,
             ends: dt.date | None = None) -> Contract:
    row = Contract(buyer_id=org.id, facility_id=facility_id, starts_on=starts, ends_on=ends,
                   product_category="uniforms")
    session.add(row)
    session.flush()
    return row


def set_band(db: Database, facility_id: int, band: str | None) -> None:
    with db.transaction() as session:
        session.get_one(Facility, facility_id).worker_band = band


def ready_case(db: Database, desks: DeskWorld, *, reports: int = 3, summary: str = SUMMARY,
               approve: bool = True) -> uuid.UUID:
    """A case of desk A at factory_a with ``reports`` reports and (by default) an approved
    summary."""
    ids = [uuid.UUID(submit(db, desks.factory_a, f"Overtime not paid, report {i}.")[0])
           for i in range(reports)]
    with db.transaction() as session:
        case = cases.create_case(session, desk_id=desks.a.desk.id, title="Unpaid overtime",
                                 category="wages", severity=Severity.SERIOUS,
                                 facility_id=desks.factory_a.id, report_ids=ids,
                                 actor_id=desks.alice.account_id)
        if summary:
            cases.save_summary_draft(session, desk_id=desks.a.desk.id, case_id=case.id,
                                     text=summary, actor_id=desks.alice.account_id)
        if summary and approve:
            draft = cases.review_summary(session, desk_id=desks.a.desk.id, case_id=case.id,
                                         desk_key=desks.a.key, decisions={},
                                         actor_id=desks.alice.account_id)
            if draft.pending:
                cases.review_summary(session, desk_id=desks.a.desk.id, case_id=case.id,
                                     desk_key=desks.a.key,
                                     decisions={p.id: True for p in draft.pending},
                                     actor_id=desks.alice.account_id)
        return case.id
