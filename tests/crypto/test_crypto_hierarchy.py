"""Key hierarchy: account keys under passwords, desk keys under members and recovery, rotation."""

from __future__ import annotations

import pytest

from crypto import hierarchy
from crypto.envelope import open_sealed, recipients, seal
from crypto.errors import (
    CryptoError,
    DecryptionFailed,
    MalformedBlob,
    NotARecipient,
    UnknownFormat,
    WrongPassword,
)
from crypto.hierarchy import (
    PRODUCTION,
    TEST_FAST,
    Argon2Profile,
    needs_rewrap,
    new_recovery_secret,
    recover_desk_key,
    rewrap_account_key,
    rewrap_for_rotation,
    rotate_desk_key,
    stored_profile,
    unwrap_account_key,
    unwrap_desk_key,
    wrap_account_key,
    wrap_desk_key,
    wrap_desk_key_for_recovery,
)
from crypto.keys import PrivateKey, SuiteId

PASSWORD = "correct horse battery staple"
DESK = "desk-penang-electronics"


def _same_key(a: PrivateKey, b: PrivateKey) -> bool:
    return a.to_bytes() == b.to_bytes()


def test_production_profile_is_rfc_9106_second_recommendation():
    assert (PRODUCTION.time_cost, PRODUCTION.memory_cost_kib, PRODUCTION.lanes) == (3, 65536, 4)


def test_test_fast_profile_is_the_library_minimum():
    assert (TEST_FAST.time_cost, TEST_FAST.memory_cost_kib, TEST_FAST.lanes) == (1, 8, 1)


@pytest.mark.parametrize("suite", list(SuiteId), ids=lambda s: s.name)
def test_account_key_unwraps_with_its_password(suite):
    account = PrivateKey.generate(suite)
    blob = wrap_account_key(account, PASSWORD, profile=TEST_FAST)
    assert _same_key(unwrap_account_key(blob, PASSWORD), account)


def test_wrong_password_is_wrong_password():
    blob = wrap_account_key(PrivateKey.generate(), PASSWORD, profile=TEST_FAST)
    with pytest.raises(WrongPassword):
        unwrap_account_key(blob, PASSWORD + "!")


def test_password_is_compared_after_nfkc_normalization():
    blob = wrap_account_key(PrivateKey.generate(), "ｐａｓｓ ｗｏｒｄ", profile=TEST_FAST)
    unwrap_account_key(blob, "pass word")


def test_password_change_keeps_access_and_drops_old_password():
    account = PrivateKey.generate()
    blob = wrap_account_key(account, PASSWORD, profile=TEST_FAST)
    rewrapped = rewrap_account_key(blob, PASSWORD, "new passphrase", profile=TEST_FAST)
    assert _same_key(unwrap_account_key(rewrapped, "new passphrase"), account)
    with pytest.raises(WrongPassword):
        unwrap_account_key(rewrapped, PASSWORD)


def test_password_change_with_wrong_old_password_fails():
    blob = wrap_account_key(PrivateKey.generate(), PASSWORD, profile=TEST_FAST)
    with pytest.raises(WrongPassword):
        rewrap_account_key(blob, "guess", "new passphrase", profile=TEST_FAST)


def test_stored_profile_reads_parameters_back_and_flags_rewrap():
    custom = Argon2Profile(time_cost=2, memory_cost_kib=64, lanes=2, name="custom")
    blob = wrap_account_key(PrivateKey.generate(), PASSWORD, profile=custom)
    stored = stored_profile(blob)
    assert (stored.time_cost, stored.memory_cost_kib, stored.lanes) == (2, 64, 2)
    assert unwrap_account_key(blob, PASSWORD)  # costs come from the blob, not a caller
    assert needs_rewrap(blob, TEST_FAST)
    assert not needs_rewrap(blob, custom)


def test_header_tampering_is_detected_not_silently_used():
    blob = bytearray(wrap_account_key(PrivateKey.generate(), PASSWORD, profile=TEST_FAST))
    blob[-20] ^= 1  # ciphertext
    with pytest.raises(WrongPassword):
        unwrap_account_key(bytes(blob), PASSWORD)
    salted = bytearray(wrap_account_key(PrivateKey.generate(), PASSWORD, profile=TEST_FAST))
    salted[14] ^= 1  # salt
    with pytest.raises(WrongPassword):
        unwrap_account_key(bytes(salted), PASSWORD)


def test_absurd_stored_costs_are_refused_before_argon2():
    blob = wrap_account_key(PrivateKey.generate(), PASSWORD, profile=TEST_FAST)
    huge_memory = blob[:5] + (2**31).to_bytes(4, "big") + blob[9:]
    with pytest.raises(MalformedBlob):
        unwrap_account_key(huge_memory, PASSWORD)


def test_account_wrap_and_recovery_wrap_are_not_interchangeable():
    desk = PrivateKey.generate()
    secret = new_recovery_secret()
    recovery = wrap_desk_key_for_recovery(desk, secret, desk_id=DESK, profile=TEST_FAST)
    with pytest.raises(UnknownFormat):
        unwrap_account_key(recovery, secret)


