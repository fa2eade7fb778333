"""The key hierarchy (DESIGN 4.2): password-wrapped account keys, desk keys wrapped to members
and to an offline recovery secret, and desk key rotation. Formats: FORMAT.md, sections 3-5.
"""

from __future__ import annotations

import secrets
import struct
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from crypto import envelope
from crypto.errors import (
    MalformedBlob,
    MalformedKey,
    MalformedRecoverySecret,
    RecoveryTypo,
    UnknownFormat,
    WrongPassword,
)
from crypto.keys import AEAD_TAG_LEN, PrivateKey, PublicKey


@dataclass(frozen=True)
class Argon2Profile:
    """Argon2id cost parameters (RFC 9106). Stored in every blob they protect."""

    time_cost: int
    memory_cost_kib: int
    lanes: int
    name: str


PRODUCTION = Argon2Profile(time_cost=3, memory_cost_kib=64 * 1024, lanes=4, name="production")
"""RFC 9106 section 4, second recommended option (t=3, m=64 MiB, p=4); 0.2 s (0.17-0.23 s) on
the 2-core reference machine (bench/crypto.py). Used for logins, recovery and receipt checks."""

TEST_FAST = Argon2Profile(time_cost=1, memory_cost_kib=8, lanes=1, name="test-fast")
"""The smallest parameters the library accepts (m >= 8 KiB per lane). Tests only."""

# Upper bounds when reading a stored profile, so a doctored blob cannot make one unwrap
# allocate gigabytes or spin for minutes.
_MAX_TIME_COST = 16
_MAX_MEMORY_KIB = 1024 * 1024
_MAX_LANES = 64

KEK_LEN = 32
SALT_LEN = 16
NONCE_LEN = 12

FORMAT_ACCOUNT_WRAP_V1 = 0x21
FORMAT_RECOVERY_WRAP_V1 = 0x22

_ACCOUNT_LABEL = b"wvi account key v1"
_RECOVERY_LABEL = b"wvi desk recovery v1\x00"
_DESK_CONTEXT_LABEL = b"wvi desk key v1\x00"
_PASSWORD_HEAD = struct.Struct(">BIII")  # format, time cost, memory KiB, lanes


_ARGON2_LOCK = threading.Lock()
"""One Argon2id at a time per process. cryptography runs the lanes on OpenSSL's thread pool
(capped at the number of cores); two derivations at once in two threads of one process
(gunicorn's gthread workers) hung for good, or failed with MemoryError, with cryptography 50
on OpenSSL 4.0, 2 cores, 4 lanes. Found by tests/test_crash.py."""


def argon2id(secret: bytes, *, salt: bytes, profile: Argon2Profile, length: int = KEK_LEN) -> bytes:
    """Argon2id(secret, salt) with `profile`'s costs: `length` bytes of key material."""
    kdf = Argon2id(
        salt=salt,
        length=length,
        iterations=profile.time_cost,
        lanes=profile.lanes,
        memory_cost=profile.memory_cost_kib,
    )
    with _ARGON2_LOCK:
        return kdf.derive(secret)


# --- password wraps (account keys and desk recovery share one layout) -------------------------


def _password_bytes(password: str) -> bytes:
    # NFKC so the same password typed on different keyboards / IMEs derives the same key
    # (NIST SP 800-63B, 5.1.1.2).
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def _seal_under_secret(
    fmt: int, key_bytes: bytes, secret: bytes, label: bytes, profile: Argon2Profile
) -> bytes:
    salt = secrets.token_bytes(SALT_LEN)
    head = _PASSWORD_HEAD.pack(fmt, profile.time_cost, profile.memory_cost_kib, profile.lanes)
    header = head + salt
    kek = argon2id(secret, salt=salt, profile=profile)
    nonce = secrets.token_bytes(NONCE_LEN)
    ciphertext = ChaCha20Poly1305(kek).encrypt(nonce, key_bytes, header + label)
    return header + nonce + ciphertext


@dataclass(frozen=True)
class _PasswordWrap:
    header: bytes
    profile: Argon2Profile
    salt: bytes
    nonce: bytes
    ciphertext: bytes


def _parse_password_wrap(blob: bytes, fmt: int) -> _PasswordWrap:
    blob = bytes(blob)
    if not blob:
        raise MalformedBlob("wrapped key is empty")
    if blob[0] != fmt:
        raise UnknownFormat("not a wrapped key of the expected format")
    header_len = _PASSWORD_HEAD.size + SALT_LEN
    if len(blob) < header_len + NONCE_LEN + AEAD_TAG_LEN + 1:
        raise MalformedBlob("wrapped key is truncated")
    _, time_cost, memory_kib, lanes = _PASSWORD_HEAD.unpack_from(blob)
    if not (
        1 <= time_cost <= _MAX_TIME_COST
        and 1 <= lanes <= _MAX_LANES
        and 8 * lanes <= memory_kib <= _MAX_MEMORY_KIB
    ):
        raise MalformedBlob("wrapped key has out-of-range Argon2id parameters")
    return _PasswordWrap(
        header=blob[:header_len],
        profile=Argon2Profile(time_cost, memory_kib, lanes, name="stored"),
        salt=blob[_PASSWORD_HEAD.size : header_len],
        nonce=blob[header_len : header_len + NONCE_LEN],
        ciphertext=blob[header_len + NONCE_LEN :],
    )


