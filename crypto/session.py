"""Unlocked keys kept for a monitor's session, encrypted under a key that lives only in the
monitor's cookie (DESIGN 4.2), so a copy of Redis or the DB alone cannot use them.
"""

from __future__ import annotations

import secrets
import struct
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto.errors import DecryptionFailed, MalformedBlob, MalformedKey, UnknownFormat
from crypto.keys import AEAD_TAG_LEN, PrivateKey

SESSION_KEY_LEN = 32
NONCE_LEN = 12
FORMAT_SESSION_V1 = 0x31
MAX_SESSION_KEYS = 256

_AAD_LABEL = b"wvi session keys v1\x00"
_U16 = struct.Struct(">H")


def new_session_key() -> bytes:
    """32 random bytes. The caller puts them in the user's cookie and nowhere else."""
    return secrets.token_bytes(SESSION_KEY_LEN)


def _aad(session_id: str) -> bytes:
    return bytes([FORMAT_SESSION_V1]) + _AAD_LABEL + session_id.encode("utf-8")


def _encode(keys: Mapping[str, PrivateKey]) -> bytes:
    if len(keys) > MAX_SESSION_KEYS:
        raise ValueError("too many keys for one session")
    parts = [_U16.pack(len(keys))]
    for name, key in keys.items():
        name_bytes = name.encode("utf-8")
        key_bytes = key.to_bytes()
        if len(name_bytes) > 0xFFFF:
            raise ValueError("key name too long")
        parts += [_U16.pack(len(name_bytes)), name_bytes, _U16.pack(len(key_bytes)), key_bytes]
    return b"".join(parts)


def _take(data: bytes, offset: int) -> tuple[bytes, int]:
    if len(data) < offset + _U16.size:
        raise MalformedBlob("session blob content is truncated")
    (length,) = _U16.unpack_from(data, offset)
    start = offset + _U16.size
    if len(data) < start + length:
        raise MalformedBlob("session blob content is truncated")
    return data[start : start + length], start + length


def _decode(data: bytes) -> dict[str, PrivateKey]:
    if len(data) < _U16.size:
        raise MalformedBlob("session blob content is truncated")
    (count,) = _U16.unpack_from(data)
    offset = _U16.size
    keys: dict[str, PrivateKey] = {}
    for _ in range(count):
        name, offset = _take(data, offset)
        key_bytes, offset = _take(data, offset)
        try:
            keys[name.decode("utf-8")] = PrivateKey.from_bytes(key_bytes)
        except (UnicodeDecodeError, MalformedKey):
            raise MalformedBlob("session blob content is malformed") from None
    if offset != len(data):
        raise MalformedBlob("session blob content has trailing bytes")
    return keys


def seal_session_keys(
    keys: Mapping[str, PrivateKey], session_key: bytes, *, session_id: str
) -> bytes:
    """`keys` (name -> key, e.g. desk id -> desk key) encrypted for storage in the session.

    ChaCha20-Poly1305 under `session_key`, with `session_id` in the associated data so a blob
    cannot be replayed into another session. FORMAT.md, section 6.
    """
    if len(session_key) != SESSION_KEY_LEN:
        raise ValueError("session key must be 32 bytes (use new_session_key)")
    nonce = secrets.token_bytes(NONCE_LEN)
    ciphertext = ChaCha20Poly1305(bytes(session_key)).encrypt(
        nonce, _encode(keys), _aad(session_id)
    )
    return bytes([FORMAT_SESSION_V1]) + nonce + ciphertext


def open_session_keys(blob: bytes, session_key: bytes, *, session_id: str) -> dict[str, PrivateKey]:
    """The keys sealed by seal_session_keys.

    DecryptionFailed for a wrong key (including a cookie value of the wrong length) or another
    session id; UnknownFormat / MalformedBlob for structure.
    """
    blob = bytes(blob)
    if not blob:
        raise MalformedBlob("session blob is empty")
    if blob[0] != FORMAT_SESSION_V1:
        raise UnknownFormat("not a session blob of a known format")
    if len(blob) < 1 + NONCE_LEN + AEAD_TAG_LEN:
        raise MalformedBlob("session blob is truncated")
    if len(session_key) != SESSION_KEY_LEN:
        raise DecryptionFailed("session keys do not open with this session key")
    nonce, ciphertext = blob[1 : 1 + NONCE_LEN], blob[1 + NONCE_LEN :]
    try:
        content = ChaCha20Poly1305(bytes(session_key)).decrypt(
            nonce, ciphertext, _aad(session_id)
        )
    except InvalidTag:
        raise DecryptionFailed("session keys do not open with this session key") from None
    return _decode(content)
