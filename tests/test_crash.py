"""Crash safety (issue 9, item 4): gunicorn (2 workers) and ``intake worker`` on PostgreSQL
and Redis, killed with SIGKILL at random moments and restarted, while concurrent clients
submit reports by SMS (signed Twilio webhooks, whole conversations) and by the web form.

Clients retry as real ones do: Twilio retries a webhook with the same MessageSid, a browser
sends the same form again (same nonce). Afterwards every receipt a client was shown opens its
report, no report exists twice, and every text a desk owed a worker went out exactly once.

``INTAKE_CRASH_REPORTS`` sets the number of reports (default 200; the issue's 2,000 by hand),
``INTAKE_CRASH_KILL_EVERY`` how often to kill, ``INTAKE_CRASH_SEED`` the random choices.
The summary line is written to the terminal whether or not ``-s`` is given.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import http.client
import os
import random
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from crypto.hierarchy import PRODUCTION
from intake.db import Database
from intake.ext import jobs_of
from intake.messaging.models import OutboundMessage, OutboundStatus, ProcessedInbound
from intake.messaging.outbound import SEND_TEXT_JOB
from intake.reports.models import Report
from intake.reports.service import ReceiptNotFound, find_by_receipt
from intake.settings import Settings
from intake.triage.replies import reply
from intake.triage.service import read_words
from tests import factories, procs
from tests.conftest import ON_POSTGRES, TEST_REDIS_URL
from tests.monitor.conftest import make_member
from tests.sms.conftest import MY_NUMBER, twilio
from tests.twilio_fake import Call, TwilioFake

__all__ = ["twilio"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (ON_POSTGRES and TEST_REDIS_URL),
        reason="the crash test runs gunicorn and `intake worker`: it needs "
               "INTAKE_TEST_DATABASE_URL=postgresql+psycopg://... and INTAKE_TEST_REDIS_URL"),
]

REPORTS = int(os.environ.get("INTAKE_CRASH_REPORTS") or "200")
CLIENT_THREADS = 6
HANG_UP = 0.05  # share of requests whose client gives up before the answer and sends again
# A kill after this many answered requests, picked at random ("low,high"; by hand: "2,8").
KILL_EVERY = tuple(int(n) for n in (os.environ.get("INTAKE_CRASH_KILL_EVERY") or "15,60")
                   .split(",", 1))
CLIENT_DEADLINE = 300.0  # seconds one request may take, retries included
RUN_DEADLINE = 300.0 + 2.0 * REPORTS  # seconds for all clients: a hung server fails the test
SETTLE_DEADLINE = 300.0  # seconds for the queue to empty once the kills stop
ROOT = Path(__file__).resolve().parents[1]
SMS_RECEIPT = re.compile(r"\d{4} \d{4} \d{4} \d{4}")
WEB_RECEIPT = re.compile(r"<span>(\d{4})</span>")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


# --- the world the servers run in ---------------------------------------------------------


@pytest.fixture
def settings(settings: Settings, twilio: TwilioFake) -> Settings:
    """The shared test settings with Twilio's API at the local fake and the production KDF:
    the servers read their settings from the environment, which has no fast-KDF switch, so
    receipts are hashed (and must be looked up here) with production Argon2id."""
    return dataclasses.replace(settings, twilio_api_base=twilio.url, fast_kdf=False)


@dataclass
class World:
    desk: factories.DeskWithKey
    facility_id: int
    monitor_id: int


@pytest.fixture
def world(db: Database, settings: Settings) -> World:
    with db.transaction() as session:
        desk = factories.desk(session, country="MY", fallback=True)
        penang = factories.facility(session, name="Penang Circuit Assembly", code="MY4821")
        factories.cover(session, desk, penang)
        factories.sms_number(session, MY_NUMBER, country="MY", language="en")
        monitor = make_member(session, settings, desk, "ann@union.example")
        world = World(desk, penang.id, monitor.account_id)
        session.expunge_all()
    return world


def server_environ(settings: Settings, folder: Path) -> dict[str, str]:
    """What production sets: secrets, PostgreSQL, Redis, the public URL, Twilio (the fake)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "TWILIO_"))}
    environ.update(
        INTAKE_DATABASE_URL=settings.database_url, INTAKE_REDIS_URL=settings.redis_url or "",
        INTAKE_SECRET_KEY=settings.secret_key.hex(), INTAKE_PEPPER=settings.pepper.hex(),
        INTAKE_PUBLIC_URL=settings.public_url, TWILIO_AUTH_TOKEN=settings.twilio_auth_token or "",
        TWILIO_ACCOUNT_SID=settings.twilio_account_sid or "",
        INTAKE_TWILIO_API_BASE=settings.twilio_api_base or "", INTAKE_INSTANCE=str(folder),
    )
    folder.mkdir(exist_ok=True)
    return environ


