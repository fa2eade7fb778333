"""Holding queued jobs back, so that a test can change the world between enqueue and run.

``held(app)`` puts a queue in the app that only records what is queued (checking each
payload as the real queues do); ``HeldQueue.run`` then runs the held jobs by name in an app
context, as the worker does. There is no queue in between on purpose: an exception that a
real queue would retry fails the test here, so "finishes quietly" means exactly that.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask

from intake.jobs import check_payload, resolve


@dataclass
class HeldQueue:
    held: list[tuple[str, dict[str, str | int]]] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)

    def bind(self, app: Flask) -> None:
        """Nothing to bind: ``run`` is given the app."""

    def enqueue(self, function: str, /, **ids: str | int) -> None:
        check_payload(ids)
        resolve(function)
        self.held.append((function, ids))

    def enqueue_coalesced(self, function: str, /) -> None:
        if (function, {}) not in self.held:
            self.held.append((function, {}))

    def drain(self, timeout: float = 30.0) -> None:
        """Held jobs wait for ``run``."""

    def names(self) -> list[str]:
        return [function for function, _ in self.held]

    def run(self, app: Flask, only: str | None = None) -> None:
        """Run the held jobs (those named ``only``, if given) and any they queue."""
        while True:
            due = [job for job in self.held if only is None or job[0] == only]
            if not due:
                return
            for job in due:
                self.held.remove(job)
            for function, ids in due:
                with app.app_context():
                    resolve(function)(**ids)
                self.ran.append(function)


@contextmanager
def held(app: Flask) -> Iterator[HeldQueue]:
    """While inside, whatever the app queues is held; the app's own queue comes back after."""
    real = app.extensions["intake.jobs"]
    queue = HeldQueue()
    app.extensions["intake.jobs"] = queue
    try:
        yield queue
    finally:
        app.extensions["intake.jobs"] = real