def _open_under_secret(wrap: _PasswordWrap, secret: bytes, label: bytes) -> PrivateKey:
    kek = argon2id(secret, salt=wrap.salt, profile=wrap.profile)
    try:
        key_bytes = ChaCha20Poly1305(kek).decrypt(wrap.nonce, wrap.ciphertext, wrap.header + label)
    except InvalidTag:
        raise WrongPassword("the password does not unlock this key") from None
    try:
        return PrivateKey.from_bytes(key_bytes)
    except MalformedKey:
        raise MalformedBlob("wrapped key holds no valid private key") from None


def wrap_account_key(private_key: PrivateKey, password: str, *, profile: Argon2Profile) -> bytes:
    """The account's private key, encrypted under Argon2id(password). FORMAT.md, section 3."""
    if not password:
        raise ValueError("password must not be empty")
    return _seal_under_secret(
        FORMAT_ACCOUNT_WRAP_V1, private_key.to_bytes(), _password_bytes(password),
        _ACCOUNT_LABEL, profile,
    )


def unwrap_account_key(blob: bytes, password: str) -> PrivateKey:
    """The account key; Argon2id costs come from the blob. WrongPassword, MalformedBlob."""
    wrap = _parse_password_wrap(blob, FORMAT_ACCOUNT_WRAP_V1)
    return _open_under_secret(wrap, _password_bytes(password), _ACCOUNT_LABEL)


def rewrap_account_key(
    blob: bytes, old_password: str, new_password: str, *, profile: Argon2Profile
) -> bytes:
    """The same account key under `new_password` (fresh salt, `profile` costs)."""
    return wrap_account_key(unwrap_account_key(blob, old_password), new_password, profile=profile)


def stored_profile(blob: bytes) -> Argon2Profile:
    """The Argon2id costs an account or recovery wrap was made with (name "stored")."""
    blob = bytes(blob)
    fmt = blob[0] if blob else FORMAT_ACCOUNT_WRAP_V1
    if fmt not in (FORMAT_ACCOUNT_WRAP_V1, FORMAT_RECOVERY_WRAP_V1):
        raise UnknownFormat("not a wrapped key of a known format")
    return _parse_password_wrap(blob, fmt).profile


def needs_rewrap(blob: bytes, profile: Argon2Profile) -> bool:
    """True when the wrap's stored costs differ from `profile`: rewrap at the next login."""
    stored = stored_profile(blob)
    return (stored.time_cost, stored.memory_cost_kib, stored.lanes) != (
        profile.time_cost, profile.memory_cost_kib, profile.lanes,
    )


# --- desk keys wrapped to members -------------------------------------------------------------


def _desk_context(desk_id: str) -> bytes:
    return _DESK_CONTEXT_LABEL + desk_id.encode("utf-8")


def wrap_desk_key(desk_private: PrivateKey, member_public: PublicKey, *, desk_id: str) -> bytes:
    """The desk key sealed (envelope) to one member's account key, bound to `desk_id`."""
    return envelope.seal(desk_private.to_bytes(), [member_public], context=_desk_context(desk_id))


def unwrap_desk_key(blob: bytes, member_private: PrivateKey, *, desk_id: str) -> PrivateKey:
    """The desk key from a member's wrap. Raises as envelope.open_sealed."""
    key_bytes = envelope.open_sealed(blob, member_private, context=_desk_context(desk_id))
    try:
        return PrivateKey.from_bytes(key_bytes)
    except MalformedKey:
        raise MalformedBlob("desk key wrap holds no valid private key") from None


# --- recovery secret --------------------------------------------------------------------------
# Crockford base32 for the characters; the bech32m BCH checksum (BIP-350) over the 5-bit values
# for error detection. Written here because no library we may depend on does this; the
# checksum is an error-detecting code, not a cryptographic primitive.

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_VALUES = {c: i for i, c in enumerate(_CROCKFORD)}
_CROCKFORD_VALUES.update({"O": 0, "I": 1, "L": 1})
RECOVERY_BITS = 130
RECOVERY_DATA_CHARS = RECOVERY_BITS // 5
RECOVERY_CHECK_CHARS = 6
RECOVERY_CHARS = RECOVERY_DATA_CHARS + RECOVERY_CHECK_CHARS
_RECOVERY_GROUP = 4
_IGNORED_IN_SECRET = frozenset(" -\u00a0\u2010\u2011\u2012\u2013\u2014\u2212\t")
_CHECKSUM_HRP = "wvi-desk-recovery"
_BECH32M_CONST = 0x2BC830A3
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: Iterable[int]) -> int:
    """BIP-173's BCH checksum polynomial over GF(32)."""
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_BECH32_GEN):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _checksum(data: list[int]) -> list[int]:
    mod = _polymod(_hrp_expand(_CHECKSUM_HRP) + data + [0] * RECOVERY_CHECK_CHARS)
    mod ^= _BECH32M_CONST
    return [(mod >> 5 * (RECOVERY_CHECK_CHARS - 1 - i)) & 31 for i in range(RECOVERY_CHECK_CHARS)]


