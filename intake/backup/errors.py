"""What can go wrong with a backup or a restore; each message is one line saying what to do."""

from __future__ import annotations

from intake.errors import IntakeError


class BackupError(IntakeError):
    """A backup could not be written or restored; nothing was changed."""


class KeyFileError(BackupError):
    """A recipient or an identity is missing, unreadable or not an age X25519 key."""


class WrongIdentity(BackupError):
    """The identity given is not one the archive was encrypted to."""


class ArchiveDamaged(BackupError):
    """The archive is not one of ours, was cut short, or was altered after it was written."""


class ArchiveMismatch(BackupError):
    """The archive is intact but is for another kind of database or another schema revision."""


class TargetNotEmpty(BackupError):
    """Restores go into an empty database only, never over existing data."""


class DumpFailed(BackupError):
    """``pg_dump``, ``pg_restore`` or SQLite could not read or write the database."""
