"""Key pairs of the two HPKE suites: generation, derivation, encodings (FORMAT.md 2), key ids.
Private keys never show their bytes in repr/str and refuse pickling (no leak into logs/Redis).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from typing import NoReturn, Protocol

from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.errors import MalformedKey

KEY_ID_LEN = 8
DATA_KEY_LEN = 32
AEAD_TAG_LEN = 16
MIN_DERIVE_SEED_LEN = 32

_MLKEM_SEED_LEN = 64
_MLKEM_PUBLIC_LEN = 1184
_X25519_LEN = 32
_DERIVE_INFO = b"wvi private key v1\x00"


class SuiteId(enum.IntEnum):
    """The suite byte of keys and envelopes. Values are part of the stored format."""

    PQ_HYBRID = 1
    """HPKE ML-KEM-768+X25519, HKDF-SHA256, ChaCha20-Poly1305; body ChaCha20-Poly1305."""

    X25519_AESGCM = 2
    """HPKE DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM; body AES-256-GCM."""


DEFAULT_SUITE = SuiteId.PQ_HYBRID


class BodyAead(Protocol):
    """What envelope bodies need of an AEAD (ChaCha20Poly1305 and AESGCM both fit)."""

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


@dataclass(frozen=True)
class SuiteSpec:
    """Everything the envelope needs to know about one suite."""

    suite: SuiteId
    hpke: hpke.Suite
    body_aead: type[ChaCha20Poly1305] | type[AESGCM]
    public_len: int
    private_len: int
    wrap_len: int
    """HPKE single-shot output for a data key: enc || AEAD(data key) || tag."""

    def body_cipher(self, key: bytes) -> BodyAead:
        return self.body_aead(key)


def _spec(
    suite: SuiteId,
    kem: hpke.KEM,
    aead: hpke.AEAD,
    body: type[ChaCha20Poly1305] | type[AESGCM],
    public_len: int,
    private_len: int,
) -> SuiteSpec:
    return SuiteSpec(
        suite=suite,
        hpke=hpke.Suite(kem, hpke.KDF.HKDF_SHA256, aead),
        body_aead=body,
        public_len=public_len,
        private_len=private_len,
        wrap_len=kem.enc_length() + DATA_KEY_LEN + AEAD_TAG_LEN,
    )


_SPECS: dict[SuiteId, SuiteSpec] = {
    SuiteId.PQ_HYBRID: _spec(
        SuiteId.PQ_HYBRID, hpke.KEM.MLKEM768_X25519, hpke.AEAD.CHACHA20_POLY1305,
        ChaCha20Poly1305, _MLKEM_PUBLIC_LEN + _X25519_LEN, _MLKEM_SEED_LEN + _X25519_LEN,
    ),
    SuiteId.X25519_AESGCM: _spec(
        SuiteId.X25519_AESGCM, hpke.KEM.X25519, hpke.AEAD.AES_256_GCM,
        AESGCM, _X25519_LEN, _X25519_LEN,
    ),
}


def suite_spec(suite: SuiteId) -> SuiteSpec:
    """The parameters of `suite` (a KeyError here is a bug: SuiteId values are all mapped)."""
    return _SPECS[suite]


def parse_suite(value: int) -> SuiteId | None:
    """The SuiteId for a stored suite byte, or None if unknown."""
    try:
        return SuiteId(value)
    except ValueError:
        return None


HpkePublic = x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey
HpkePrivate = x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey


def _key_id(encoded_public: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(encoded_public)
    return digest.finalize()[:KEY_ID_LEN]


def _frozen(self: object, name: str, value: object) -> NoReturn:
    raise AttributeError(f"{type(self).__name__} is immutable")


class PublicKey:
    """A recipient's public key. Immutable; equal when suite and key bytes are equal."""

    __slots__ = ("_encoded", "_hpke_key", "_key_id", "_suite")
    __setattr__ = _frozen

    _suite: SuiteId
    _encoded: bytes
    _hpke_key: HpkePublic
    _key_id: bytes

    def __init__(self, suite: SuiteId, raw: bytes, hpke_key: HpkePublic) -> None:
        """Internal: use PublicKey.from_bytes or PrivateKey.public_key()."""
        encoded = bytes([suite]) + raw
        object.__setattr__(self, "_suite", suite)
        object.__setattr__(self, "_encoded", encoded)
        object.__setattr__(self, "_hpke_key", hpke_key)
        object.__setattr__(self, "_key_id", _key_id(encoded))

    @property
    def suite(self) -> SuiteId:
        return self._suite

    @property
    def key_id(self) -> bytes:
        """First 8 bytes of SHA-256(to_bytes()); names the recipient inside envelopes."""
        return self._key_id

    @property
    def hpke_key(self) -> HpkePublic:
        """The `cryptography` key object HPKE encrypts to."""
        return self._hpke_key

    def to_bytes(self) -> bytes:
        """Suite byte followed by the raw public key bytes (FORMAT.md, section 2)."""
        return self._encoded

    @classmethod
    def from_bytes(cls, data: bytes) -> PublicKey:
        """Decode to_bytes() output; raises MalformedKey for anything else."""
        data = bytes(data)
        if not data:
            raise MalformedKey("public key is empty")
        suite = parse_suite(data[0])
        if suite is None:
            raise MalformedKey("public key names an unknown suite")
        raw = data[1:]
        if len(raw) != suite_spec(suite).public_len:
            raise MalformedKey("public key has the wrong length for its suite")
        try:
            if suite is SuiteId.PQ_HYBRID:
                mlkem_pub = mlkem.MLKEM768PublicKey.from_public_bytes(raw[:_MLKEM_PUBLIC_LEN])
                x_pub = x25519.X25519PublicKey.from_public_bytes(raw[_MLKEM_PUBLIC_LEN:])
                key: HpkePublic = hpke.MLKEM768X25519PublicKey(mlkem_pub, x_pub)
            else:
                key = x25519.X25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise MalformedKey("public key bytes are not a valid key") from None
        return cls(suite, raw, key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicKey):
            return NotImplemented
        return self._encoded == other._encoded

    def __hash__(self) -> int:
        return hash(self._encoded)

    def __repr__(self) -> str:
        return f"PublicKey(suite={self._suite.name}, key_id={self._key_id.hex()})"

    def __reduce__(self) -> tuple[object, tuple[bytes]]:
        # Public keys may be cached or queued freely; they pickle as their encoding.
        return (PublicKey.from_bytes, (self._encoded,))


