"""Recovery secrets: shape, tolerant parsing, and a checksum that catches every single typo."""

from __future__ import annotations

import re

import pytest

from crypto.errors import MalformedRecoverySecret, RecoveryTypo
from crypto.hierarchy import (
    _BECH32M_CONST,
    _CROCKFORD,
    _hrp_expand,
    _polymod,
    new_recovery_secret,
    parse_recovery_secret,
)

SHAPE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){7}")
_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_verifies(text: str, constant: int) -> bool:
    hrp, _, data = text.lower().rpartition("1")
    return _polymod(_hrp_expand(hrp) + [_BECH32_CHARSET.index(c) for c in data]) == constant


@pytest.mark.parametrize(
    ("text", "constant"),
    [
        ("A12UEL5L", 1),  # BIP-173 valid bech32
        ("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", 1),  # BIP-173
        ("A1LQFN3A", _BECH32M_CONST),  # BIP-350 valid bech32m
        ("abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx", _BECH32M_CONST),  # BIP-350
    ],
)
def test_checksum_polynomial_matches_published_bech32_vectors(text, constant):
    assert _bech32_verifies(text, constant)


def test_new_secret_is_eight_groups_of_four_crockford_characters():
    secret = new_recovery_secret()
    assert SHAPE.fullmatch(secret), "shape"
    assert len(parse_recovery_secret(secret)) == 26


def test_new_secrets_differ():
    assert len({new_recovery_secret() for _ in range(50)}) == 50


def test_parse_ignores_case_spaces_and_dashes():
    secret = new_recovery_secret()
    canonical = parse_recovery_secret(secret)
    plain = secret.replace("-", "")
    spaced = secret.replace("-", " ")
    for typed in (secret.lower(), plain, " ".join(plain), f"  {secret}  ", spaced):
        assert parse_recovery_secret(typed) == canonical


def test_parse_reads_o_as_zero_and_i_l_as_one():
    secret = new_recovery_secret()
    while "0" not in secret or "1" not in secret:
        secret = new_recovery_secret()
    confused = secret.replace("0", "O").replace("1", "i", 1).replace("1", "L")
    assert parse_recovery_secret(confused) == parse_recovery_secret(secret)


def test_every_single_character_substitution_is_a_typo():
    secret = new_recovery_secret().replace("-", "")
    for position, original in enumerate(secret):
        for replacement in _CROCKFORD:
            if replacement == original:
                continue
            typed = secret[:position] + replacement + secret[position + 1 :]
            with pytest.raises(RecoveryTypo):
                parse_recovery_secret(typed)


def test_every_transposition_of_neighbours_is_a_typo():
    for _ in range(20):
        secret = new_recovery_secret().replace("-", "")
        for i in range(len(secret) - 1):
            if secret[i] == secret[i + 1]:
                continue
            typed = secret[:i] + secret[i + 1] + secret[i] + secret[i + 2 :]
            with pytest.raises(RecoveryTypo):
                parse_recovery_secret(typed)


def test_typo_is_also_a_malformed_recovery_secret():
    assert issubclass(RecoveryTypo, MalformedRecoverySecret)


@pytest.mark.parametrize(
    "typed",
    ["", "ABCD", "U" * 32, "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-678", "!" + "A" * 31,
     "A" * 33],
)
def test_unparseable_secrets_are_malformed_not_typos(typed):
    with pytest.raises(MalformedRecoverySecret) as caught:
        parse_recovery_secret(typed)
    assert type(caught.value) is MalformedRecoverySecret


def test_a_dropped_character_is_malformed():
    secret = new_recovery_secret()
    with pytest.raises(MalformedRecoverySecret):
        parse_recovery_secret(secret[1:])