def new_recovery_secret() -> str:
    """A fresh secret to print once at desk creation: 32 characters, 8 groups of 4.

    130 random bits in 26 Crockford base32 characters, then a 6-character checksum that
    detects any error in up to 4 characters (so every single typo and every swap of two
    neighbours). Case, spaces and dashes do not matter when it is typed back.
    """
    value = secrets.randbits(RECOVERY_BITS)
    data = [(value >> 5 * (RECOVERY_DATA_CHARS - 1 - i)) & 31 for i in range(RECOVERY_DATA_CHARS)]
    text = "".join(_CROCKFORD[v] for v in data + _checksum(data))
    groups = range(0, RECOVERY_CHARS, _RECOVERY_GROUP)
    return "-".join(text[i : i + _RECOVERY_GROUP] for i in groups)


def parse_recovery_secret(secret: str) -> bytes:
    """The canonical secret (26 data characters, ASCII) from what a person typed.

    Ignores case, width, spaces and dashes; reads O as 0 and I, L as 1 (Crockford). Raises
    MalformedRecoverySecret (wrong length, a character not used) or RecoveryTypo (checksum).
    Costs no Argon2id, so typos are reported at once.
    """
    typed = unicodedata.normalize("NFKC", secret).upper()
    cleaned = [c for c in typed if c not in _IGNORED_IN_SECRET]
    if len(cleaned) != RECOVERY_CHARS:
        raise MalformedRecoverySecret(
            f"a recovery secret has {RECOVERY_CHARS} letters and digits, this has {len(cleaned)}"
        )
    values: list[int] = []
    for position, char in enumerate(cleaned, start=1):
        value = _CROCKFORD_VALUES.get(char)
        if value is None:
            raise MalformedRecoverySecret(
                f"character {position} is not one used in recovery secrets"
            )
        values.append(value)
    if _polymod(_hrp_expand(_CHECKSUM_HRP) + values) != _BECH32M_CONST:
        raise RecoveryTypo("the recovery secret has a typo: check each group again")
    return "".join(_CROCKFORD[v] for v in values[:RECOVERY_DATA_CHARS]).encode("ascii")


def _recovery_label(desk_id: str) -> bytes:
    return _RECOVERY_LABEL + desk_id.encode("utf-8")


def wrap_desk_key_for_recovery(
    desk_private: PrivateKey, secret: str, *, desk_id: str, profile: Argon2Profile
) -> bytes:
    """The desk key under Argon2id(recovery secret), bound to `desk_id`. FORMAT.md, section 4."""
    return _seal_under_secret(
        FORMAT_RECOVERY_WRAP_V1, desk_private.to_bytes(), parse_recovery_secret(secret),
        _recovery_label(desk_id), profile,
    )


def recover_desk_key(blob: bytes, secret: str, *, desk_id: str) -> PrivateKey:
    """The desk key from its recovery wrap.

    RecoveryTypo / MalformedRecoverySecret come first, before any Argon2id; WrongPassword if
    the secret is well-formed but not this desk's (or `desk_id` differs).
    """
    canonical = parse_recovery_secret(secret)
    wrap = _parse_password_wrap(blob, FORMAT_RECOVERY_WRAP_V1)
    try:
        return _open_under_secret(wrap, canonical, _recovery_label(desk_id))
    except WrongPassword:
        raise WrongPassword("the recovery secret does not unlock this desk key") from None


# --- rotation ---------------------------------------------------------------------------------


def rewrap_for_rotation(
    blob: bytes, old_private: PrivateKey, new_public: PublicKey, *, context: bytes
) -> bytes:
    """One sealed blob moved from the old desk key to the new: add new, then drop old.

    The data key and body are unchanged (FORMAT.md, section 5 says what this does and does not
    protect). A blob already moved (new key present, old key absent) is returned unchanged, so
    an interrupted rotation can simply be run again. Raises as envelope.add_recipient.
    """
    present = envelope.recipients(blob)
    if new_public.key_id in present and old_private.key_id not in present:
        return bytes(blob)
    added = envelope.add_recipient(blob, old_private, new_public, context=context)
    if old_private.key_id == new_public.key_id:
        return added
    return envelope.remove_recipient(added, old_private.key_id)


def rotate_desk_key(
    old_desk_private: PrivateKey,
    items: Iterable[tuple[bytes, bytes]],
    *,
    new_desk_public: PublicKey,
) -> Iterator[bytes]:
    """rewrap_for_rotation over (blob, context) pairs, yielding the new blobs in order."""
    for blob, context in items:
        yield rewrap_for_rotation(blob, old_desk_private, new_desk_public, context=context)
