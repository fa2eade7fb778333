"""Sealed envelopes: round trips, recipient management and the errors each misuse raises."""

from __future__ import annotations

import pytest

from crypto.envelope import (
    MAX_PLAINTEXT,
    MAX_RECIPIENTS,
    NONCE_LEN,
    add_recipient,
    envelope_suite,
    open_sealed,
    recipients,
    remove_recipient,
    seal,
)
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
from crypto.keys import AEAD_TAG_LEN, PrivateKey, PublicKey, SuiteId

CONTEXT = b"report-body:42"
REPORT = "Wages unpaid for 3 months; supervisor took our passports. / 工资被拖欠".encode()

suites = pytest.mark.parametrize("suite", list(SuiteId), ids=lambda s: s.name)


def _tail(blob: bytes, plaintext_len: int) -> bytes:
    """Nonce and body: the bytes after the recipient list."""
    return blob[-(NONCE_LEN + plaintext_len + AEAD_TAG_LEN) :]


@suites
@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_every_recipient_opens_what_was_sealed(key_pool, suite, count):
    keys = key_pool[suite][:count]
    blob = seal(REPORT, [k.public_key() for k in keys], context=CONTEXT)
    assert [open_sealed(blob, k, context=CONTEXT) for k in keys] == [REPORT] * count


@suites
def test_empty_plaintext_round_trips(key_pool, suite):
    key = key_pool[suite][0]
    assert open_sealed(seal(b"", [key.public_key()], context=CONTEXT), key, context=CONTEXT) == b""


@suites
def test_plaintext_of_exactly_max_size_round_trips(key_pool, suite):
    key = key_pool[suite][0]
    plaintext = bytes(MAX_PLAINTEXT)
    blob = seal(plaintext, [key.public_key()], context=CONTEXT)
    assert open_sealed(blob, key, context=CONTEXT) == plaintext


def test_sealing_twice_gives_different_blobs(key_pool):
    public = key_pool[SuiteId.PQ_HYBRID][0].public_key()
    assert seal(REPORT, [public], context=CONTEXT) != seal(REPORT, [public], context=CONTEXT)


@suites
def test_recipients_lists_key_ids_in_order(key_pool, suite):
    keys = key_pool[suite][:3]
    blob = seal(REPORT, [k.public_key() for k in keys], context=CONTEXT)
    assert recipients(blob) == [k.key_id for k in keys]
    assert envelope_suite(blob) is suite


def test_a_recipient_given_twice_is_listed_once(key_pool):
    key = key_pool[SuiteId.X25519_AESGCM][0]
    blob = seal(REPORT, [key.public_key(), key.public_key()], context=CONTEXT)
    assert recipients(blob) == [key.key_id]


