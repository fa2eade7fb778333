"""The failure modes of the crypto package, as named exception types.

Messages are fixed sentences: never key material, plaintext, receipts, passwords or secrets.
"""

from __future__ import annotations


class CryptoError(Exception):
    """Base class of every error this package raises on purpose."""


class MalformedBlob(CryptoError):
    """A sealed or wrapped blob is truncated, overlong or otherwise not of its format."""


class MalformedEnvelope(MalformedBlob):
    """A sealed envelope (see FORMAT.md, section 1) does not parse."""


class UnknownFormat(CryptoError):
    """The blob's format byte is not one this code reads (wrong kind of blob, or newer)."""


class UnknownSuite(CryptoError):
    """The suite byte names no suite this code knows."""


class SuiteMismatch(CryptoError):
    """Keys of different suites were mixed where one suite is required."""


class DecryptionFailed(CryptoError):
    """Authentication failed: wrong key, wrong context or tampering (deliberately one type)."""


class NotARecipient(CryptoError):
    """The envelope has no entry for this key id."""


class NoRecipients(CryptoError):
    """An envelope needs at least one recipient."""


class InputTooLarge(CryptoError):
    """An input exceeds a stated size limit."""


class TooManyRecipients(InputTooLarge):
    """An envelope may have at most MAX_RECIPIENTS recipients."""


class WrongPassword(CryptoError):
    """The password (or recovery secret) does not unwrap this blob."""


class MalformedRecoverySecret(CryptoError):
    """A typed recovery secret cannot be parsed (wrong length or a character not in use)."""


class RecoveryTypo(MalformedRecoverySecret):
    """A typed recovery secret parses but its checksum does not match: almost surely a typo."""


class MalformedReceipt(CryptoError):
    """A receipt is not 16 digits (after removing spaces, dashes and dots)."""


class MalformedKey(CryptoError):
    """Key bytes do not decode to a key of a known suite."""
