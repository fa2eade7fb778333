"""Session key blobs: only the cookie's key and the same session id open them."""

from __future__ import annotations

import pytest

from crypto.errors import CryptoError, DecryptionFailed, UnknownFormat
from crypto.keys import PrivateKey, SuiteId
from crypto.session import new_session_key, open_session_keys, seal_session_keys


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKey]:
    return {
        "account": PrivateKey.generate(),
        "desk-penang": PrivateKey.generate(),
        "desk-ciudad-juárez": PrivateKey.generate(SuiteId.X25519_AESGCM),
    }


def test_session_keys_round_trip(keys):
    session_key = new_session_key()
    blob = seal_session_keys(keys, session_key, session_id="s-1")
    opened = open_session_keys(blob, session_key, session_id="s-1")
    assert {name: key.to_bytes() for name, key in opened.items()} == {
        name: key.to_bytes() for name, key in keys.items()
    }


def test_no_keys_round_trips():
    session_key = new_session_key()
    blob = seal_session_keys({}, session_key, session_id="s-1")
    assert open_session_keys(blob, session_key, session_id="s-1") == {}


def test_new_session_keys_are_32_random_bytes():
    assert len(new_session_key()) == 32
    assert new_session_key() != new_session_key()


def test_wrong_session_key_fails(keys):
    blob = seal_session_keys(keys, new_session_key(), session_id="s-1")
    with pytest.raises(DecryptionFailed):
        open_session_keys(blob, new_session_key(), session_id="s-1")


def test_session_key_of_wrong_length_from_a_cookie_fails_as_decryption(keys):
    blob = seal_session_keys(keys, new_session_key(), session_id="s-1")
    with pytest.raises(DecryptionFailed):
        open_session_keys(blob, b"short", session_id="s-1")


def test_blob_of_another_session_fails(keys):
    session_key = new_session_key()
    blob = seal_session_keys(keys, session_key, session_id="s-1")
    with pytest.raises(DecryptionFailed):
        open_session_keys(blob, session_key, session_id="s-2")


def test_other_blob_kinds_are_unknown_format(keys):
    with pytest.raises(UnknownFormat):
        open_session_keys(b"\x01" + bytes(40), new_session_key(), session_id="s-1")


@pytest.mark.parametrize("cut", [0, 1, 12, 28])
def test_truncated_session_blob_fails_with_a_crypto_error(keys, cut):
    session_key = new_session_key()
    blob = seal_session_keys(keys, session_key, session_id="s-1")
    with pytest.raises(CryptoError):
        open_session_keys(blob[:cut], session_key, session_id="s-1")
