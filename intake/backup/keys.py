"""age X25519 keys for backups: recipients (public, on the server), identities (offline).

The server holds only recipients, so it cannot read its own backups. Identity files are the
ones ``age-keygen`` writes (comment lines, then ``AGE-SECRET-KEY-1...``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pyrage import IdentityError, RecipientError, x25519

from intake.backup.errors import KeyFileError
from intake.backup.service import open_output

RECIPIENT_HELP = (
    "give the offline backup public key with --recipient age1... or INTAKE_BACKUP_RECIPIENT "
    "(make one with `age-keygen -o backup.key` or `intake backup keygen -o backup.key` on "
    "another machine)"
)


def parse_recipients(texts: Iterable[str]) -> list[Any]:
    """``age1...`` strings as pyrage recipients; at least one, or a KeyFileError."""
    recipients = []
    for text in texts:
        try:
            recipients.append(x25519.Recipient.from_str(text.strip()))
        except RecipientError:
            raise KeyFileError(
                f"{_shorten(text)!r} is not an age X25519 public key (age1...)"
            ) from None
    if not recipients:
        raise KeyFileError(f"no backup recipient: {RECIPIENT_HELP}")
    return recipients


def load_identities(path: Path) -> list[Any]:
    """The identities in an ``age-keygen`` file, or a KeyFileError naming the problem."""
    try:
        text = path.read_text(encoding="ascii")
    except OSError as exc:
        raise KeyFileError(f"cannot read the identity file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KeyFileError(f"the identity file {path} is not an age identity file") from None
    identities = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(x25519.Identity.from_str(line))
        except IdentityError:
            raise KeyFileError(
                f"the identity file {path} holds a line that is not an age X25519 identity "
                "(AGE-SECRET-KEY-1...)"
            ) from None
    if not identities:
        raise KeyFileError(f"the identity file {path} holds no identity (AGE-SECRET-KEY-1...)")
    return identities


def generate_identity_file(path: Path, *, now: dt.datetime | None = None) -> str:
    """Write a new identity to ``path`` (0600, never overwriting) as ``age-keygen`` does;
    return its public recipient."""
    identity = x25519.Identity.generate()
    public = str(identity.to_public())
    created = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = f"# created: {created}\n# public key: {public}\n{identity}\n"
    with open_output(path) as handle:
        handle.write(text.encode("ascii"))
    return public


def _shorten(text: str) -> str:
    """Enough of a mistyped key to recognise it; a pasted secret key is not echoed whole."""
    text = text.strip()
    return text if len(text) <= 16 else text[:12] + "..."