@pytest.mark.parametrize("blob", [b"", b"\x21", b"\x21" + bytes(40), b"\x22" + bytes(80)])
def test_malformed_account_blobs_raise_crypto_errors(blob):
    with pytest.raises(CryptoError):
        unwrap_account_key(blob, PASSWORD)


def test_member_unwraps_desk_key():
    member, desk = PrivateKey.generate(), PrivateKey.generate()
    blob = wrap_desk_key(desk, member.public_key(), desk_id=DESK)
    assert _same_key(unwrap_desk_key(blob, member, desk_id=DESK), desk)


def test_desk_wrap_is_bound_to_its_desk_id():
    member, desk = PrivateKey.generate(), PrivateKey.generate()
    blob = wrap_desk_key(desk, member.public_key(), desk_id=DESK)
    with pytest.raises(DecryptionFailed):
        unwrap_desk_key(blob, member, desk_id="desk-other")


def test_removed_member_cannot_unwrap_from_another_members_wrap():
    """Removing a member deletes their wrap; the wraps that remain are not theirs to open."""
    desk, staying, removed = PrivateKey.generate(), PrivateKey.generate(), PrivateKey.generate()
    staying_wrap = wrap_desk_key(desk, staying.public_key(), desk_id=DESK)
    with pytest.raises(NotARecipient):
        unwrap_desk_key(staying_wrap, removed, desk_id=DESK)


def test_after_rotation_new_reports_are_closed_to_the_removed_members_old_desk_key():
    old_desk = PrivateKey.generate()
    new_desk = PrivateKey.generate()
    context = b"report-body:1001"
    report_after_rotation = seal(b"new report", [new_desk.public_key()], context=context)
    with pytest.raises(NotARecipient):
        open_sealed(report_after_rotation, old_desk, context=context)


def test_rotation_moves_existing_reports_to_the_new_desk_key():
    old_desk, new_desk, other_desk = (PrivateKey.generate() for _ in range(3))
    items = [(seal(f"report {i}".encode(), [old_desk.public_key(), other_desk.public_key()],
                   context=f"report-body:{i}".encode()), f"report-body:{i}".encode())
             for i in range(3)]
    moved = list(rotate_desk_key(old_desk, items, new_desk_public=new_desk.public_key()))
    for i, ((_, context), blob) in enumerate(zip(items, moved, strict=True)):
        assert recipients(blob) == [other_desk.key_id, new_desk.key_id]
        assert open_sealed(blob, new_desk, context=context) == f"report {i}".encode()
        with pytest.raises(NotARecipient):
            open_sealed(blob, old_desk, context=context)


def test_rotation_run_twice_leaves_moved_blobs_unchanged():
    old_desk, new_desk = PrivateKey.generate(), PrivateKey.generate()
    blob = seal(b"report", [old_desk.public_key()], context=b"c")
    moved = rewrap_for_rotation(blob, old_desk, new_desk.public_key(), context=b"c")
    assert rewrap_for_rotation(moved, old_desk, new_desk.public_key(), context=b"c") == moved


@pytest.mark.parametrize("suite", list(SuiteId), ids=lambda s: s.name)
def test_recovery_secret_restores_the_desk_key(suite):
    desk = PrivateKey.generate(suite)
    secret = new_recovery_secret()
    blob = wrap_desk_key_for_recovery(desk, secret, desk_id=DESK, profile=TEST_FAST)
    assert _same_key(recover_desk_key(blob, secret, desk_id=DESK), desk)


def test_recovery_accepts_the_secret_typed_loosely():
    desk = PrivateKey.generate()
    secret = new_recovery_secret()
    blob = wrap_desk_key_for_recovery(desk, secret, desk_id=DESK, profile=TEST_FAST)
    typed = " ".join(secret.lower().split("-")).replace("0", "o").replace("1", "l")
    assert _same_key(recover_desk_key(blob, typed, desk_id=DESK), desk)


def test_another_desks_recovery_secret_is_wrong_password():
    blob = wrap_desk_key_for_recovery(
        PrivateKey.generate(), new_recovery_secret(), desk_id=DESK, profile=TEST_FAST
    )
    with pytest.raises(WrongPassword):
        recover_desk_key(blob, new_recovery_secret(), desk_id=DESK)


def test_recovery_wrap_is_bound_to_its_desk_id():
    secret = new_recovery_secret()
    blob = wrap_desk_key_for_recovery(
        PrivateKey.generate(), secret, desk_id=DESK, profile=TEST_FAST
    )
    with pytest.raises(WrongPassword):
        recover_desk_key(blob, secret, desk_id="desk-other")


def test_recovery_typo_is_reported_before_any_argon2(monkeypatch):
    secret = new_recovery_secret()
    blob = wrap_desk_key_for_recovery(
        PrivateKey.generate(), secret, desk_id=DESK, profile=TEST_FAST
    )

    def no_argon2(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("Argon2id ran before the checksum was checked")

    monkeypatch.setattr(hierarchy, "argon2id", no_argon2)
    typo = ("Z" if secret[0] != "Z" else "Y") + secret[1:]
    with pytest.raises(hierarchy.RecoveryTypo):
        recover_desk_key(blob, typo, desk_id=DESK)
