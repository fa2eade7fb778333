"""Write the golden vectors under tests/crypto/vectors/ (run once; the output is committed).

    python tests/crypto/make_vectors.py

test_crypto_vectors.py opens every blob written here with today's code, so an accidental
change to a stored format, a label or a derivation fails a test. Re-running this script
overwrites the files: do it only for a deliberate, versioned format change.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from crypto import hierarchy, pseudonyms, receipts, session
from crypto.envelope import seal
from crypto.keys import PrivateKey, SuiteId

VECTORS = Path(__file__).resolve().parent / "vectors"
PROFILE = hierarchy.TEST_FAST
PLAINTEXT = (
    "Supervisor keeps our passports. Gaji tidak dibayar 3 bulan. 加班没有工资。"
).encode()


def _profile_json(profile: hierarchy.Argon2Profile) -> dict[str, Any]:
    return {
        "time_cost": profile.time_cost,
        "memory_cost_kib": profile.memory_cost_kib,
        "lanes": profile.lanes,
    }


def _envelope(suite: SuiteId) -> dict[str, Any]:
    keys = [PrivateKey.generate(suite) for _ in range(2)]
    context = f"report-body:golden-{suite.name.lower()}".encode()
    return {
        "description": f"envelope v1, suite {suite.name}, two recipients",
        "private_keys": [k.to_bytes().hex() for k in keys],
        "public_keys": [k.public_key().to_bytes().hex() for k in keys],
        "context": context.hex(),
        "plaintext": PLAINTEXT.hex(),
        "blob": seal(PLAINTEXT, [k.public_key() for k in keys], context=context).hex(),
    }


def _account_wrap() -> dict[str, Any]:
    key = PrivateKey.generate()
    password = "pässwörd – 密码 – 123"
    return {
        "description": "account key wrap v1 (Argon2id TEST_FAST profile)",
        "password": password,
        "profile": _profile_json(PROFILE),
        "private_key": key.to_bytes().hex(),
        "blob": hierarchy.wrap_account_key(key, password, profile=PROFILE).hex(),
    }


def _desk_wrap() -> dict[str, Any]:
    member, desk = PrivateKey.generate(), PrivateKey.generate()
    desk_id = "desk-golden"
    return {
        "description": "desk key wrapped to a member (envelope v1, desk context)",
        "desk_id": desk_id,
        "member_private_key": member.to_bytes().hex(),
        "desk_private_key": desk.to_bytes().hex(),
        "blob": hierarchy.wrap_desk_key(desk, member.public_key(), desk_id=desk_id).hex(),
    }


def _recovery_wrap() -> dict[str, Any]:
    desk = PrivateKey.generate()
    secret = hierarchy.new_recovery_secret()
    desk_id = "desk-golden"
    blob = hierarchy.wrap_desk_key_for_recovery(desk, secret, desk_id=desk_id, profile=PROFILE)
    return {
        "description": "desk recovery wrap v1 (Argon2id TEST_FAST profile)",
        "secret": secret,
        "canonical_secret": hierarchy.parse_recovery_secret(secret).decode("ascii"),
        "desk_id": desk_id,
        "profile": _profile_json(PROFILE),
        "desk_private_key": desk.to_bytes().hex(),
        "blob": blob.hex(),
    }


def _receipt_secrets() -> dict[str, Any]:
    receipt = "4821 0937 5566 1204"
    salt = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    derived = receipts.derive_receipt_secrets(receipt, install_salt=salt, profile=PROFILE)
    return {
        "description": "receipt -> lookup hash and worker key (Argon2id TEST_FAST profile)",
        "receipt": receipt,
        "install_salt": salt.hex(),
        "profile": _profile_json(PROFILE),
        "lookup_hash": derived.lookup_hash.hex(),
        "worker_private_key": derived.worker_key.to_bytes().hex(),
        "worker_public_key": derived.worker_key.public_key().to_bytes().hex(),
    }


def _session_blob() -> dict[str, Any]:
    session_key = session.new_session_key()
    keys = {"account": PrivateKey.generate(), "desk-golden": PrivateKey.generate()}
    return {
        "description": "session keys blob v1",
        "session_key": session_key.hex(),
        "session_id": "session-golden",
        "keys": {name: key.to_bytes().hex() for name, key in keys.items()},
        "blob": session.seal_session_keys(keys, session_key, session_id="session-golden").hex(),
    }


def _pseudonyms() -> dict[str, Any]:
    pepper = bytes(range(32))
    sid = "SM0123456789abcdef0123456789abcdef"
    key = pseudonyms.messagesid_key(pepper, sid)
    reply = b"Terima kasih. Laporan anda diterima."
    return {
        "description": "keyed pseudonyms and the symmetric blob v1",
        "pepper": pepper.hex(),
        "e164": "+60123456789",
        "sender_tag": pseudonyms.sender_tag(pepper, "+60123456789"),
        "ip": "203.0.113.7",
        "day": "2025-03-01",
        "ip_rate_tag": pseudonyms.ip_rate_tag(
            pepper, "203.0.113.7", day=datetime.date(2025, 3, 1)
        ),
        "message_sid": sid,
        "messagesid_key": key.hex(),
        "messagesid_tag": pseudonyms.messagesid_tag(pepper, sid),
        "context": b"sms-reply".hex(),
        "plaintext": reply.hex(),
        "blob": pseudonyms.seal_with_key(key, reply, context=b"sms-reply").hex(),
    }


def main() -> None:
    VECTORS.mkdir(exist_ok=True)
    outputs = {
        "envelope_pq_hybrid.json": _envelope(SuiteId.PQ_HYBRID),
        "envelope_x25519_aesgcm.json": _envelope(SuiteId.X25519_AESGCM),
        "account_wrap.json": _account_wrap(),
        "desk_wrap.json": _desk_wrap(),
        "recovery_wrap.json": _recovery_wrap(),
        "receipt_secrets.json": _receipt_secrets(),
        "session_blob.json": _session_blob(),
        "pseudonyms.json": _pseudonyms(),
    }
    for name, content in outputs.items():
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
        (VECTORS / name).write_text(text, encoding="utf-8")
        print(f"wrote {VECTORS / name}")


if __name__ == "__main__":
    main()
