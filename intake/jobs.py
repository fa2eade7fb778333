"""Background jobs: RQ on Redis in production, run in-process in the embedded default.

A job carries ids only — never plaintext, a receipt or a phone number (DESIGN 3). Job
functions are referenced by dotted name so that a payload is a name and a few ids.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable
from typing import Any, Protocol

from intake.settings import Settings

QUEUE_NAME = "intake"
_ID_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
log = logging.getLogger("intake.jobs")


class JobPayloadRejected(ValueError):
    """A job argument does not look like an id; we refuse to put it in a queue."""


class JobQueue(Protocol):
    def enqueue(self, function: str, /, **ids: str | int) -> None: ...


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
    """Runs each job at once, in the caller's app context (embedded default, tests)."""

    def __init__(self) -> None:
        self.ran: list[str] = []

    def enqueue(self, function: str, /, **ids: str | int) -> None:
        check_payload(ids)
        self.ran.append(function)
        resolve(function)(**ids)


class RQQueue:
    """Puts jobs on the RQ queue in Redis; ``intake worker`` runs them."""

    def __init__(self, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.queue = Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))

    def enqueue(self, function: str, /, **ids: str | int) -> None:
        check_payload(ids)
        self.queue.enqueue(function, kwargs=ids)


def make_queue(settings: Settings) -> JobQueue:
    if settings.redis_url:
        return RQQueue(settings.redis_url)
    return InProcessQueue()
