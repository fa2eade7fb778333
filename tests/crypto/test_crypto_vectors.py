"""Golden vectors (written once by make_vectors.py): today's code must still read them."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from crypto import hierarchy, pseudonyms, receipts, session
from crypto.envelope import open_sealed, recipients
from crypto.keys import PrivateKey, PublicKey

VECTORS = Path(__file__).resolve().parent / "vectors"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def _profile(data: dict[str, Any]) -> hierarchy.Argon2Profile:
    return hierarchy.Argon2Profile(name="vector", **data["profile"])


@pytest.mark.parametrize("name", ["envelope_pq_hybrid.json", "envelope_x25519_aesgcm.json"])
def test_golden_envelope_opens_for_every_recipient(name):
    vector = _load(name)
    blob, context = bytes.fromhex(vector["blob"]), bytes.fromhex(vector["context"])
    keys = [PrivateKey.from_bytes(bytes.fromhex(k)) for k in vector["private_keys"]]
    assert [k.public_key().to_bytes().hex() for k in keys] == vector["public_keys"]
    assert recipients(blob) == [k.key_id for k in keys]
    for key in keys:
        assert open_sealed(blob, key, context=context).hex() == vector["plaintext"]


def test_golden_public_keys_decode():
    vector = _load("envelope_pq_hybrid.json")
    for encoded in vector["public_keys"]:
        assert PublicKey.from_bytes(bytes.fromhex(encoded)).to_bytes().hex() == encoded


def test_golden_account_wrap_unwraps():
    vector = _load("account_wrap.json")
    key = hierarchy.unwrap_account_key(bytes.fromhex(vector["blob"]), vector["password"])
    assert key.to_bytes().hex() == vector["private_key"]


def test_golden_desk_wrap_unwraps():
    vector = _load("desk_wrap.json")
    member = PrivateKey.from_bytes(bytes.fromhex(vector["member_private_key"]))
    desk = hierarchy.unwrap_desk_key(
        bytes.fromhex(vector["blob"]), member, desk_id=vector["desk_id"]
    )
    assert desk.to_bytes().hex() == vector["desk_private_key"]


def test_golden_recovery_wrap_recovers():
    vector = _load("recovery_wrap.json")
    assert hierarchy.parse_recovery_secret(vector["secret"]).decode() == vector["canonical_secret"]
    desk = hierarchy.recover_desk_key(
        bytes.fromhex(vector["blob"]), vector["secret"], desk_id=vector["desk_id"]
    )
    assert desk.to_bytes().hex() == vector["desk_private_key"]


def test_golden_receipt_secrets_are_rederived_exactly():
    vector = _load("receipt_secrets.json")
    derived = receipts.derive_receipt_secrets(
        vector["receipt"], install_salt=bytes.fromhex(vector["install_salt"]),
        profile=_profile(vector),
    )
    assert derived.lookup_hash.hex() == vector["lookup_hash"]
    assert derived.worker_key.to_bytes().hex() == vector["worker_private_key"]
    assert derived.worker_key.public_key().to_bytes().hex() == vector["worker_public_key"]


def test_golden_session_blob_opens():
    vector = _load("session_blob.json")
    opened = session.open_session_keys(
        bytes.fromhex(vector["blob"]), bytes.fromhex(vector["session_key"]),
        session_id=vector["session_id"],
    )
    assert {name: key.to_bytes().hex() for name, key in opened.items()} == vector["keys"]


def test_golden_pseudonyms_are_rederived_exactly_and_blob_opens():
    vector = _load("pseudonyms.json")
    pepper = bytes.fromhex(vector["pepper"])
    assert pseudonyms.sender_tag(pepper, vector["e164"]) == vector["sender_tag"]
    day = datetime.date.fromisoformat(vector["day"])
    assert pseudonyms.ip_rate_tag(pepper, vector["ip"], day=day) == vector["ip_rate_tag"]
    key = pseudonyms.messagesid_key(pepper, vector["message_sid"])
    assert key.hex() == vector["messagesid_key"]
    assert pseudonyms.messagesid_tag(pepper, vector["message_sid"]) == vector["messagesid_tag"]
    opened = pseudonyms.open_with_key(
        key, bytes.fromhex(vector["blob"]), context=bytes.fromhex(vector["context"])
    )
    assert opened.hex() == vector["plaintext"]
