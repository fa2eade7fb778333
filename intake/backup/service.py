"""``create``: database -> dump -> tar with manifest -> age, streamed to a file.
``restore``: verify the whole archive first, then stream it into an empty database.

Restore reads the archive twice: once to check the identity, the age authentication, the
manifest, the SHA-256 and the schema revision without touching anything; then again into the
target. A failure in the second pass deletes the SQLite file before it is moved into place, or
kills ``pg_restore`` so that its single transaction never commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import pyrage
from sqlalchemy.engine import make_url

from crypto.subkeys import derive_subkey
from intake import schema
from intake.backup import databases
from intake.backup.archive import ArchiveReader, ArchiveWriter, Manifest
from intake.backup.errors import (
    ArchiveDamaged,
    ArchiveMismatch,
    BackupError,
    WrongIdentity,
)
from intake.db import Database, today
from intake.settings import Settings

FINGERPRINT_PURPOSE = "backup fingerprint v1"


class ByteWriter(Protocol):
    """Where an archive goes: a file, standard output, or a HashingWriter around one."""

    def write(self, data: bytes, /) -> int: ...
    def flush(self) -> None: ...


def create(
    database_url: str, *, instance: Path, recipients: list[Any], output: ByteWriter,
    fingerprints: dict[str, str], day: dt.date | None = None,
) -> Manifest:
    """Write an encrypted archive of the database at ``database_url`` to ``output``.

    The caller has checked that the schema is current (``cli_support.database``).
    """
    kind = make_url(database_url).get_backend_name()
    revision = _revision(database_url)
    day = day or today()
    with databases.dump(database_url, instance=instance) as stream:
        writer = ArchiveWriter(stream, database=kind, revision=revision, day=day,
                               payload_format=databases.payload_format(kind),
                               fingerprints=fingerprints)
        reader = _ChunkReader(iter(writer))
        try:
            pyrage.encrypt_io(reader, output, recipients)
        except (pyrage.EncryptError, OSError) as exc:
            if isinstance(reader.error, BackupError):
                raise reader.error from None
            reason = getattr(exc, "strerror", None) or "age encryption failed"
            raise BackupError(f"the backup could not be written: {reason}") from None
        if reader.error is not None:
            raise reader.error
    if writer.manifest is None:  # pyrage stopped reading before the end
        raise BackupError("age encryption stopped before the end of the archive")
    return writer.manifest


_WHAT_BREAKS = {
    "INTAKE_SECRET_KEY": "monitors' authenticator codes and buyers' webhook signatures fail",
    "INTAKE_PEPPER": "SMS conversations and SMS rate limits no longer match their senders",
}


def fingerprints(settings: Settings) -> dict[str, str]:
    """Keyed fingerprints of the secrets the stored data depends on (not the secrets)."""
    return {name: derive_subkey(secret, purpose=FINGERPRINT_PURPOSE)[:8].hex()
            for name, secret in (("INTAKE_SECRET_KEY", settings.secret_key),
                                 ("INTAKE_PEPPER", settings.pepper))}


def secret_warnings(manifest: Manifest, settings: Settings) -> list[str]:
    """One line per secret of this install that differs from the one the backup was made with:
    the data is restored, but these need the original secret put back."""
    now = fingerprints(settings)
    return [f"{name} differs from the one in use when this backup was made: {_WHAT_BREAKS[name]} "
            f"until the original {name} is set"
            for name, print_ in manifest.fingerprints.items()
            if name in now and now[name] != print_]


def _revision(database_url: str) -> str:
    db = Database(database_url)
    try:
        revision = schema.current_revision(db.engine)
    finally:
        db.dispose()
    if revision is None:
        raise BackupError("the database has no schema yet; there is nothing to back up")
    return revision


class _ChunkReader(io.RawIOBase):
    """A readable file over the archive's pieces, for pyrage to pull from."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._current = memoryview(b"")
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            while not self._current:
                piece = next(self._chunks, None)
                if piece is None:
                    return 0
                self._current = memoryview(piece)
        except BaseException as exc:  # kept: pyrage turns it into an EncryptError
            self.error = exc
            raise
        taken = self._current[: len(buffer)]
        buffer[: len(taken)] = taken
        self._current = self._current[len(taken):]
        return len(taken)


