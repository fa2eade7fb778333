"""Purpose-bound subkeys derived from one root secret (HKDF-SHA256), so no key serves two uses."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SUBKEY_BYTES = 32


def derive_subkey(root: bytes, *, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` (an ASCII label such as ``"totp-secrets v1"``)."""
    if len(root) < SUBKEY_BYTES:
        raise ValueError("root secret must be at least 32 bytes")
    return HKDF(
        algorithm=hashes.SHA256(),
        length=SUBKEY_BYTES,
        salt=None,
        info=b"wvi subkey: " + purpose.encode("ascii"),
    ).derive(root)
