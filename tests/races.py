"""Two requests at the same moment, lined up without relying on timing.

On PostgreSQL the test holds the audit chain's append lock (``intake.audit.service``) while
the requests run in threads: each stops at its first audit event, after its checks and
first writes, or earlier at a row lock it waits for. Once every request waits (or has
finished), the lock is released and they finish in turn: the classic "both checked, then
both wrote" interleaving, every time. SQLite lets one writer in at a time, so there the
requests simply run one after the other.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from intake.audit.service import _APPEND_LOCK
from intake.db import Database
from intake.retention.service import delete_reports

T = TypeVar("T")
DEADLINE_SECONDS = 30

_WAITING = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state = 'active' AND wait_event_type = 'Lock'")


def at_once(engine: Engine, *requests: Callable[[], T]) -> list[T]:
    """Run ``requests`` together, each in its own thread; their results in order."""
    if engine.dialect.name != "postgresql":
        return [request() for request in requests]
    results: list[T | BaseException | None] = [None] * len(requests)
    finished = threading.Semaphore(0)

    def run(index: int, request: Callable[[], T]) -> None:
        try:
            results[index] = request()
        except BaseException as exc:  # handed to the test below
            results[index] = exc
        finally:
            finished.release()

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _APPEND_LOCK})
        holder.commit()
        try:
            for thread in threads:
                thread.start()
            until_all_wait(holder, threads)
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _APPEND_LOCK})
            holder.commit()
    for thread in threads:
        thread.join(DEADLINE_SECONDS)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def until_all_wait(holder: Connection, threads: list[threading.Thread]) -> None:
    """Return once every request waits on a lock or has finished (polling the server)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        waiting = holder.execute(_WAITING).scalar_one()
        holder.commit()
        if waiting + sum(not t.is_alive() for t in threads) >= len(threads):
            return
    raise AssertionError("the requests never reached the point where they wait")


def while_retention_deletes(db: Database, request: Callable[[], T], *, today: dt.date) -> T:
    """What ``request`` answers when retention deletes the reports due on ``today`` under it.

    Retention deletes them (their rows locked until it commits) and waits; ``request`` runs
    in a thread until it waits for a lock retention holds (or has finished); then retention
    commits and the request goes on, finding the report gone. PostgreSQL only: SQLite lets
    one writer in at a time, so there the two cannot overlap."""
    answers: list[T | BaseException] = []

    def run() -> None:
        try:
            answers.append(request())
        except BaseException as exc:  # handed to the test below
            answers.append(exc)

    thread = threading.Thread(target=run)
    with db.transaction() as session:
        assert delete_reports(session, today=today) > 0, "no report was due"
        thread.start()
        with db.engine.connect() as watch:
            until_all_wait(watch, [thread])
    thread.join(DEADLINE_SECONDS)
    [answer] = answers
    if isinstance(answer, BaseException):
        raise answer
    return answer
