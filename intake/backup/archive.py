"""The archive inside the age encryption: a tar of payload parts and a manifest.

Written as a stream (``tarfile`` mode ``w|``) and read back by a push parser fed by the age
decryptor, so neither side ever holds more than one part in memory. Parts exist because a tar
member states its size before its bytes, and ``pg_dump`` does not know its size in advance.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import hmac
import io
import json
import re
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Protocol

from intake.backup.errors import ArchiveDamaged

FORMAT_NAME = "worker-voice-intake-backup"
FORMAT_VERSION = 1
PART_SIZE = 4 * 1024 * 1024
MANIFEST_NAME = "manifest.json"
MAX_MANIFEST = 64 * 1024
_PART = re.compile(r"payload/(\d{6})")
_BLOCK = tarfile.BLOCKSIZE


class ByteReader(Protocol):
    """A stream of bytes: a file, a pipe, or ``pg_dump``'s checked output."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Manifest:
    """What an archive holds; written last, once the payload's hash and size are known."""

    database: str  # "postgresql" or "sqlite"
    payload: str  # "pg_dump-custom" or "sqlite3"
    revision: str  # Alembic revision of the schema
    created_on: str  # ISO day (coarse time: never the minute)
    sha256: str
    size: int
    parts: int
    # Keyed fingerprints of the secrets the data depends on (INTAKE_SECRET_KEY, INTAKE_PEPPER),
    # so that a restore can say when they differ; they reveal nothing of the secrets.
    fingerprints: dict[str, str] = field(default_factory=dict)
    format: str = FORMAT_NAME
    version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode() + b"\n"

    def well_typed(self) -> bool:
        texts = (self.database, self.payload, self.revision, self.created_on, self.sha256,
                 self.format)
        return (all(isinstance(t, str) for t in texts)
                and all(type(n) is int for n in (self.size, self.parts, self.version))
                and isinstance(self.fingerprints, dict)
                and all(isinstance(x, str) for pair in self.fingerprints.items() for x in pair))

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            manifest = cls(**raw)
        except (ValueError, TypeError):
            raise ArchiveDamaged("the backup's manifest is unreadable") from None
        if not manifest.well_typed():
            raise ArchiveDamaged("the backup's manifest has fields of the wrong type")
        if manifest.format != FORMAT_NAME or manifest.version != FORMAT_VERSION:
            raise ArchiveDamaged(
                f"the backup's format ({manifest.format} {manifest.version}) is not one this "
                "software reads"
            )
        return manifest


def part_name(index: int) -> str:
    return f"payload/{index:06d}"


