"""Tampered, truncated and random envelopes: always a CryptoError, never data, never anything else.

`pytest.raises(CryptoError)` lets any other exception type through, so an IndexError,
struct.error or ValueError leaking out of the parser fails these tests.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.envelope import (
    add_recipient,
    envelope_suite,
    open_sealed,
    recipients,
    remove_recipient,
    seal,
)
from crypto.errors import CryptoError
from crypto.keys import KEY_ID_LEN, PrivateKey, SuiteId, suite_spec

CONTEXT = b"report-body:7"
REPORT = b"Forced overtime, 80 hours a week, no rest day."

suites = pytest.mark.parametrize("suite", list(SuiteId), ids=lambda s: s.name)

_KEYS = {suite: (PrivateKey.generate(suite), PrivateKey.generate(suite)) for suite in SuiteId}
_SINGLE = {s: seal(REPORT, [k[0].public_key()], context=CONTEXT) for s, k in _KEYS.items()}
_DOUBLE = {
    s: seal(REPORT, [k[0].public_key(), k[1].public_key()], context=CONTEXT)
    for s, k in _KEYS.items()
}


def _flip(blob: bytes, position: int, xor: int) -> bytes:
    return blob[:position] + bytes([blob[position] ^ xor]) + blob[position + 1 :]


def _assert_rejected(blob: bytes, key: PrivateKey) -> None:
    with pytest.raises(CryptoError):
        open_sealed(blob, key, context=CONTEXT)


@suites
@given(data=st.data())
@settings(max_examples=300, deadline=None)
def test_any_single_byte_change_is_rejected(suite, data):
    blob = _SINGLE[suite]
    position = data.draw(st.integers(0, len(blob) - 1), label="position")
    xor = data.draw(st.integers(1, 255), label="xor")
    _assert_rejected(_flip(blob, position, xor), _KEYS[suite][0])


@suites
@pytest.mark.parametrize("xor", [0x01, 0x80])
def test_every_byte_position_is_covered(suite, xor):
    """Exhaustive over positions: one flipped bit at each byte of a one-recipient envelope."""
    blob, key = _SINGLE[suite], _KEYS[suite][0]
    for position in range(len(blob)):
        _assert_rejected(_flip(blob, position, xor), key)


@suites
def test_changes_in_another_recipients_entry_never_yield_different_data(suite):
    """With two recipients, recipient 0 either fails or reads exactly the sealed report.

    It may still read it only when the change lies in recipient 1's key id or wrapped key:
    those bytes are not recipient 0's business (FORMAT.md 1.3).
    """
    blob, key = _DOUBLE[suite], _KEYS[suite][0]
    entry_len = KEY_ID_LEN + 2 + suite_spec(suite).wrap_len
    second_entry = range(3 + entry_len, 3 + 2 * entry_len)
    second_len_field = range(3 + entry_len + KEY_ID_LEN, 3 + entry_len + KEY_ID_LEN + 2)
    for position in range(len(blob)):
        tampered = _flip(blob, position, 0x01)
        try:
            opened = open_sealed(tampered, key, context=CONTEXT)
        except CryptoError:
            continue
        assert opened == REPORT
        assert position in second_entry and position not in second_len_field


@suites
def test_every_truncation_is_rejected(suite):
    blob, key = _SINGLE[suite], _KEYS[suite][0]
    for length in range(len(blob)):
        _assert_rejected(blob[:length], key)


@suites
@given(extra=st.binary(min_size=1, max_size=64))
def test_appended_bytes_are_rejected(suite, extra):
    _assert_rejected(_SINGLE[suite] + extra, _KEYS[suite][0])


@suites
def test_empty_blob_is_rejected(suite):
    _assert_rejected(b"", _KEYS[suite][0])


_PREFIXES = st.sampled_from([b"", b"\x01", b"\x01\x01", b"\x01\x02", b"\x01\x01\x01",
                             b"\x01\x02\x01", b"\x01\x02\x02"])


@given(prefix=_PREFIXES, garbage=st.binary(max_size=4096))
@settings(max_examples=400, deadline=None)
def test_random_garbage_raises_only_crypto_errors(prefix, garbage):
    blob = prefix + garbage
    for suite in SuiteId:
        key, other = _KEYS[suite]
        _assert_rejected(blob, key)
        for call in (
            lambda b=blob: recipients(b),
            lambda b=blob: envelope_suite(b),
            lambda b=blob, k=key: remove_recipient(b, k.key_id),
            lambda b=blob, k=key, o=other: add_recipient(b, k, o.public_key(), context=CONTEXT),
        ):
            with contextlib.suppress(CryptoError):
                call()


@suites
@given(data=st.data())
@settings(max_examples=100, deadline=None)
def test_tampered_blob_cannot_gain_a_recipient(suite, data):
    blob = _SINGLE[suite]
    position = data.draw(st.integers(0, len(blob) - 1))
    key, other = _KEYS[suite]
    with pytest.raises(CryptoError):
        add_recipient(_flip(blob, position, 0x01), key, other.public_key(), context=CONTEXT)
