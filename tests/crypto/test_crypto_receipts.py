"""Receipts: typed back in any listed digit script, and the secrets one Argon2id derives."""

from __future__ import annotations

import re

import pytest

from crypto.errors import MalformedReceipt
from crypto.hierarchy import TEST_FAST
from crypto.receipts import (
    RECEIPT_DIGITS,
    derive_receipt_secrets,
    format_receipt,
    new_install_salt,
    new_receipt,
    normalize_receipt,
)

RECEIPT = "1234567890123456"

# Each script's 0-9, as a worker's phone keyboard would type them.
DIGIT_SCRIPTS = {
    "ascii": "0123456789",
    "full-width": "０１２３４５６７８９",
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "extended-arabic-indic": "۰۱۲۳۴۵۶۷۸۹",
    "devanagari": "०१२३४५६७८९",
    "bengali": "০১২৩৪৫৬৭৮৯",
    "thai": "๐๑๒๓๔๕๖๗๘๙",
    "burmese": "၀၁၂၃၄၅၆၇၈၉",
}


def _in_script(receipt: str, digits: str) -> str:
    return "".join(digits[int(d)] for d in receipt)


@pytest.mark.parametrize("script", list(DIGIT_SCRIPTS))
def test_receipt_in_each_digit_script_normalizes_to_ascii(script):
    typed = _in_script(RECEIPT, DIGIT_SCRIPTS[script])
    assert normalize_receipt(typed) == RECEIPT


@pytest.mark.parametrize("script", list(DIGIT_SCRIPTS))
def test_each_script_maps_every_digit(script):
    typed = _in_script("0123456789012345", DIGIT_SCRIPTS[script])
    assert normalize_receipt(typed) == "0123456789012345"


@pytest.mark.parametrize(
    "typed",
    [
        "1234 5678 9012 3456",
        "1234-5678-9012-3456",
        "1234.5678.9012.3456",
        "1234\u00a05678\u00a09012\u00a03456",  # no-break space
        "1234\u30005678\u30009012\u30003456",  # ideographic space
        "\u200f1234 5678 9012 3456\u200f",  # right-to-left marks from an Arabic keyboard
        " 12345678 90123456 ",
        "١٢٣٤-5678 ۹۰۱۲.३४५६",  # mixed scripts
    ],
)
def test_separators_are_ignored(typed):
    assert normalize_receipt(typed) == RECEIPT


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "123456789012345",  # 15 digits
        "12345678901234567",  # 17 digits
        "1234 5678 9012 345a",
        "ABCD EFGH IJKL MNOP",
        "1234/5678/9012/3456",
        "1234,5678,9012,3456",
        "１２３４５６７８９０１２３４５Ⅵ",  # roman numeral
        "𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗𝟎𝟏𝟐𝟑𝟒𝟓𝟔",  # mathematical bold digits: not a listed script
        "1" * 200,
    ],
)
def test_anything_else_is_malformed(typed):
    with pytest.raises(MalformedReceipt):
        normalize_receipt(typed)


def test_new_receipt_is_sixteen_ascii_digits():
    receipt = new_receipt()
    assert re.fullmatch(r"[0-9]{16}", receipt)
    assert RECEIPT_DIGITS == 16


def test_format_groups_in_fours():
    assert format_receipt(RECEIPT) == "1234 5678 9012 3456"
    assert format_receipt("١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦") == "1234 5678 9012 3456"


def test_secrets_are_stable_for_same_receipt_and_salt():
    salt = new_install_salt()
    first = derive_receipt_secrets(RECEIPT, install_salt=salt, profile=TEST_FAST)
    again = derive_receipt_secrets("1234 5678 9012 3456", install_salt=salt, profile=TEST_FAST)
    assert first.lookup_hash == again.lookup_hash
    assert len(first.lookup_hash) == 32
    assert first.worker_key.public_key() == again.worker_key.public_key()


def test_secrets_differ_for_another_salt():
    first = derive_receipt_secrets(RECEIPT, install_salt=new_install_salt(), profile=TEST_FAST)
    other = derive_receipt_secrets(RECEIPT, install_salt=new_install_salt(), profile=TEST_FAST)
    assert first.lookup_hash != other.lookup_hash
    assert first.worker_key.public_key() != other.worker_key.public_key()


def test_secrets_differ_for_another_receipt():
    salt = new_install_salt()
    first = derive_receipt_secrets(RECEIPT, install_salt=salt, profile=TEST_FAST)
    other = derive_receipt_secrets("1234567890123457", install_salt=salt, profile=TEST_FAST)
    assert first.lookup_hash != other.lookup_hash
    assert first.worker_key.public_key() != other.worker_key.public_key()


def test_lookup_hash_and_worker_key_are_independent_outputs():
    secrets = derive_receipt_secrets(RECEIPT, install_salt=new_install_salt(), profile=TEST_FAST)
    assert secrets.lookup_hash not in secrets.worker_key.to_bytes()


def test_short_install_salt_is_refused():
    with pytest.raises(ValueError, match="16 bytes"):
        derive_receipt_secrets(RECEIPT, install_salt=b"short", profile=TEST_FAST)


def test_install_salt_is_16_random_bytes():
    assert len(new_install_salt()) == 16
    assert new_install_salt() != new_install_salt()
