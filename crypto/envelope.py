"""Sealed envelopes (DESIGN 4.1): one AEAD body under a random data key, HPKE-wrapped per recipient.

The byte layout and the reasoning behind what is authenticated are in FORMAT.md, section 1.
"""

from __future__ import annotations

import secrets
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from crypto.errors import (
    DecryptionFailed,
    InputTooLarge,
    MalformedEnvelope,
    MalformedKey,
    NoRecipients,
    NotARecipient,
    SuiteMismatch,
    TooManyRecipients,
    UnknownFormat,
    UnknownSuite,
)
from crypto.keys import (
    AEAD_TAG_LEN,
    DATA_KEY_LEN,
    KEY_ID_LEN,
    PrivateKey,
    PublicKey,
    SuiteId,
    SuiteSpec,
    parse_suite,
    suite_spec,
)

FORMAT_ENVELOPE_V1 = 0x01
MAX_PLAINTEXT = 1024 * 1024
"""1 MiB: the largest plaintext `seal` accepts (InputTooLarge above it)."""
MAX_RECIPIENTS = 32
NONCE_LEN = 12

_WRAP_INFO_LABEL = b"wvi envelope v1 data key\x00"
_ENTRY_HEAD = struct.Struct(f">{KEY_ID_LEN}sH")


@dataclass(frozen=True)
class _Entry:
    key_id: bytes
    wrap: bytes


@dataclass(frozen=True)
class _Envelope:
    suite: SuiteId
    entries: tuple[_Entry, ...]
    nonce: bytes
    body: bytes

    @property
    def spec(self) -> SuiteSpec:
        return suite_spec(self.suite)

    def to_bytes(self) -> bytes:
        parts = [bytes([FORMAT_ENVELOPE_V1, self.suite, len(self.entries)])]
        for entry in self.entries:
            parts.append(_ENTRY_HEAD.pack(entry.key_id, len(entry.wrap)))
            parts.append(entry.wrap)
        parts.append(self.nonce)
        parts.append(self.body)
        return b"".join(parts)

    def entry_for(self, key_id: bytes) -> _Entry | None:
        return next((e for e in self.entries if e.key_id == key_id), None)


def _header(suite: SuiteId) -> bytes:
    """The recipient-independent header: format byte and suite byte."""
    return bytes([FORMAT_ENVELOPE_V1, suite])


def _body_aad(suite: SuiteId, context: bytes) -> bytes:
    return _header(suite) + context


def _wrap_info(suite: SuiteId, context: bytes) -> bytes:
    return _WRAP_INFO_LABEL + _header(suite) + context


def _parse(blob: bytes) -> _Envelope:
    """Parse strictly; every structural problem becomes a CryptoError subclass."""
    blob = bytes(blob)
    if not blob:
        raise MalformedEnvelope("envelope is empty")
    if blob[0] != FORMAT_ENVELOPE_V1:
        raise UnknownFormat("not a sealed envelope of a known format")
    if len(blob) < 3:
        raise MalformedEnvelope("envelope is truncated")
    suite = parse_suite(blob[1])
    if suite is None:
        raise UnknownSuite("envelope names an unknown suite")
    spec = suite_spec(suite)
    count = blob[2]
    if not 1 <= count <= MAX_RECIPIENTS:
        raise MalformedEnvelope("envelope has an invalid recipient count")
    offset = 3
    entries: list[_Entry] = []
    for _ in range(count):
        if len(blob) < offset + _ENTRY_HEAD.size:
            raise MalformedEnvelope("envelope is truncated")
        key_id, wrap_len = _ENTRY_HEAD.unpack_from(blob, offset)
        offset += _ENTRY_HEAD.size
        if wrap_len != spec.wrap_len:
            raise MalformedEnvelope("recipient entry has the wrong length for the suite")
        if len(blob) < offset + wrap_len:
            raise MalformedEnvelope("envelope is truncated")
        entries.append(_Entry(key_id, blob[offset : offset + wrap_len]))
        offset += wrap_len
    if len({e.key_id for e in entries}) != len(entries):
        raise MalformedEnvelope("envelope lists a recipient twice")
    body_len = len(blob) - offset - NONCE_LEN
    if body_len < AEAD_TAG_LEN:
        raise MalformedEnvelope("envelope is truncated")
    if body_len > MAX_PLAINTEXT + AEAD_TAG_LEN:
        raise InputTooLarge("envelope body exceeds the plaintext limit")
    nonce = blob[offset : offset + NONCE_LEN]
    return _Envelope(suite, tuple(entries), nonce, blob[offset + NONCE_LEN :])


def _wrap(spec: SuiteSpec, data_key: bytes, recipient: PublicKey, context: bytes) -> _Entry:
    try:
        wrap = spec.hpke.encrypt(
            data_key, recipient.hpke_key, info=_wrap_info(spec.suite, context)
        )
    except ValueError:
        # X25519 rejects low-order public keys ("Error computing shared key").
        raise MalformedKey("recipient public key cannot be encrypted to") from None
    return _Entry(recipient.key_id, wrap)


