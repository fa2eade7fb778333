"""Read a database out as one byte stream, and write one back into an empty database.

PostgreSQL goes through ``pg_dump`` / ``pg_restore`` (custom format, streamed through pipes,
one transaction on restore); SQLite through its online backup API into a 0600 temporary file
in the instance folder, which is streamed and then deleted. The password of a PostgreSQL URL
is handed over in ``PGPASSWORD``, never on a command line that ``ps`` would show.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, BinaryIO

from sqlalchemy import text
from sqlalchemy.engine import make_url

from intake.backup.archive import ByteReader
from intake.backup.errors import BackupError, DumpFailed, TargetNotEmpty
from intake.db import Database

PG_DUMP_FORMAT = "pg_dump-custom"
SQLITE_FORMAT = "sqlite3"
_SQLITE_BACKUP_PAGES = 1024  # pages copied per step of the online backup


def payload_format(kind: str) -> str:
    return PG_DUMP_FORMAT if kind == "postgresql" else SQLITE_FORMAT


@contextmanager
def dump(database_url: str, *, instance: Path) -> Iterator[ByteReader]:
    """The database as a stream; reading it to the end raises DumpFailed if the dump failed."""
    if make_url(database_url).get_backend_name() == "postgresql":
        with _pg_dump(database_url, instance=instance) as stream:
            yield stream
    else:
        with _sqlite_copy(sqlite_path(database_url), instance=instance) as stream:
            yield stream


def libpq_command(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries the password."""
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    bare = url._replace(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False), env


@contextmanager
def _pg_dump(database_url: str, *, instance: Path) -> Iterator[ByteReader]:
    dbname, env = libpq_command(database_url)
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
               f"--dbname={dbname}"]
    with tempfile.TemporaryFile(dir=instance) as errors:
        process = _start(command, env=env, stdin=None, stdout=subprocess.PIPE, stderr=errors)
        try:
            yield _CheckedOutput(process, errors, tool="pg_dump")
        finally:
            _stop(process)


def _start(command: list[str], *, env: dict[str, str], stdin: int | None, stdout: int | None,
           stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(command, env=env, stdin=stdin, stdout=stdout,  # noqa: S603 (fixed argv, no shell)
                                stderr=stderr)
    except FileNotFoundError:
        raise DumpFailed(
            f"{command[0]} is not installed or not on PATH (Debian package postgresql-client; "
            "its major version must be at least the server's)"
        ) from None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a helper that is still running (we gave up on it) and reap it."""
    if process.poll() is None:
        process.kill()
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)


class _CheckedOutput:
    """A process's stdout that, at its end, raises DumpFailed unless the process exited 0."""

    def __init__(self, process: subprocess.Popen[bytes], errors: IO[bytes], *, tool: str) -> None:
        self._process = process
        self._errors = errors
        self._tool = tool

    def read(self, size: int = -1) -> bytes:
        stdout = self._process.stdout
        data = stdout.read(size) if stdout is not None else b""
        if not data:
            code = self._process.wait()
            if code != 0:
                raise DumpFailed(f"{self._tool} failed (exit {code}): {first_line(self._errors)}")
        return data


def first_line(errors: IO[bytes]) -> str:
    """The first line a helper tool wrote to its stderr (it names the problem)."""
    errors.seek(0)
    for line in errors.read(4096).decode("utf-8", "replace").splitlines():
        if line.strip():
            return line.strip()[:300]
    return "no message"


def sqlite_path(database_url: str) -> Path:
    name = make_url(database_url).database
    if not name or name == ":memory:":
        raise BackupError("INTAKE_DATABASE_URL names an in-memory SQLite database")
    return Path(name)


def private_temp_path(folder: Path, suffix: str) -> Path:
    """A new, empty 0600 file in ``folder`` (never a shared /tmp)."""
    path = folder / f".backup-{secrets.token_hex(8)}{suffix}"
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return path


def remove_sqlite_files(path: Path) -> None:
    for leftover in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)