class ArchiveWriter:
    """The tar stream of a payload (read to its end) and its manifest, piece by piece.

    Iterate over it for the bytes; ``manifest`` is set once the last piece has been made.
    """

    def __init__(self, payload: ByteReader, *, database: str, payload_format: str, revision: str,
                 day: dt.date, fingerprints: dict[str, str]) -> None:
        self._payload = payload
        self._database = database
        self._payload_format = payload_format
        self._revision = revision
        self._day = day
        self._fingerprints = fingerprints
        self._mtime = calendar.timegm(day.timetuple())  # the day, like every time we keep
        self.manifest: Manifest | None = None

    def __iter__(self) -> Iterator[bytes]:
        sink = _Sink()
        digest = hashlib.sha256()
        size = parts = 0
        with tarfile.open(fileobj=sink, mode="w|", format=tarfile.USTAR_FORMAT) as tar:  # type: ignore[call-overload]
            while chunk := self._payload.read(PART_SIZE):
                digest.update(chunk)
                size += len(chunk)
                tar.addfile(self._member(part_name(parts), len(chunk)), io.BytesIO(chunk))
                parts += 1
                yield sink.drain()
            manifest = Manifest(
                database=self._database, payload=self._payload_format, revision=self._revision,
                created_on=self._day.isoformat(), sha256=digest.hexdigest(), size=size,
                parts=parts, fingerprints=self._fingerprints)
            data = manifest.to_json()
            tar.addfile(self._member(MANIFEST_NAME, len(data)), io.BytesIO(data))
        yield sink.drain()
        self.manifest = manifest

    def _member(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mtime = self._mtime
        info.mode = 0o600
        return info


class _Sink:
    """Where ``tarfile`` writes; the generator above hands the bytes on as they come."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._pieces.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._pieces)
        self._pieces.clear()
        return data


class ArchiveReader:
    """A writable sink for decrypted bytes that parses the tar as it arrives.

    Each payload byte goes to ``on_payload`` in order; ``finish`` checks the manifest
    against what arrived (part count, byte count, SHA-256) and returns it.
    """

    def __init__(self, on_payload: Callable[[bytes], None]) -> None:
        self._on_payload = on_payload
        self._pending = bytearray()
        self._remaining = 0  # bytes of the current member still to come
        self._padding = 0  # NUL bytes after it up to the next block
        self._in_member: str | None = None  # "part" or "manifest" while inside one
        self._ended = False
        self._parts = 0
        self._size = 0
        self._digest = hashlib.sha256()
        self._manifest_bytes: bytearray | None = None
        self.error: BaseException | None = None

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        return None

    def write(self, data: bytes) -> int:
        try:
            self._feed(memoryview(data))
        except BaseException as exc:  # kept: the age decryptor reports it as its own failure
            self.error = exc
            raise
        return len(data)

    def _feed(self, view: memoryview) -> None:
        while view:
            if self._ended:
                return  # end-of-archive blocks and record padding
            if self._remaining:
                take = view[: self._remaining]
                view = view[len(take):]
                self._remaining -= len(take)
                self._member_bytes(bytes(take))
                if not self._remaining:
                    self._in_member = None
            elif self._padding:
                skipped = min(self._padding, len(view))
                view = view[skipped:]
                self._padding -= skipped
            else:
                need = _BLOCK - len(self._pending)
                self._pending += view[:need]
                view = view[need:]
                if len(self._pending) == _BLOCK:
                    self._header(bytes(self._pending))
                    self._pending.clear()

    def _header(self, block: bytes) -> None:
        if block == bytes(_BLOCK):
            self._ended = True
            return
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "strict")
        except tarfile.TarError:
            raise ArchiveDamaged("the backup archive has a damaged member header") from None
        if not info.isreg() or self._manifest_bytes is not None:
            raise ArchiveDamaged(f"the backup archive holds an unexpected member {info.name!r}")
        if info.name == part_name(self._parts) and info.size <= PART_SIZE:
            self._in_member = "part"
            self._parts += 1
        elif info.name == MANIFEST_NAME and info.size <= MAX_MANIFEST:
            self._in_member = "manifest"
            self._manifest_bytes = bytearray()
        else:
            raise ArchiveDamaged(f"the backup archive holds an unexpected member {info.name!r}")
        self._remaining = info.size
        self._padding = -info.size % _BLOCK

    def _member_bytes(self, data: bytes) -> None:
        if self._in_member == "manifest" and self._manifest_bytes is not None:
            self._manifest_bytes += data
            return
        self._digest.update(data)
        self._size += len(data)
        self._on_payload(data)

    def finish(self) -> Manifest:
        """The manifest, once everything it promises has arrived intact."""
        if not self._ended or self._manifest_bytes is None or self._remaining:
            raise ArchiveDamaged("the backup archive is incomplete (no manifest at its end)")
        manifest = Manifest.from_json(bytes(self._manifest_bytes))
        if (manifest.parts, manifest.size) != (self._parts, self._size) or not hmac.compare_digest(
            manifest.sha256, self._digest.hexdigest()
        ):
            raise ArchiveDamaged("the backup's payload does not match its manifest (SHA-256)")
        return manifest