class PrivateKey:
    """A private key. repr/str show only suite and key id; pickling is refused."""

    __slots__ = ("_hpke_key", "_public", "_seed", "_suite")
    __setattr__ = _frozen

    _suite: SuiteId
    _seed: bytes
    _hpke_key: HpkePrivate
    _public: PublicKey

    def __init__(self, suite: SuiteId, seed: bytes) -> None:
        """Internal: use generate, derive or from_bytes. `seed` is to_bytes() minus suite."""
        if len(seed) != suite_spec(suite).private_len:
            raise MalformedKey("private key has the wrong length for its suite")
        public: PublicKey
        if suite is SuiteId.PQ_HYBRID:
            try:
                mlkem_key = mlkem.MLKEM768PrivateKey.from_seed_bytes(seed[:_MLKEM_SEED_LEN])
            except ValueError:
                raise MalformedKey("private key bytes are not a valid key") from None
            x_key = x25519.X25519PrivateKey.from_private_bytes(seed[_MLKEM_SEED_LEN:])
            key: HpkePrivate = hpke.MLKEM768X25519PrivateKey(mlkem_key, x_key)
            mlkem_pub = mlkem_key.public_key()
            x_pub = x_key.public_key()
            raw_public = mlkem_pub.public_bytes_raw() + x_pub.public_bytes_raw()
            public = PublicKey(suite, raw_public, hpke.MLKEM768X25519PublicKey(mlkem_pub, x_pub))
        else:
            key = x25519.X25519PrivateKey.from_private_bytes(seed)
            x_pub = key.public_key()
            public = PublicKey(suite, x_pub.public_bytes_raw(), x_pub)
        object.__setattr__(self, "_suite", suite)
        object.__setattr__(self, "_seed", bytes(seed))
        object.__setattr__(self, "_hpke_key", key)
        object.__setattr__(self, "_public", public)

    @classmethod
    def generate(cls, suite: SuiteId = DEFAULT_SUITE) -> PrivateKey:
        """A fresh random key of `suite`."""
        return cls(suite, secrets.token_bytes(suite_spec(suite).private_len))

    @classmethod
    def derive(cls, seed: bytes, suite: SuiteId = DEFAULT_SUITE) -> PrivateKey:
        """The key deterministically derived from `seed` (>= 32 bytes of uniform key material).

        HKDF-SHA256(salt=none, info="wvi private key v1" 0x00 suite) expands the seed to the
        suite's private key bytes. Used for the worker key (receipts.py). ValueError if short.
        """
        if len(seed) < MIN_DERIVE_SEED_LEN:
            raise ValueError("PrivateKey.derive needs at least 32 bytes of key material")
        hkdf = HKDF(
            algorithm=hashes.SHA256(),
            length=suite_spec(suite).private_len,
            salt=None,
            info=_DERIVE_INFO + bytes([suite]),
        )
        return cls(suite, hkdf.derive(bytes(seed)))

    @classmethod
    def from_bytes(cls, data: bytes) -> PrivateKey:
        """Decode to_bytes() output; raises MalformedKey for anything else."""
        data = bytes(data)
        if not data:
            raise MalformedKey("private key is empty")
        suite = parse_suite(data[0])
        if suite is None:
            raise MalformedKey("private key names an unknown suite")
        return cls(suite, data[1:])

    def to_bytes(self) -> bytes:
        """Suite byte followed by the seeds (FORMAT.md, section 2). Secret: seal it."""
        return bytes([self._suite]) + self._seed

    def public_key(self) -> PublicKey:
        return self._public

    @property
    def suite(self) -> SuiteId:
        return self._suite

    @property
    def key_id(self) -> bytes:
        """The key id of the public key."""
        return self._public.key_id

    @property
    def hpke_key(self) -> HpkePrivate:
        """The `cryptography` key object HPKE decrypts with."""
        return self._hpke_key

    def __repr__(self) -> str:
        return f"PrivateKey(suite={self._suite.name}, key_id={self.key_id.hex()})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        # A pickled key would land in Redis or a job payload in the clear (DESIGN 4.2).
        raise TypeError("PrivateKey cannot be pickled; use crypto.session.seal_session_keys")

    def __copy__(self) -> PrivateKey:
        return self

    def __deepcopy__(self, memo: object) -> PrivateKey:
        return self
