"""Background jobs: RQ on Redis in production, run in-process in the embedded default.

A job carries ids only — never plaintext, a receipt or a phone number (DESIGN 3). Job
functions are referenced by dotted name so that a payload is a name and a few ids.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from flask import Flask

from intake.settings import Settings

QUEUE_NAME = "intake"
RQ_BACKOFF = (5, 30, 120, 600, 1800, 3600, 3600, 3600)
COALESCE_TTL = 300  # seconds: a lost flag delays the next sweep at most this long
COALESCE_LOCAL = 1.0  # seconds: how long one process trusts that a sweep is queued
_ID_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
log = logging.getLogger("intake.jobs")


class JobPayloadRejected(ValueError):
    """A job argument does not look like an id; we refuse to put it in a queue."""


class JobQueue(Protocol):
    def bind(self, app: Flask) -> None: ...

    def enqueue(self, function: str, /, **ids: str | int) -> None: ...

    def enqueue_coalesced(self, function: str, /) -> None: ...

    def drain(self, timeout: float = 30.0) -> None: ...


def check_payload(ids: dict[str, str | int]) -> None:
    """Only short id-like values may travel in a job (no text, no spaces, no '+' numbers)."""
    for name, value in ids.items():
        if isinstance(value, bool) or not (
            isinstance(value, int) or _ID_VALUE.fullmatch(str(value))
        ):
            raise JobPayloadRejected(f"job argument {name!r} is not an id")


def resolve(function: str) -> Callable[..., Any]:
    module_name, _, attribute = function.rpartition(".")
    if not module_name.startswith(("intake.", "channels.")):
        raise JobPayloadRejected("jobs must live in the intake or channels packages")
    target: Callable[..., Any] = getattr(importlib.import_module(module_name), attribute)
    return target


class InProcessQueue:
    """Runs jobs on a background thread of this process (embedded default, tests).

    Never inline: a webhook answers before any outbound call is made. A failing job is
    retried after each delay of ``backoff``; ``drain`` waits until all jobs are done.
    """

    def __init__(self, backoff: Sequence[float] = (1, 5, 30, 120, 600)) -> None:
        self.backoff = tuple(backoff)
        self.app: Flask | None = None
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="intake-job")
        self._futures: list[Future[None]] = []
        self.ran: list[str] = []
        self.failed: list[str] = []
        self._lock = threading.Lock()
        self._waiting: set[str] = set()
        self._running: dict[str, threading.Lock] = {}

    def bind(self, app: Flask) -> None:
        self.app = app

    def enqueue(self, function: str, /, **ids: str | int) -> None:
        check_payload(ids)
        resolve(function)  # an unknown or foreign job fails here, in the caller
        self._futures.append(self._pool.submit(self._run, function, ids))

    def enqueue_coalesced(self, function: str, /) -> None:
        """Queue ``function`` unless it is already waiting to run (a sweep over a table)."""
        with self._lock:
            if function in self._waiting:
                return
            self._waiting.add(function)
        self._futures.append(self._pool.submit(self._run, function, {}, coalesced=True))

    def _run(self, function: str, ids: dict[str, str | int], *, coalesced: bool = False) -> None:
        if not coalesced:
            self._attempts(function, ids)
            return
        with self._lock:
            running = self._running.setdefault(function, threading.Lock())
        with running:  # one sweep at a time; a sweep queued meanwhile runs after it
            with self._lock:
                self._waiting.discard(function)
            self._attempts(function, ids)

    def _attempts(self, function: str, ids: dict[str, str | int]) -> None:
        target = resolve(function)
        for attempt, delay in enumerate((0.0, *self.backoff)):
            time.sleep(delay)
            try:
                if self.app is None:
                    target(**ids)
                else:
                    with self.app.app_context():
                        target(**ids)
            except Exception as exc:
                log.warning("job failed", extra={"job": function, "event": type(exc).__name__,
                                                 "count": attempt + 1})
                continue
            self.ran.append(function)
            return
        self.failed.append(function)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait for every job queued so far (tests, shutdown)."""
        while self._futures:
            self._futures.pop(0).result(timeout=timeout)


def coalesced_started(function: str) -> None:
    """Called by a coalesced job as it starts: new work may queue the next run."""
    from rq.job import get_current_job

    job = get_current_job()
    if job is not None:
        job.connection.delete(f"intake:coalesced:{function}")


class RQQueue:
    """Puts jobs on the RQ queue in Redis; ``intake worker`` runs them."""

    def __init__(self, redis_url: str, backoff: Sequence[int] = RQ_BACKOFF) -> None:
        from redis import Redis
        from rq import Queue

        self.queue = Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))
        self.backoff = list(backoff)
        self._flag_checked: dict[str, float] = {}  # function -> monotonic time

    def bind(self, app: Flask) -> None:
        """Jobs run in ``intake worker``, inside that process's app context."""

    def enqueue(self, function: str, /, **ids: str | int) -> None:
        from rq import Retry

        check_payload(ids)
        resolve(function)
        self.queue.enqueue(function, kwargs=ids,
                           retry=Retry(max=len(self.backoff), interval=self.backoff))

    def enqueue_coalesced(self, function: str, /) -> None:
        """One queued job per function: while a sweep waits, more messages add nothing.

        Cheaper than a job per message on the webhook's hot path: one Redis SET, and none
        at all within ``COALESCE_LOCAL`` seconds of this process's last one (the periodic
        scheduler sweeps too, so work that arrives as a sweep starts is not left behind).
        """
        from rq import Retry

        now = time.monotonic()
        if now - self._flag_checked.get(function, -COALESCE_LOCAL) < COALESCE_LOCAL:
            return
        self._flag_checked[function] = now
        # A short-lived flag says a sweep is already queued. The sweep clears it when it
        # starts, so work that arrives during a sweep queues the next one.
        flag = f"intake:coalesced:{function}"
        if not self.queue.connection.set(flag, b"1", nx=True, ex=COALESCE_TTL):
            return
        self.queue.enqueue(function, retry=Retry(max=len(self.backoff), interval=self.backoff))

    def drain(self, timeout: float = 30.0) -> None:
        """Nothing to wait for here: the worker process runs the jobs."""


def make_queue(settings: Settings) -> JobQueue:
    if settings.redis_url:
        return RQQueue(settings.redis_url, backoff=[0] * 3 if settings.testing else RQ_BACKOFF)
    return InProcessQueue(backoff=(0, 0, 0) if settings.testing else (1, 5, 30, 120, 600))