def _unwrap(envelope: _Envelope, opener: PrivateKey, context: bytes) -> bytes:
    """The data key, from the opener's entry. NotARecipient / DecryptionFailed."""
    entry = envelope.entry_for(opener.key_id) if opener.suite is envelope.suite else None
    if entry is None:
        raise NotARecipient("this key is not a recipient of the envelope")
    try:
        data_key = envelope.spec.hpke.decrypt(
            entry.wrap, opener.hpke_key, info=_wrap_info(envelope.suite, context)
        )
    except (InvalidTag, ValueError):
        raise DecryptionFailed("envelope does not open with this key and context") from None
    if len(data_key) != DATA_KEY_LEN:
        raise DecryptionFailed("envelope does not open with this key and context")
    return data_key


def _open_body(envelope: _Envelope, data_key: bytes, context: bytes) -> bytes:
    cipher = envelope.spec.body_cipher(data_key)
    try:
        return cipher.decrypt(envelope.nonce, envelope.body, _body_aad(envelope.suite, context))
    except InvalidTag:
        raise DecryptionFailed("envelope does not open with this key and context") from None


def _unique(recipients: Sequence[PublicKey]) -> list[PublicKey]:
    seen: set[bytes] = set()
    unique: list[PublicKey] = []
    for recipient in recipients:
        if recipient.key_id not in seen:
            seen.add(recipient.key_id)
            unique.append(recipient)
    return unique


def seal(plaintext: bytes, recipients: Sequence[PublicKey], *, context: bytes) -> bytes:
    """Seal `plaintext` so that each recipient (one suite, 1..32 of them) can open it.

    `context` names what the blob is and where it belongs (e.g. b"report-body:<report id>");
    it is authenticated, not stored: the opener must pass the same bytes. Repeated recipients
    are listed once. Raises NoRecipients, TooManyRecipients, SuiteMismatch, InputTooLarge,
    MalformedKey (a public key that cannot be encrypted to).
    """
    if len(plaintext) > MAX_PLAINTEXT:
        raise InputTooLarge("plaintext exceeds MAX_PLAINTEXT")
    unique = _unique(recipients)
    if not unique:
        raise NoRecipients("an envelope needs at least one recipient")
    if len(unique) > MAX_RECIPIENTS:
        raise TooManyRecipients("an envelope has at most MAX_RECIPIENTS recipients")
    suite = unique[0].suite
    if any(r.suite is not suite for r in unique):
        raise SuiteMismatch("all recipients of an envelope must share one suite")
    spec = suite_spec(suite)
    data_key = secrets.token_bytes(DATA_KEY_LEN)
    nonce = secrets.token_bytes(NONCE_LEN)
    body = spec.body_cipher(data_key).encrypt(nonce, bytes(plaintext), _body_aad(suite, context))
    entries = tuple(_wrap(spec, data_key, r, context) for r in unique)
    return _Envelope(suite, entries, nonce, body).to_bytes()


def open_sealed(blob: bytes, private_key: PrivateKey, *, context: bytes) -> bytes:
    """The plaintext of `blob`, opened with `private_key` under the same `context` as sealed.

    Raises MalformedEnvelope, UnknownFormat, UnknownSuite, InputTooLarge (structure),
    NotARecipient (no entry for this key), DecryptionFailed (any authentication failure).
    """
    envelope = _parse(blob)
    data_key = _unwrap(envelope, private_key, context)
    return _open_body(envelope, data_key, context)


def add_recipient(
    blob: bytes, opener: PrivateKey, new_recipient: PublicKey, *, context: bytes
) -> bytes:
    """`blob` with an entry for `new_recipient`; the nonce and body stay byte-for-byte the same.

    `opener` must be a recipient and the body must open under `context`, so a recipient is
    never added to an envelope whose content it could not read. Adding a key that is already a
    recipient returns `blob` unchanged. Raises as open_sealed, plus SuiteMismatch and
    TooManyRecipients.
    """
    envelope = _parse(blob)
    if new_recipient.suite is not envelope.suite:
        raise SuiteMismatch("the new recipient's suite differs from the envelope's")
    data_key = _unwrap(envelope, opener, context)
    _open_body(envelope, data_key, context)
    if envelope.entry_for(new_recipient.key_id) is not None:
        return bytes(blob)
    if len(envelope.entries) >= MAX_RECIPIENTS:
        raise TooManyRecipients("an envelope has at most MAX_RECIPIENTS recipients")
    entry = _wrap(envelope.spec, data_key, new_recipient, context)
    return _Envelope(
        envelope.suite, (*envelope.entries, entry), envelope.nonce, envelope.body
    ).to_bytes()


def remove_recipient(blob: bytes, key_id: bytes) -> bytes:
    """`blob` without the entry for `key_id` (NotARecipient if absent; NoRecipients if last).

    Needs no key: the entry is simply dropped. See FORMAT.md on what removal does not undo.
    """
    envelope = _parse(blob)
    if envelope.entry_for(bytes(key_id)) is None:
        raise NotARecipient("this key is not a recipient of the envelope")
    remaining = tuple(e for e in envelope.entries if e.key_id != key_id)
    if not remaining:
        raise NoRecipients("cannot remove the last recipient of an envelope")
    return _Envelope(envelope.suite, remaining, envelope.nonce, envelope.body).to_bytes()


def recipients(blob: bytes) -> list[bytes]:
    """The key ids of the envelope's recipients, in stored order."""
    return [entry.key_id for entry in _parse(blob).entries]


def envelope_suite(blob: bytes) -> SuiteId:
    """The suite of the envelope (all its recipients' keys are of this suite)."""
    return _parse(blob).suite