@dataclass
class Servers:
    web: procs.Service
    worker: procs.Service
    port: int

    def start_web(self) -> None:
        self.web.start()
        procs.wait_healthy(self.port, service=self.web)

    def stop(self) -> None:
        self.web.close()
        self.worker.close()


@pytest.fixture
def servers(settings: Settings, world: World, tmp_path: Path) -> Iterator[Servers]:
    port = procs.free_port()
    web_env = server_environ(settings, tmp_path / "web")  # the web holds no courier key
    worker_env = {**server_environ(settings, tmp_path / "worker"),
                  "INTAKE_COURIER_KEY": base64.urlsafe_b64encode(
                      settings.courier_key or b"").decode()}
    config = ["-c", str(ROOT / "ops" / "gunicorn.conf.py")] if (
        ROOT / "ops" / "gunicorn.conf.py").exists() else ["-k", "gthread", "--threads", "4"]
    web = procs.Service("gunicorn", [sys.executable, "-m", "gunicorn", *config, "-w", "2",
                                     "-b", f"127.0.0.1:{port}", "intake.wsgi:app"],
                        web_env, tmp_path / "gunicorn.log")
    worker = procs.Service("intake worker", [sys.executable, "-m", "intake.cli", "worker"],
                           worker_env, tmp_path / "worker.log")
    running = Servers(web, worker, port)
    try:
        running.start_web()
        worker.start()
        yield running
    finally:
        running.stop()


# --- clients that retry as real ones do ---------------------------------------------------


class ClientFailed(Exception):
    """A client got an answer a real client could not go on from (not a crash)."""


@dataclass
class Client:
    index: int
    channel: str  # "sms" or "web"
    consent: bool  # SMS: yes to being texted back
    marker: str = field(default_factory=lambda: f"crashmark{secrets.token_hex(8)}")
    receipt: str | None = None
    error: str | None = None

    @property
    def source(self) -> str:
        return procs.loopback_address(self.index)


@dataclass
class Run:
    """Shared state of one run: progress for the killer, the numbers for the summary."""

    port: int
    settings: Settings
    facility_id: int
    rng: random.Random = field(default_factory=random.Random)
    answered: int = 0
    retries: int = 0
    hang_ups: int = 0
    deadline: float = field(default_factory=lambda: time.monotonic() + RUN_DEADLINE)
    kills: int = 0
    done: bool = False
    progress: threading.Condition = field(default_factory=threading.Condition)

    def tick(self) -> None:
        with self.progress:
            self.answered += 1
            self.progress.notify_all()

    def wait_for_answers(self, more: int) -> bool:
        """Block until ``more`` further requests were answered or the clients are done;
        True once they are done."""
        with self.progress:
            target = self.answered + more
            self.progress.wait_for(lambda: self.done or self.answered >= target)
            return self.done

    def send(self, path: str, *, source: str, form: dict[str, str | list[str]] | None = None,
             headers: dict[str, str] | None = None, method: str = "POST") -> procs.Answer:
        """Send until the server answers (not 5xx); a connection error or a 5xx is retried
        with the very same request, as Twilio and a browser's resubmit do. Now and then the
        client hangs up before the first answer (a timeout) and sends the same again."""
        deadline = min(time.monotonic() + CLIENT_DEADLINE, self.deadline)
        with self.progress:
            hang_up = self.rng.random() < HANG_UP
            self.hang_ups += hang_up
        if hang_up:
            procs.send_and_hang_up(self.port, method, path, source=source, form=form,
                                   headers=headers)
        while time.monotonic() < deadline:
            try:
                answer = procs.request(self.port, method, path, source=source, form=form,
                                       headers=headers)
            except (OSError, http.client.HTTPException):
                answer = None
            if answer is not None and answer.status < 500:
                self.tick()
                return answer
            with self.progress:
                self.retries += 1
            time.sleep(procs.POLL_SECONDS)  # bounded: the loop ends at the deadline
        raise ClientFailed(f"no answer on {path} before the deadline")