class _Target(Protocol):
    def write(self, data: bytes) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


def verify(archive: Path, *, identities: list[Any], shown: str | None = None) -> Manifest:
    """Decrypt and check the whole archive without writing anything anywhere. ``shown``:
    how messages name the archive, if not by its path (standard input, spooled)."""
    return _decrypt(archive, identities=identities, on_payload=lambda _data: None,
                    shown=shown)


def restore(database_url: str, *, instance: Path, archive: Path, identities: list[Any],
            shown: str | None = None) -> Manifest:
    """Verify ``archive``, then restore it into the empty database at ``database_url``."""
    databases.ensure_empty(database_url)
    manifest = verify(archive, identities=identities, shown=shown)
    check_matches(manifest, database_url)
    target: _Target
    if manifest.database == "postgresql":
        target = databases.PgRestore(database_url, instance=instance)
    else:
        target = databases.SqliteRestore(database_url)
    try:
        second = _decrypt(archive, identities=identities, on_payload=target.write,
                          shown=shown)
        if second != manifest:
            raise ArchiveDamaged("the backup file changed while it was being restored")
    except BaseException:
        target.abort()
        raise
    target.commit()
    return manifest


def check_matches(manifest: Manifest, database_url: str) -> None:
    """Refuse an archive of another database kind or another schema revision."""
    kind = make_url(database_url).get_backend_name()
    if manifest.database != kind:
        raise ArchiveMismatch(
            f"this is a {manifest.database} backup but INTAKE_DATABASE_URL names a {kind} "
            f"database; restore it into a {manifest.database} database"
        )
    head = schema.head_revision()
    if manifest.revision != head:
        raise ArchiveMismatch(
            f"the backup is of schema revision {manifest.revision} but this software is at "
            f"{head}; restore it with the version of Worker Voice Intake that wrote it, then "
            "upgrade"
        )


def _decrypt(archive: Path, *, identities: list[Any], on_payload: Callable[[bytes], None],
             shown: str | None = None) -> Manifest:
    reader = ArchiveReader(on_payload)
    name = shown or str(archive)
    try:
        with archive.open("rb") as source:
            pyrage.decrypt_io(source, reader, identities)
    except pyrage.DecryptError as exc:
        if "No matching keys" in str(exc):
            raise WrongIdentity(
                "the identity file does not open this backup (it was encrypted to another key, "
                "or the recipient lines of its header are damaged)"
            ) from None
        raise ArchiveDamaged(f"{name} is not an age-encrypted backup, or its header is "
                             "damaged") from None
    except OSError as exc:
        if reader.error is not None:
            raise reader.error from None
        if exc.errno is None:  # age's STREAM authentication failed (altered or cut short)
            raise ArchiveDamaged(f"{name} is damaged or was altered after it was written "
                                 "(age authentication failed)") from None
        raise BackupError(f"cannot read the backup file {name}: {exc.strerror}") from None
    if reader.error is not None:
        raise reader.error
    return reader.finish()


def open_output(path: Path) -> BinaryIO:
    """A new 0600 file (an archive, an identity); an existing file is never overwritten."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} already exists; choose another path") from None
    except OSError as exc:
        raise BackupError(f"cannot create {path}: {exc.strerror}") from None
    return os.fdopen(fd, "wb")


def spool(stream: BinaryIO, *, instance: Path) -> Path:
    """Copy an archive read from stdin into a 0600 file in the instance folder, so that it can
    be read twice. It is still encrypted: nothing readable touches the disk."""
    path = databases.private_temp_path(instance, ".age")
    try:
        with path.open("wb") as handle:
            shutil.copyfileobj(stream, handle)
    except BaseException:
        with suppress(FileNotFoundError):
            path.unlink()
        raise
    return path


class HashingWriter:
    """Passes bytes on to ``output`` and hashes them: the archive's own SHA-256, printed at
    creation so an operator can check a copy with ``sha256sum`` before restoring it."""

    def __init__(self, output: BinaryIO) -> None:
        self._output = output
        self._digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return self._output.write(data)

    def flush(self) -> None:
        self._output.flush()

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
