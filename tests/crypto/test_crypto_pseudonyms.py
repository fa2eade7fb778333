"""Keyed pseudonyms and the symmetric blob: stable, keyed, scoped, and tamper-evident."""

from __future__ import annotations

import datetime

import pytest

from crypto.errors import CryptoError, DecryptionFailed, InputTooLarge, UnknownFormat
from crypto.pseudonyms import (
    MAX_PLAINTEXT,
    ip_rate_tag,
    messagesid_key,
    messagesid_tag,
    open_with_key,
    seal_with_key,
    sender_tag,
)

PEPPER = bytes(range(32))
OTHER_PEPPER = bytes(range(1, 33))
NUMBER = "+60123456789"
DAY = datetime.date(2025, 3, 1)


def test_sender_tag_is_stable_hex():
    tag = sender_tag(PEPPER, NUMBER)
    assert tag == sender_tag(PEPPER, NUMBER)
    assert len(tag) == 64
    int(tag, 16)


def test_sender_tag_differs_with_pepper_and_number():
    assert sender_tag(PEPPER, NUMBER) != sender_tag(OTHER_PEPPER, NUMBER)
    assert sender_tag(PEPPER, NUMBER) != sender_tag(PEPPER, "+60123456788")


@pytest.mark.parametrize("raw", ["whatsapp:+60123456789", "60123456789", "+6012 345 6789", ""])
def test_sender_tag_refuses_non_e164_input(raw):
    with pytest.raises(ValueError, match=r"E\.164"):
        sender_tag(PEPPER, raw)


def test_short_pepper_is_refused():
    with pytest.raises(ValueError, match="pepper"):
        sender_tag(b"short", NUMBER)


def test_ip_tag_is_stable_within_a_day_and_differs_across_days():
    same_day = ip_rate_tag(PEPPER, "203.0.113.7", day=DAY)
    assert same_day == ip_rate_tag(PEPPER, "203.0.113.7", day=DAY)
    next_day = DAY + datetime.timedelta(days=1)
    assert ip_rate_tag(PEPPER, "203.0.113.7", day=DAY) != ip_rate_tag(
        PEPPER, "203.0.113.7", day=next_day
    )


def test_ip_tag_differs_with_pepper_and_address():
    assert ip_rate_tag(PEPPER, "203.0.113.7", day=DAY) != ip_rate_tag(
        OTHER_PEPPER, "203.0.113.7", day=DAY
    )
    assert ip_rate_tag(PEPPER, "203.0.113.7", day=DAY) != ip_rate_tag(
        PEPPER, "203.0.113.8", day=DAY
    )


def test_ipv6_is_tagged_by_its_64_bit_prefix_and_mapped_ipv4_as_ipv4():
    assert ip_rate_tag(PEPPER, "2001:db8:1:2::1", day=DAY) == ip_rate_tag(
        PEPPER, "2001:0db8:0001:0002:ffff::9", day=DAY
    )
    assert ip_rate_tag(PEPPER, "2001:db8:1:2::1", day=DAY) != ip_rate_tag(
        PEPPER, "2001:db8:1:3::1", day=DAY
    )
    assert ip_rate_tag(PEPPER, "::ffff:203.0.113.7", day=DAY) == ip_rate_tag(
        PEPPER, "203.0.113.7", day=DAY
    )


def test_ip_tag_of_text_that_is_no_address_is_one_shared_tag_not_an_error():
    assert ip_rate_tag(PEPPER, "-", day=DAY) == ip_rate_tag(PEPPER, "-", day=DAY)
    assert ip_rate_tag(PEPPER, "-", day=DAY) != ip_rate_tag(PEPPER, "203.0.113.7", day=DAY)


def test_messagesid_key_is_32_stable_bytes_and_tag_is_unrelated():
    key = messagesid_key(PEPPER, "SM0123456789abcdef0123456789abcdef")
    assert len(key) == 32
    assert key == messagesid_key(PEPPER, "SM0123456789abcdef0123456789abcdef")
    assert key != messagesid_key(OTHER_PEPPER, "SM0123456789abcdef0123456789abcdef")
    assert key.hex() != messagesid_tag(PEPPER, "SM0123456789abcdef0123456789abcdef")


def test_symmetric_blob_round_trips():
    key = messagesid_key(PEPPER, "SM1")
    blob = seal_with_key(key, b"Terima kasih. Laporan anda diterima.", context=b"reply")
    assert open_with_key(key, blob, context=b"reply") == b"Terima kasih. Laporan anda diterima."


def test_symmetric_blob_wrong_key_or_context_fails():
    key = messagesid_key(PEPPER, "SM1")
    blob = seal_with_key(key, b"reply text", context=b"reply")
    with pytest.raises(DecryptionFailed):
        open_with_key(messagesid_key(PEPPER, "SM2"), blob, context=b"reply")
    with pytest.raises(DecryptionFailed):
        open_with_key(key, blob, context=b"other")


def test_symmetric_blob_every_flipped_byte_and_truncation_fails():
    key = messagesid_key(PEPPER, "SM1")
    blob = seal_with_key(key, b"reply text", context=b"reply")
    for position in range(len(blob)):
        tampered = blob[:position] + bytes([blob[position] ^ 1]) + blob[position + 1 :]
        with pytest.raises(CryptoError):
            open_with_key(key, tampered, context=b"reply")
    for length in range(len(blob)):
        with pytest.raises(CryptoError):
            open_with_key(key, blob[:length], context=b"reply")


def test_symmetric_blob_of_another_kind_is_unknown_format():
    with pytest.raises(UnknownFormat):
        open_with_key(bytes(32), b"\x01" + bytes(40), context=b"reply")


def test_symmetric_plaintext_over_limit_is_refused():
    with pytest.raises(InputTooLarge):
        seal_with_key(bytes(32), bytes(MAX_PLAINTEXT + 1), context=b"reply")