def sms_conversation(run: Run, client: Client) -> None:
    token = run.settings.twilio_auth_token or ""
    url = run.settings.public_url + "/twilio/sms"
    number = f"+6012{client.index:07d}"
    script = ["hello", "MY4821", "3", f"{client.marker} the fire door is chained", "#",
              "1" if client.consent else "2"]
    last = ""
    for body in script:
        form = {"MessageSid": "SM" + secrets.token_hex(16), "From": number, "To": MY_NUMBER,
                "Body": body, "NumMedia": "0",
                "AccountSid": run.settings.twilio_account_sid or ""}
        signature = RequestValidator(token).compute_signature(url, form)
        answer = run.send("/twilio/sms", source=client.source, form=dict(form),
                          headers={"X-Twilio-Signature": signature})
        if answer.status != 200:
            raise ClientFailed(f"webhook answered {answer.status}")
        last = answer.body
    found = SMS_RECEIPT.search(last)
    if found is None:
        raise ClientFailed("the last reply carries no receipt")
    client.receipt = found.group(0).replace(" ", "")


def web_form(run: Run, client: Client) -> None:
    cookies: dict[str, str] = {}

    def page(method: str, form: dict[str, str | list[str]] | None = None) -> str:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        answer = run.send("/en/report", source=client.source, form=form, headers=headers,
                          method=method)
        cookies.update(answer.cookies)
        if answer.status != 200:
            raise ClientFailed(f"the form answered {answer.status}")
        return answer.body

    def token(html: str) -> str:
        found = CSRF.search(html)
        if found is None:
            raise ClientFailed("a form page without a CSRF token")
        return found.group(1)

    html = page("GET")
    state: dict[str, str | list[str]] = {"facility": str(run.facility_id)}
    for step, extra in (("workplace", {}), ("what", {"category": ["safety"]}),
                        ("details", {"details": f"{client.marker} the fire door is chained"}),
                        ("contact", {"contact": "web", "number": ""})):
        state.update(extra)
        html = page("POST", {"csrf_token": token(html), "step": step, "go": "next", **state})
    nonce = NONCE.search(html)
    if nonce is None:
        raise ClientFailed("the review page carries no nonce")
    sent = page("POST", {"csrf_token": token(html), "step": "review", "go": "send",
                         "nonce": nonce.group(1), **state})
    digits = "".join(WEB_RECEIPT.findall(sent))
    if len(digits) != 16:
        raise ClientFailed("the page after Send shows no receipt")
    client.receipt = digits


def drive(run: Run, clients: list[Client]) -> None:
    """Run every client on CLIENT_THREADS threads; a failure is recorded, never raised."""
    pending = list(clients)
    lock = threading.Lock()

    def loop() -> None:
        while True:
            with lock:
                if not pending:
                    return
                client = pending.pop()
            try:
                (sms_conversation if client.channel == "sms" else web_form)(run, client)
            except ClientFailed as exc:
                client.error = str(exc)
            except Exception as exc:  # a test bug must fail the test, not end the thread
                client.error = repr(exc)

    threads = [threading.Thread(target=loop, name=f"client-{n}") for n in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# --- the killer and the desk -----------------------------------------------------------


def killer(run: Run, servers: Servers, database: Database, rng: random.Random) -> None:
    """SIGKILL the app, the worker or both after a random number of answered requests, then
    start them again; until the clients are done. Every other kill of the app waits for the
    worst moment: a request has committed and its answer is not out yet."""
    while True:
        if run.wait_for_answers(rng.randint(KILL_EVERY[0], KILL_EVERY[-1])):
            return
        victim = rng.choice(("web", "worker", "both", "web-after-commit"))
        if victim == "web-after-commit":
            wait_for_a_commit(database)
        if victim != "worker":
            servers.web.kill()
        if victim in ("worker", "both"):
            servers.worker.kill()
        run.kills += 1
        if victim in ("worker", "both"):
            servers.worker.start()
        if victim != "worker":
            servers.start_web()


def wait_for_a_commit(database: Database, *, deadline_seconds: float = 5.0) -> None:
    """Poll until a webhook or a Send has been recorded as handled (its transaction is
    committed; its answer is most likely still on the way), or the deadline passes."""
    def handled() -> int:
        with database.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(ProcessedInbound)) or 0)

    before = handled()
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline and handled() == before:
        time.sleep(0.001)  # bounded by the deadline