@contextmanager
def _sqlite_copy(source: Path, *, instance: Path) -> Iterator[BinaryIO]:
    if not source.is_file():
        raise BackupError(f"there is no SQLite database at {source}")
    copy = private_temp_path(instance, ".sqlite3")
    try:
        try:
            with _closing(sqlite3.connect(source)) as live, _closing(sqlite3.connect(copy)) as out:
                live.backup(out, pages=_SQLITE_BACKUP_PAGES)
        except sqlite3.Error as exc:
            raise DumpFailed(f"the SQLite online backup failed: {exc}") from None
        with copy.open("rb") as stream:
            yield stream
    finally:
        remove_sqlite_files(copy)


@contextmanager
def _closing(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield connection
    finally:
        connection.close()


def ensure_empty(database_url: str) -> None:
    """Raise TargetNotEmpty unless the target database holds no table at all."""
    if make_url(database_url).get_backend_name() == "postgresql":
        db = Database(database_url)
        try:
            db.ping()  # a missing database is named as such, not as a schema problem
            with db.engine.connect() as connection:
                tables = int(connection.execute(text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )).scalar_one())
        finally:
            db.dispose()
    else:
        tables = _sqlite_tables(sqlite_path(database_url))
    if tables:
        raise TargetNotEmpty(
            f"the target database is not empty ({tables} tables); restore only into a newly "
            "created, empty database"
        )


def _sqlite_tables(path: Path) -> int:
    if not path.exists() or path.stat().st_size == 0:
        return 0
    try:
        with _closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as connection:
            return int(connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
    except sqlite3.Error:
        raise TargetNotEmpty(
            f"the target {path} exists and is not an empty SQLite database; move it away first"
        ) from None


class PgRestore:
    """``pg_restore`` in one transaction, fed on stdin; ``abort`` leaves the target as it was."""

    def __init__(self, database_url: str, *, instance: Path) -> None:
        dbname, env = libpq_command(database_url)
        command = ["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner",
                   "--no-privileges", f"--dbname={dbname}"]
        # closed by commit or abort, which every caller reaches
        self._errors = tempfile.TemporaryFile(dir=instance)  # noqa: SIM115
        self._process = _start(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=self._errors)
        self._finished = False

    def write(self, data: bytes) -> None:
        stdin = self._process.stdin
        if stdin is None or self._finished:
            return
        try:
            stdin.write(data)
        except BrokenPipeError:
            if self._process.wait() != 0:
                raise self._failure() from None
            self._finished = True  # it read all it needed and committed

    def commit(self) -> None:
        with suppress(BrokenPipeError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        code = self._process.wait()
        try:
            if code != 0:
                raise self._failure()
        finally:
            self._errors.close()

    def _failure(self) -> DumpFailed:
        return DumpFailed(f"pg_restore failed (exit {self._process.returncode}), nothing was "
                          f"restored: {first_line(self._errors)}")

    def abort(self) -> None:
        """Kill it before it sees the end of its input, so its transaction never commits."""
        _stop(self._process)
        self._errors.close()


class SqliteRestore:
    """The payload written to a 0600 file beside the target, moved into place on commit."""

    def __init__(self, database_url: str) -> None:
        self._target = sqlite_path(database_url)
        if not self._target.parent.is_dir():
            raise BackupError(f"the folder of the target database does not exist: "
                              f"{self._target.parent}")
        self._temp = private_temp_path(self._target.parent, ".sqlite3")
        self._handle: BinaryIO = self._temp.open("r+b")

    def write(self, data: bytes) -> None:
        self._handle.write(data)

    def commit(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        try:
            with _closing(sqlite3.connect(self._temp)) as connection:
                verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.Error:
            verdict = "not a database"
        if verdict != "ok":
            self.abort()
            raise DumpFailed(f"the restored SQLite file fails its check ({verdict})")
        ensure_empty(f"sqlite:///{self._target}")  # still empty: nobody wrote meanwhile
        for stale in ("-wal", "-shm", "-journal"):  # of the empty target, if any
            self._target.with_name(self._target.name + stale).unlink(missing_ok=True)
        os.replace(self._temp, self._target)

    def abort(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        remove_sqlite_files(self._temp)
