"""No secret or plaintext in any repr, str, exception message or formatted traceback.

Each test plants recognisable values, provokes the package's objects and errors, and
searches every string a log line or exception report could contain.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

import pytest

from crypto import envelope, hierarchy, pseudonyms, receipts, session
from crypto.errors import CryptoError
from crypto.keys import PrivateKey, SuiteId

PLAINTEXT = b"PLANTED-PLAINTEXT my name is Siti, line 4, dorm B"
PASSWORD = "PLANTED-PASSWORD-hunter2"
RECEIPT = "8675309011223344"
CONTEXT = b"report-body:1"
DESK = "desk-1"

_KEYS = {suite: [PrivateKey.generate(suite) for _ in range(3)] for suite in SuiteId}


def _forbidden(*keys: PrivateKey, extra: tuple[str, ...] = ()) -> list[str]:
    values = [PLAINTEXT.decode(), PLAINTEXT.hex(), PASSWORD, RECEIPT, "8675 3090 1122 3344",
              *extra]
    for key in keys:
        secret = key.to_bytes()
        values += [secret.hex(), secret[1:17].hex(), repr(secret[1:17])[2:-1]]
    return values


def _texts_of(exc: BaseException) -> str:
    parts = [str(exc), repr(exc), *map(str, exc.args)]
    parts += traceback.format_exception(exc)
    return "\n".join(parts)


def _assert_clean(text: str, forbidden: list[str], where: str = "") -> None:
    for value in forbidden:
        assert value not in text, where


def _provoked_errors() -> tuple[list[tuple[str, Callable[[], object]]], list[str]]:
    pq, x = _KEYS[SuiteId.PQ_HYBRID], _KEYS[SuiteId.X25519_AESGCM]
    blob = envelope.seal(PLAINTEXT, [pq[0].public_key()], context=CONTEXT)
    account = hierarchy.wrap_account_key(pq[0], PASSWORD, profile=hierarchy.TEST_FAST)
    secret = hierarchy.new_recovery_secret()
    recovery = hierarchy.wrap_desk_key_for_recovery(
        pq[1], secret, desk_id=DESK, profile=hierarchy.TEST_FAST
    )
    other_secret = hierarchy.new_recovery_secret()
    typo = ("Z" if secret[0] != "Z" else "Y") + secret[1:]
    session_key = session.new_session_key()
    session_blob = session.seal_session_keys({"desk": pq[1]}, session_key, session_id="s")
    sym_key = pseudonyms.messagesid_key(bytes(32), "SM1")
    sym_blob = pseudonyms.seal_with_key(sym_key, PLAINTEXT, context=b"c")
    return [
        ("DecryptionFailed/context", lambda: envelope.open_sealed(blob, pq[0], context=b"x")),
        ("DecryptionFailed/tamper", lambda: envelope.open_sealed(
            blob[:-1] + bytes([blob[-1] ^ 1]), pq[0], context=CONTEXT)),
        ("NotARecipient", lambda: envelope.open_sealed(blob, pq[2], context=CONTEXT)),
        ("MalformedEnvelope", lambda: envelope.open_sealed(blob[:40], pq[0], context=CONTEXT)),
        ("UnknownFormat", lambda: envelope.open_sealed(b"\x09" + blob[1:], pq[0], context=CONTEXT)),
        ("UnknownSuite", lambda: envelope.open_sealed(
            blob[:1] + b"\x09" + blob[2:], pq[0], context=CONTEXT)),
        ("NoRecipients", lambda: envelope.seal(PLAINTEXT, [], context=CONTEXT)),
        ("InputTooLarge", lambda: envelope.seal(
            PLAINTEXT * 30000, [pq[0].public_key()], context=CONTEXT)),
        ("SuiteMismatch", lambda: envelope.seal(
            PLAINTEXT, [pq[0].public_key(), x[0].public_key()], context=CONTEXT)),
        ("WrongPassword/account", lambda: hierarchy.unwrap_account_key(account, PASSWORD + "x")),
        ("WrongPassword/recovery", lambda: hierarchy.recover_desk_key(
            recovery, other_secret, desk_id=DESK)),
        ("RecoveryTypo", lambda: hierarchy.recover_desk_key(recovery, typo, desk_id=DESK)),
        ("MalformedRecoverySecret", lambda: hierarchy.parse_recovery_secret(PASSWORD)),
        ("MalformedReceipt", lambda: receipts.normalize_receipt(RECEIPT + "9")),
        ("MalformedReceipt/letters", lambda: receipts.normalize_receipt(PASSWORD)),
        ("MalformedKey", lambda: PrivateKey.from_bytes(pq[0].to_bytes()[:-1])),
        ("DecryptionFailed/session", lambda: session.open_session_keys(
            session_blob, session.new_session_key(), session_id="s")),
        ("DecryptionFailed/symmetric", lambda: pseudonyms.open_with_key(
            sym_key, sym_blob, context=b"other")),
        ("MalformedBlob/account", lambda: hierarchy.unwrap_account_key(account[:20], PASSWORD)),
    ], [secret, other_secret, typo, session_key.hex(), sym_key.hex()]


def test_every_provoked_error_is_a_crypto_error_without_secrets():
    cases, planted = _provoked_errors()
    forbidden = _forbidden(*_KEYS[SuiteId.PQ_HYBRID], *_KEYS[SuiteId.X25519_AESGCM],
                           extra=tuple(planted) + tuple(p.replace("-", "") for p in planted[:3]))
    seen: set[str] = set()
    for name, provoke in cases:
        with pytest.raises(CryptoError) as caught:
            provoke()
        seen.add(type(caught.value).__name__)
        _assert_clean(_texts_of(caught.value), forbidden, name)
    assert seen >= {
        "DecryptionFailed", "NotARecipient", "MalformedEnvelope", "UnknownFormat",
        "UnknownSuite", "NoRecipients", "InputTooLarge", "SuiteMismatch", "WrongPassword",
        "RecoveryTypo", "MalformedRecoverySecret", "MalformedReceipt", "MalformedKey",
        "MalformedBlob",
    }


@pytest.mark.parametrize("suite", list(SuiteId), ids=lambda s: s.name)
def test_key_reprs_show_no_key_bytes(suite):
    key = _KEYS[suite][0]
    forbidden = _forbidden(key)
    for text in (repr(key), str(key), f"{key}", f"{key!r}", repr(key.public_key())):
        _assert_clean(text, forbidden)


def test_receipt_secrets_repr_shows_no_secrets():
    derived = receipts.derive_receipt_secrets(
        RECEIPT, install_salt=bytes(16), profile=hierarchy.TEST_FAST
    )
    forbidden = _forbidden(derived.worker_key, extra=(derived.lookup_hash.hex(),))
    for text in (repr(derived), str(derived), f"{derived}"):
        _assert_clean(text, forbidden)
    assert "hidden" in repr(derived)


def test_profiles_and_envelope_metadata_show_nothing_secret():
    assert "hunter" not in repr(hierarchy.PRODUCTION)
    blob = envelope.seal(PLAINTEXT, [_KEYS[SuiteId.PQ_HYBRID][0].public_key()], context=CONTEXT)
    _assert_clean(repr(envelope.recipients(blob)), _forbidden(*_KEYS[SuiteId.PQ_HYBRID]))