def monitor(run: Run, app: Flask, world: World, replied: set[uuid.UUID]) -> None:
    """A monitor answering every report whose worker said yes to texts (each reply carries
    its own marker), as the desk's reply form does: commit, then queue the text."""
    database: Database = app.extensions["intake.db"]
    while True:
        finished = run.wait_for_answers(25)
        with database.transaction() as session:
            waiting = [rid for rid in session.scalars(
                select(Report.id).where(Report.contact_consent.is_(True))) if rid not in replied]
        for report_id in waiting:
            with app.app_context(), database.transaction() as session:
                sent = reply(session, desk_id=world.desk.desk.id, report_id=report_id,
                             text=f"replymark{report_id.hex} we are looking into it",
                             actor_id=world.monitor_id)
                outbound = sent.outbound
            replied.add(report_id)
            if outbound is not None:
                jobs_of(app).enqueue(SEND_TEXT_JOB, outbound_id=str(outbound.id))
        if finished:
            return


class KillWorkerOnSend(list[Call]):
    """The Twilio fake's record of calls, which SIGKILLs the worker as every ``every``-th text
    is accepted: after Twilio took it, before the worker recorded it as sent (by hand:
    ``INTAKE_CRASH_KILL_AT_SEND=2`` shows what such a crash does to "sent exactly once")."""

    def __init__(self, servers: Servers, every: int) -> None:
        super().__init__()
        self.servers, self.every, self.sends = servers, every, 0

    def append(self, call: Call) -> None:
        super().append(call)
        if call.method == "POST" and call.path.endswith("Messages.json"):
            self.sends += 1
            process = self.servers.worker.process
            if process is not None and self.every and self.sends % self.every == 0:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)


# --- after the kills: let the queue settle -------------------------------------------------


def recover_abandoned_jobs(redis_url: str) -> None:
    """With no worker alive, do now what RQ's maintenance does after its intervals: a job whose
    worker died (started, or taken off the queue) is retried; a retry waiting for its backoff
    is due at once. This moves the clock, not the outcome."""
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    from intake.jobs import QUEUE_NAME

    connection = Redis.from_url(redis_url)
    queue = Queue(QUEUE_NAME, connection=connection)
    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 86_400)
    intermediate = queue.intermediate_queue
    for job_id in intermediate.get_job_ids():
        job = queue.fetch_job(job_id)
        intermediate.remove(job_id)
        if job is not None:
            queue.enqueue_job(job)
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_job_ids():
        job = queue.fetch_job(job_id)
        scheduled.remove(job_id)
        if job is not None:
            queue.enqueue_job(job)


def queue_settled(redis_url: str) -> bool:
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    from intake.jobs import QUEUE_NAME

    queue = Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))
    return (queue.count == 0 and StartedJobRegistry(queue=queue).count == 0
            and ScheduledJobRegistry(queue=queue).count == 0
            and not queue.intermediate_queue.get_job_ids())


def settle(servers: Servers, database: Database, redis_url: str) -> None:
    """Run the worker until no job is left and no text is still owed (bounded polling)."""
    servers.worker.kill()
    recover_abandoned_jobs(redis_url)
    servers.worker.start()
    deadline = time.monotonic() + SETTLE_DEADLINE
    while time.monotonic() < deadline:
        with database.transaction() as session:
            owed = session.scalars(select(OutboundMessage.id).where(
                OutboundMessage.status == OutboundStatus.QUEUED)).first()
        if owed is None and queue_settled(redis_url):
            return
        time.sleep(0.2)
    raise AssertionError(f"jobs still pending {SETTLE_DEADLINE} s after the kills stopped")


# --- what a desk can read afterwards ---------------------------------------------------------


def words_by_report(database: Database, desk: factories.DeskWithKey) -> dict[uuid.UUID, str]:
    with database.transaction() as session:
        texts = {}
        for report in session.scalars(select(Report)):
            details, entries = read_words(report, report.messages, desk.key, {}, {})
            texts[report.id] = "\n".join([details or "", *(entry.text for entry in entries)])
        return texts


def reports_of_receipts(database: Database, clients: list[Client]) -> dict[str, uuid.UUID | None]:
    found: dict[str, uuid.UUID | None] = {}
    with database.transaction() as session:
        for client in clients:
            if client.receipt is None:
                continue
            try:
                report, _key = find_by_receipt(session, client.receipt, profile=PRODUCTION)
                found[client.marker] = report.id
            except ReceiptNotFound:
                found[client.marker] = None
    return found


