"""Keys: encodings, key ids, deterministic derivation, and refusal of malformed bytes."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import MalformedKey
from crypto.keys import DEFAULT_SUITE, PrivateKey, PublicKey, SuiteId

suites = pytest.mark.parametrize("suite", list(SuiteId), ids=lambda s: s.name)

ENCODED_LENGTHS = {
    SuiteId.PQ_HYBRID: (1 + 64 + 32, 1 + 1184 + 32),
    SuiteId.X25519_AESGCM: (1 + 32, 1 + 32),
}


def test_suite_values_are_the_stored_bytes():
    assert (SuiteId.PQ_HYBRID, SuiteId.X25519_AESGCM) == (1, 2)
    assert DEFAULT_SUITE is SuiteId.PQ_HYBRID


@suites
def test_encodings_round_trip_with_documented_lengths(suite):
    key = PrivateKey.generate(suite)
    private_len, public_len = ENCODED_LENGTHS[suite]
    assert len(key.to_bytes()) == private_len and key.to_bytes()[0] == suite
    assert len(key.public_key().to_bytes()) == public_len
    assert PrivateKey.from_bytes(key.to_bytes()).to_bytes() == key.to_bytes()
    assert PublicKey.from_bytes(key.public_key().to_bytes()) == key.public_key()


@suites
def test_key_id_is_truncated_sha256_of_the_public_encoding(suite):
    key = PrivateKey.generate(suite)
    expected = hashlib.sha256(key.public_key().to_bytes()).digest()[:8]
    assert key.key_id == key.public_key().key_id == expected


@suites
def test_derive_is_deterministic_and_seed_dependent(suite):
    seed = bytes(range(32))
    assert PrivateKey.derive(seed, suite).to_bytes() == PrivateKey.derive(seed, suite).to_bytes()
    assert PrivateKey.derive(seed, suite).key_id != PrivateKey.derive(bytes(32), suite).key_id


def test_derive_depends_on_the_suite():
    seed = bytes(range(32))
    pq = PrivateKey.derive(seed, SuiteId.PQ_HYBRID).to_bytes()
    classic = PrivateKey.derive(seed, SuiteId.X25519_AESGCM).to_bytes()
    assert classic[1:] not in pq


def test_derive_refuses_short_seeds():
    with pytest.raises(ValueError, match="32 bytes"):
        PrivateKey.derive(bytes(31))


@pytest.mark.parametrize(
    "encoded",
    [b"", b"\x00", b"\x03" + bytes(32), b"\x02" + bytes(31), b"\x02" + bytes(33),
     b"\x01" + bytes(1215), b"\x01" + b"\xff" * 1216],
)
def test_malformed_public_keys_are_refused(encoded):
    with pytest.raises(MalformedKey):
        PublicKey.from_bytes(encoded)


@pytest.mark.parametrize(
    "encoded", [b"", b"\x00" + bytes(32), b"\x02" + bytes(31), b"\x01" + bytes(95)]
)
def test_malformed_private_keys_are_refused(encoded):
    with pytest.raises(MalformedKey):
        PrivateKey.from_bytes(encoded)


@given(st.binary(max_size=1300))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_decode_or_raise_malformed_key(data):
    for decode in (PublicKey.from_bytes, PrivateKey.from_bytes):
        with contextlib.suppress(MalformedKey):
            decode(data)


def test_private_key_refuses_pickling():
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(PrivateKey.generate(SuiteId.X25519_AESGCM))


@suites
def test_public_key_pickles_as_its_encoding(suite):
    public = PrivateKey.generate(suite).public_key()
    assert pickle.loads(pickle.dumps(public)) == public  # noqa: S301 (bytes made just above)


def test_private_key_copies_are_the_same_object():
    key = PrivateKey.generate(SuiteId.X25519_AESGCM)
    assert copy.copy(key) is key and copy.deepcopy(key) is key


def test_keys_are_immutable():
    key = PrivateKey.generate(SuiteId.X25519_AESGCM)
    with pytest.raises(AttributeError):
        key._suite = SuiteId.PQ_HYBRID  # type: ignore[misc]
    with pytest.raises(AttributeError):
        key.public_key()._encoded = b""  # type: ignore[misc]


@suites
def test_repr_shows_suite_and_key_id_only(suite):
    key = PrivateKey.generate(suite)
    assert repr(key) == f"PrivateKey(suite={suite.name}, key_id={key.key_id.hex()})"
    assert str(key) == repr(key)
    assert repr(key.public_key()) == f"PublicKey(suite={suite.name}, key_id={key.key_id.hex()})"
