"""Search every place data rests for planted canaries: database, instance folder, Redis."""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url


def database_bytes(database_url: str) -> bytes:
    """The raw database: the SQLite file (with its WAL) or a pg_dump of PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # Read through another process: closing any descriptor of a database file drops
        # every POSIX lock this process's SQLite connections hold on it (a classic SQLite
        # pitfall that surfaced here as "disk I/O error" in the next test).
        path = Path(url.database or "")
        files = [str(p) for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
        return subprocess.run(["cat", *files], capture_output=True, check=True,
                              timeout=60).stdout
    command = ["pg_dump", "--data-only", "-h", url.host or "127.0.0.1",
               "-p", str(url.port or 5432), "-U", url.username or "postgres",
               url.database or ""]
    return subprocess.run(command, capture_output=True, check=True, timeout=120).stdout


def folder_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def redis_bytes(url: str | None) -> bytes:
    if not url:
        return b""
    from redis import Redis

    client = Redis.from_url(url)
    chunks: list[bytes] = []
    for key in client.scan_iter(match="*"):
        chunks.append(key)
        kind = client.type(key)
        if kind == b"string":
            chunks.append(client.get(key) or b"")
        elif kind == b"hash":
            for field, value in client.hgetall(key).items():
                chunks.extend([field, value])
        elif kind == b"list":
            chunks.extend(client.lrange(key, 0, -1))
        elif kind in (b"set",):
            chunks.extend(client.smembers(key))
        elif kind == b"zset":
            chunks.extend(member for member, _ in client.zrange(key, 0, -1, withscores=True))
    return b"\n".join(chunks)


def variants(secret: str) -> Iterable[bytes]:
    """The ways a planted value could sit in bytes: UTF-8, UTF-16, and its digits alone."""
    yield secret.encode("utf-8")
    yield secret.encode("utf-16-le")
    digits = "".join(c for c in secret if c.isdigit())
    if len(digits) >= 8:
        yield digits.encode()
        yield digits[-9:].encode()


def found_in(haystack: bytes, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items()
            if value and any(v in haystack for v in variants(value))]


def captured_logs(caplog: Any, capsys: Any) -> bytes:
    """Everything the test's log records and output streams hold, as one haystack."""
    out = capsys.readouterr()
    records = json.dumps([record.__dict__ for record in caplog.records], default=str)
    return (caplog.text + records + out.out + out.err).encode()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every ``intake`` log record, down to DEBUG, for ``captured_logs``."""
    caplog.set_level(logging.DEBUG, logger="intake")
    return caplog


def resting_places(settings: Any) -> dict[str, bytes]:
    """Where data rests: the raw database, the instance folder, Redis."""
    return {"database": database_bytes(settings.database_url),
            "instance": folder_bytes(settings.instance_path),
            "redis": redis_bytes(settings.redis_url)}


def rq_job_payloads(redis_url: str | None) -> bytes:
    """RQ stores job data compressed: decode every queued job's function and arguments."""
    if not redis_url:
        return b""
    from redis import Redis
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    client = Redis.from_url(redis_url)
    chunks = []
    for key in client.scan_iter(match="rq:job:*"):
        job_id = key.decode().split(":", 2)[2]
        try:
            job = Job.fetch(job_id, connection=client)
        except NoSuchJobError:  # a key beside a job (its dependents), not a job
            continue
        chunks.append(json.dumps([job.func_name, job.args, job.kwargs], default=str))
    return "\n".join(chunks).encode()


def record_jobs(queue: Any, monkeypatch: Any) -> list[dict[str, Any]]:
    """Wrap a job queue's enqueue calls so every payload handed to it is kept for searching."""
    payloads: list[dict[str, Any]] = []
    original, coalesced = queue.enqueue, queue.enqueue_coalesced

    def enqueue(function: str, /, **ids: Any) -> Any:
        payloads.append({"function": function, **ids})
        return original(function, **ids)

    def enqueue_coalesced(function: str, /) -> Any:
        payloads.append({"function": function})
        return coalesced(function)

    monkeypatch.setattr(queue, "enqueue", enqueue)
    monkeypatch.setattr(queue, "enqueue_coalesced", enqueue_coalesced)
    return payloads
