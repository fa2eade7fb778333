"""Receipts (DESIGN 4.3): 16 random digits, read back in any common digit script, from which
one Argon2id derives both the report lookup hash and the worker's own key.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.errors import MalformedReceipt
from crypto.hierarchy import Argon2Profile, argon2id
from crypto.keys import DEFAULT_SUITE, PrivateKey, SuiteId

RECEIPT_DIGITS = 16
INSTALL_SALT_LEN = 16
LOOKUP_HASH_LEN = 32

_LOOKUP_INFO = b"wvi receipt lookup v1"
_WORKER_KEY_INFO = b"wvi worker key v1"
_MAX_TYPED_LEN = 64

# The zero of each accepted digit script; a digit is accepted iff it is zero..zero+9 of one.
_DIGIT_ZEROS = (
    0x0030,  # ASCII
    0xFF10,  # full-width (Chinese, Japanese IMEs)
    0x0660,  # Arabic-Indic
    0x06F0,  # Extended Arabic-Indic (Persian, Urdu)
    0x0966,  # Devanagari (Hindi, Nepali)
    0x09E6,  # Bengali
    0x0E50,  # Thai
    0x1040,  # Myanmar (Burmese)
)
_DOTS_AND_MINUS = frozenset(".\u3002\uff0e\u06d4\u2212")


def new_receipt() -> str:
    """16 random ASCII digits (about 53 bits), from `secrets`."""
    return f"{secrets.randbelow(10**RECEIPT_DIGITS):0{RECEIPT_DIGITS}d}"


def _is_separator(char: str) -> bool:
    # Spaces of any kind (incl. NBSP), dashes of any kind, dots, and invisible format
    # characters (bidi marks, zero-width joiners) that copy-paste brings along.
    return char in _DOTS_AND_MINUS or unicodedata.category(char) in ("Zs", "Pd", "Cf")


def _digit_value(char: str) -> int | None:
    code = ord(char)
    if not any(zero <= code <= zero + 9 for zero in _DIGIT_ZEROS):
        return None
    return unicodedata.decimal(char)


def normalize_receipt(text: str) -> str:
    """The receipt as 16 ASCII digits, from what a worker typed.

    Accepts ASCII, full-width, Arabic-Indic, Persian, Devanagari, Bengali, Thai and Burmese
    digits, separated by any spaces, dashes or dots. MalformedReceipt for anything else.
    """
    if len(text) > _MAX_TYPED_LEN:
        raise MalformedReceipt("a receipt has 16 digits; this is far too long")
    digits: list[str] = []
    for char in text:
        if _is_separator(char):
            continue
        value = _digit_value(char)
        if value is None:
            raise MalformedReceipt("a receipt has only digits, spaces, dashes and dots")
        digits.append(str(value))
    if len(digits) != RECEIPT_DIGITS:
        raise MalformedReceipt(f"a receipt has 16 digits; this has {len(digits)}")
    return "".join(digits)


def format_receipt(receipt: str) -> str:
    """"1234 5678 9012 3456": how a receipt is shown and read out."""
    digits = normalize_receipt(receipt)
    return " ".join(digits[i : i + 4] for i in range(0, RECEIPT_DIGITS, 4))


def new_install_salt() -> bytes:
    """16 random bytes, created once per installation and stored with its configuration."""
    return secrets.token_bytes(INSTALL_SALT_LEN)


@dataclass(frozen=True, repr=False, eq=False)
class ReceiptSecrets:
    """What a receipt unlocks: the report's lookup hash and the worker's key pair."""

    lookup_hash: bytes
    worker_key: PrivateKey

    def __repr__(self) -> str:
        return f"ReceiptSecrets(lookup_hash=<hidden>, worker_key={self.worker_key!r})"


def _expand(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


def derive_receipt_secrets(
    receipt: str,
    *,
    install_salt: bytes,
    profile: Argon2Profile,
    suite: SuiteId = DEFAULT_SUITE,
) -> ReceiptSecrets:
    """One Argon2id(normalized receipt, install_salt) -> master; HKDF splits it in two.

    lookup_hash = HKDF(master, "wvi receipt lookup v1"); worker_key = PrivateKey.derive(
    HKDF(master, "wvi worker key v1")). Guessing a receipt costs one Argon2id per guess
    whichever the attacker holds. Raises MalformedReceipt; ValueError for a short salt.
    """
    if len(install_salt) < INSTALL_SALT_LEN:
        raise ValueError("install salt must be at least 16 bytes (use new_install_salt)")
    digits = normalize_receipt(receipt)
    master = argon2id(digits.encode("ascii"), salt=bytes(install_salt), profile=profile)
    return ReceiptSecrets(
        lookup_hash=_expand(master, _LOOKUP_INFO),
        worker_key=PrivateKey.derive(_expand(master, _WORKER_KEY_INFO), suite),
    )