def recorded(errors: list[str], target: Callable[..., None]) -> Callable[..., None]:
    """``target`` for a thread, its exception kept in ``errors`` for the test to assert on."""
    def run(*args: object) -> None:
        try:
            target(*args)
        except Exception as exc:
            errors.append(f"{target.__name__}: {exc!r}")

    return run


def summary(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Write a line to the terminal past pytest's output capture (shown without ``-s``)."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    reporter = request.config.pluginmanager.getplugin("terminalreporter")

    def write(line: str) -> None:
        with capture.global_and_fixture_disabled():
            if reporter is not None:
                reporter.write_line("")
                reporter.write_line(line)
            else:
                print(line)

    return write


# --- the test ------------------------------------------------------------------------------


def test_killed_servers_lose_no_receipt_duplicate_no_report_and_send_each_text_once(
    servers: Servers, app: Flask, db: Database, settings: Settings, world: World,
    twilio: TwilioFake, request: pytest.FixtureRequest,
) -> None:
    started = time.monotonic()
    if os.environ.get("INTAKE_CRASH_KILL_AT_SEND"):
        twilio.calls = KillWorkerOnSend(servers, int(os.environ["INTAKE_CRASH_KILL_AT_SEND"]))
    seed = int(os.environ.get("INTAKE_CRASH_SEED") or secrets.randbits(32))
    rng = random.Random(seed)
    clients = [Client(n, "sms" if n % 2 == 0 else "web", consent=n % 6 == 0)
               for n in range(REPORTS)]
    run = Run(servers.port, settings, world.facility_id, rng=random.Random(seed + 1))
    replied: set[uuid.UUID] = set()
    errors: list[str] = []
    background = [
        threading.Thread(target=recorded(errors, killer), args=(run, servers, db, rng),
                         name="killer"),
        threading.Thread(target=recorded(errors, monitor), args=(run, app, world, replied),
                         name="monitor"),
    ]
    for thread in background:
        thread.start()
    try:
        drive(run, clients)
    finally:
        with run.progress:
            run.done = True
            run.progress.notify_all()
        for thread in background:
            thread.join()
    if isinstance(twilio.calls, KillWorkerOnSend):
        twilio.calls.every = 0  # the kills have stopped
    settle(servers, db, settings.redis_url or "")

    failed = [c for c in clients if c.receipt is None]
    by_receipt = reports_of_receipts(db, clients)
    texts = words_by_report(db, world.desk)
    copies = Counter(marker for text in texts.values()
                     for marker in re.findall(r"crashmark[0-9a-f]{16}", text))
    with db.transaction() as session:
        owed = list(session.scalars(select(OutboundMessage)))
        statuses = Counter(o.status.value for o in owed)
    sent = Counter(m for call in twilio.created()
                   for m in re.findall(r"replymark[0-9a-f]{32}", call.form.get("Body", "")))
    summary(request)(
        f"crash test: {REPORTS} reports, {run.kills} kills, {len(by_receipt)} receipts, "
        f"{'all' if all(by_receipt.values()) else 'NOT all'} opened, "
        f"{sum(n - 1 for n in copies.values() if n > 1)} duplicates, "
        f"{sum(1 for n in sent.values() if n == 1)} outbound sent once "
        f"(of {len(owed)} owed; {run.retries} client retries, {run.hang_ups} hang-ups; "
        f"{time.monotonic() - started:.0f} s; INTAKE_CRASH_SEED={seed})")

    assert not errors, errors
    assert run.kills > 0, "the run ended before any kill"
    assert not failed, [c.error for c in failed][:5]
    assert all(by_receipt.values()), "a receipt a client was shown opens no report"
    for client in clients:
        report_id = by_receipt.get(client.marker)
        if report_id is not None:
            assert client.marker in texts[report_id], "a receipt opens another worker's report"
    assert {c.marker for c in clients if c.receipt} <= set(copies)
    assert max(copies.values(), default=0) == 1, {m: n for m, n in copies.items() if n > 1}
    assert len(texts) == len(copies), "reports exist that no client wrote"
    assert len(owed) == len(replied) > 0
    assert statuses == Counter({OutboundStatus.SENT.value: len(owed)}), statuses
    assert sent == Counter({f"replymark{o.report_id.hex}": 1 for o in owed}), {
        m: n for m, n in sent.items() if n != 1}
