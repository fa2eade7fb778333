"""Search every place data rests for planted canaries: database, instance folder, Redis."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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


def resting_places(settings: Any) -> dict[str, bytes]:
    """Where data rests: the raw database, the instance folder, Redis."""
    return {"database": database_bytes(settings.database_url),
            "instance": folder_bytes(settings.instance_path),
            "redis": redis_bytes(settings.redis_url)}