@suites
def test_wrong_context_fails_to_open(key_pool, suite):
    key = key_pool[suite][0]
    blob = seal(REPORT, [key.public_key()], context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        open_sealed(blob, key, context=b"report-body:43")


@suites
def test_wrong_context_fails_in_the_body_even_when_the_wrap_opens(key_pool, suite, monkeypatch):
    """The body AEAD binds the context on its own, not only through the HPKE info."""
    import crypto.envelope as envelope_module

    monkeypatch.setattr(envelope_module, "_wrap_info", lambda s, c: b"fixed" + bytes([s]))
    key = key_pool[suite][0]
    blob = seal(REPORT, [key.public_key()], context=CONTEXT)
    assert open_sealed(blob, key, context=CONTEXT) == REPORT
    with pytest.raises(DecryptionFailed):
        open_sealed(blob, key, context=b"report-body:43")


@suites
def test_key_that_is_not_a_recipient_cannot_open(key_pool, suite):
    sealed_to, outsider = key_pool[suite][0], key_pool[suite][1]
    blob = seal(REPORT, [sealed_to.public_key()], context=CONTEXT)
    with pytest.raises(NotARecipient):
        open_sealed(blob, outsider, context=CONTEXT)


def test_key_of_the_other_suite_is_not_a_recipient(key_pool):
    blob = seal(REPORT, [key_pool[SuiteId.PQ_HYBRID][0].public_key()], context=CONTEXT)
    with pytest.raises(NotARecipient):
        open_sealed(blob, key_pool[SuiteId.X25519_AESGCM][0], context=CONTEXT)


@suites
def test_add_recipient_leaves_nonce_and_body_identical_and_new_recipient_opens(key_pool, suite):
    desk, new_desk = key_pool[suite][0], key_pool[suite][1]
    blob = seal(REPORT, [desk.public_key()], context=CONTEXT)
    grown = add_recipient(blob, desk, new_desk.public_key(), context=CONTEXT)
    assert _tail(grown, len(REPORT)) == _tail(blob, len(REPORT))
    assert recipients(grown) == [desk.key_id, new_desk.key_id]
    assert open_sealed(grown, new_desk, context=CONTEXT) == REPORT
    assert open_sealed(grown, desk, context=CONTEXT) == REPORT


@suites
def test_add_recipient_already_present_returns_blob_unchanged(key_pool, suite):
    desk = key_pool[suite][0]
    blob = seal(REPORT, [desk.public_key()], context=CONTEXT)
    assert add_recipient(blob, desk, desk.public_key(), context=CONTEXT) == blob


@suites
def test_add_recipient_needs_an_opener_that_is_a_recipient(key_pool, suite):
    desk, outsider, new_desk = key_pool[suite][:3]
    blob = seal(REPORT, [desk.public_key()], context=CONTEXT)
    with pytest.raises(NotARecipient):
        add_recipient(blob, outsider, new_desk.public_key(), context=CONTEXT)


@suites
def test_add_recipient_refuses_when_body_does_not_open_under_context(key_pool, suite, monkeypatch):
    import crypto.envelope as envelope_module

    desk, new_desk = key_pool[suite][:2]
    # Make wraps ignore the context, so only the body check can notice the wrong context.
    monkeypatch.setattr(envelope_module, "_wrap_info", lambda s, c: b"fixed" + bytes([s]))
    blob = seal(REPORT, [desk.public_key()], context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        add_recipient(blob, desk, new_desk.public_key(), context=b"other")


def test_add_recipient_of_another_suite_is_refused(key_pool):
    desk = key_pool[SuiteId.PQ_HYBRID][0]
    blob = seal(REPORT, [desk.public_key()], context=CONTEXT)
    with pytest.raises(SuiteMismatch):
        add_recipient(blob, desk, key_pool[SuiteId.X25519_AESGCM][0].public_key(), context=CONTEXT)


def test_add_recipient_beyond_the_maximum_is_refused():
    keys = [PrivateKey.generate(SuiteId.X25519_AESGCM) for _ in range(MAX_RECIPIENTS + 1)]
    blob = seal(REPORT, [k.public_key() for k in keys[:MAX_RECIPIENTS]], context=CONTEXT)
    with pytest.raises(TooManyRecipients):
        add_recipient(blob, keys[0], keys[-1].public_key(), context=CONTEXT)


@suites
def test_removed_recipient_is_no_longer_a_recipient(key_pool, suite):
    kept, removed = key_pool[suite][:2]
    blob = seal(REPORT, [kept.public_key(), removed.public_key()], context=CONTEXT)
    shrunk = remove_recipient(blob, removed.key_id)
    with pytest.raises(NotARecipient):
        open_sealed(shrunk, removed, context=CONTEXT)
    assert open_sealed(shrunk, kept, context=CONTEXT) == REPORT
    assert _tail(shrunk, len(REPORT)) == _tail(blob, len(REPORT))


def test_removing_an_absent_key_id_is_not_a_recipient(key_pool):
    keys = key_pool[SuiteId.X25519_AESGCM]
    blob = seal(REPORT, [keys[0].public_key()], context=CONTEXT)
    with pytest.raises(NotARecipient):
        remove_recipient(blob, keys[1].key_id)


def test_removing_the_last_recipient_is_refused(key_pool):
    key = key_pool[SuiteId.X25519_AESGCM][0]
    blob = seal(REPORT, [key.public_key()], context=CONTEXT)
    with pytest.raises(NoRecipients):
        remove_recipient(blob, key.key_id)


def test_mixed_suite_recipients_are_refused(key_pool):
    mixed = [key_pool[SuiteId.PQ_HYBRID][0].public_key(),
             key_pool[SuiteId.X25519_AESGCM][0].public_key()]
    with pytest.raises(SuiteMismatch):
        seal(REPORT, mixed, context=CONTEXT)


def test_no_recipients_is_refused():
    with pytest.raises(NoRecipients):
        seal(REPORT, [], context=CONTEXT)


def test_more_than_max_recipients_is_refused():
    keys = [PrivateKey.generate(SuiteId.X25519_AESGCM) for _ in range(MAX_RECIPIENTS + 1)]
    with pytest.raises(TooManyRecipients):
        seal(REPORT, [k.public_key() for k in keys], context=CONTEXT)


def test_too_many_recipients_is_an_input_too_large():
    assert issubclass(TooManyRecipients, InputTooLarge)


def test_plaintext_over_one_mebibyte_is_refused(key_pool):
    assert MAX_PLAINTEXT == 1024 * 1024
    with pytest.raises(InputTooLarge):
        seal(bytes(MAX_PLAINTEXT + 1), [key_pool[SuiteId.PQ_HYBRID][0].public_key()],
             context=CONTEXT)


@suites
def test_unknown_format_byte_is_unknown_format(key_pool, suite):
    key = key_pool[suite][0]
    blob = seal(REPORT, [key.public_key()], context=CONTEXT)
    with pytest.raises(UnknownFormat):
        open_sealed(b"\x02" + blob[1:], key, context=CONTEXT)


@suites
def test_unknown_suite_byte_is_unknown_suite(key_pool, suite):
    key = key_pool[suite][0]
    blob = seal(REPORT, [key.public_key()], context=CONTEXT)
    with pytest.raises(UnknownSuite):
        open_sealed(blob[:1] + b"\x07" + blob[2:], key, context=CONTEXT)


@suites
def test_zero_recipient_count_is_malformed(key_pool, suite):
    key = key_pool[suite][0]
    blob = seal(REPORT, [key.public_key()], context=CONTEXT)
    with pytest.raises(MalformedEnvelope):
        recipients(blob[:2] + b"\x00" + blob[3:])


def test_duplicate_recipient_entries_are_malformed(key_pool):
    key = key_pool[SuiteId.X25519_AESGCM][0]
    blob = seal(REPORT, [key.public_key()], context=CONTEXT)
    entry = blob[3 : 3 + 10 + 80]
    doubled = blob[:2] + b"\x02" + entry + entry + blob[3 + 90 :]
    with pytest.raises(MalformedEnvelope):
        open_sealed(doubled, key, context=CONTEXT)


@suites
def test_low_order_x25519_public_key_cannot_be_sealed_to(key_pool, suite):
    good = key_pool[suite][0].public_key().to_bytes()
    low_order = PublicKey.from_bytes(good[:-32] + bytes(32))
    with pytest.raises(MalformedKey):
        seal(REPORT, [low_order], context=CONTEXT)
