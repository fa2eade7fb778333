"""RFC 9180 chain: the published vector pins pyhpke, pyhpke pins cryptography, and an
independent reading of FORMAT.md (pyhpke + the stated offsets) opens our X25519 envelopes.

pyhpke is an independent pure-Python HPKE; it is used here only, never in crypto/.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pyhpke import AEADId, CipherSuite, KDFId, KEMId, KEMKey

from crypto.envelope import open_sealed, seal
from crypto.keys import PrivateKey, SuiteId

# RFC 9180, Appendix A.1.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, Base mode.
A1_IKM_E = "7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234"
A1_SK_EM = "52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736"
A1_PK_EM = "37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431"
A1_IKM_R = "6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037"
A1_SK_RM = "4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8"
A1_PK_RM = "3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d"
A1_INFO = "4f6465206f6e2061204772656369616e2055726e"  # "Ode on a Grecian Urn"
A1_PT = "4265617574792069732074727574682c20747275746820626561757479"  # "Beauty is truth, ..."
A1_AAD_0 = "436f756e742d30"  # "Count-0"
A1_CT_0 = (
    "f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a"
)

_AEADS = [
    (AEADId.AES128_GCM, hpke.AEAD.AES_128_GCM),
    (AEADId.AES256_GCM, hpke.AEAD.AES_256_GCM),
    (AEADId.CHACHA20_POLY1305, hpke.AEAD.CHACHA20_POLY1305),
]
aeads = pytest.mark.parametrize(("py_aead", "ca_aead"), _AEADS, ids=lambda a: str(a))


def _h(text: str) -> bytes:
    return bytes.fromhex(text)


def _pyhpke_suite(aead: AEADId) -> CipherSuite:
    return CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, aead)


def test_pyhpke_derives_the_rfc_9180_a1_key_pairs():
    suite = _pyhpke_suite(AEADId.AES128_GCM)
    ephemeral = suite.kem.derive_key_pair(_h(A1_IKM_E))
    recipient = suite.kem.derive_key_pair(_h(A1_IKM_R))
    assert ephemeral.private_key.to_private_bytes().hex() == A1_SK_EM
    assert ephemeral.public_key.to_public_bytes().hex() == A1_PK_EM
    assert recipient.private_key.to_private_bytes().hex() == A1_SK_RM
    assert recipient.public_key.to_public_bytes().hex() == A1_PK_RM


def test_pyhpke_reproduces_the_rfc_9180_a1_ciphertext():
    suite = _pyhpke_suite(AEADId.AES128_GCM)
    pk_r = suite.kem.deserialize_public_key(_h(A1_PK_RM))
    enc, sender = suite.create_sender_context(
        pk_r, info=_h(A1_INFO), eks=suite.kem.derive_key_pair(_h(A1_IKM_E))
    )
    assert enc.hex() == A1_PK_EM
    assert sender.seal(_h(A1_PT), aad=_h(A1_AAD_0)).hex() == A1_CT_0

    recipient = suite.create_recipient_context(
        _h(A1_PK_EM), suite.kem.deserialize_private_key(_h(A1_SK_RM)), info=_h(A1_INFO)
    )
    assert recipient.open(_h(A1_CT_0), aad=_h(A1_AAD_0)) == _h(A1_PT)


def test_cryptography_opens_the_rfc_9180_a1_ciphertext():
    # The public single-shot API takes no aad and the vector has one; cryptography's test
    # helper with aad is private, so this check skips if a release drops it.
    decrypt_with_aad = getattr(hpke.rust_openssl.hpke, "_decrypt_with_aad", None)
    if decrypt_with_aad is None:
        pytest.skip("cryptography no longer exposes _decrypt_with_aad")
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk_r = x25519.X25519PrivateKey.from_private_bytes(_h(A1_SK_RM))
    plaintext = decrypt_with_aad(
        suite, _h(A1_PK_EM) + _h(A1_CT_0), sk_r, info=_h(A1_INFO), aad=_h(A1_AAD_0)
    )
    assert plaintext == _h(A1_PT)


def test_pyhpke_output_with_the_rfc_keys_and_empty_aad_opens_with_cryptography():
    """The RFC's deterministic keys, run through pyhpke (pinned above) with the empty aad
    that cryptography's single-shot API uses: cryptography must open it."""
    suite = _pyhpke_suite(AEADId.AES128_GCM)
    pk_r = suite.kem.deserialize_public_key(_h(A1_PK_RM))
    enc, sender = suite.create_sender_context(
        pk_r, info=_h(A1_INFO), eks=suite.kem.derive_key_pair(_h(A1_IKM_E))
    )
    ciphertext = sender.seal(_h(A1_PT))
    ca_suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk_r = x25519.X25519PrivateKey.from_private_bytes(_h(A1_SK_RM))
    assert ca_suite.decrypt(enc + ciphertext, sk_r, info=_h(A1_INFO)) == _h(A1_PT)


@aeads
def test_cryptography_single_shot_opens_with_pyhpke(py_aead, ca_aead):
    sk_r = x25519.X25519PrivateKey.generate()
    info = b"wvi interop"
    sealed = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, ca_aead).encrypt(
        b"data key bytes", sk_r.public_key(), info=info
    )
    enc, ciphertext = sealed[:32], sealed[32:]
    suite = _pyhpke_suite(py_aead)
    recipient = suite.create_recipient_context(
        enc, KEMKey.from_pyca_cryptography_key(sk_r), info=info
    )
    assert recipient.open(ciphertext, aad=b"") == b"data key bytes"


@aeads
def test_pyhpke_output_opens_with_cryptography_single_shot(py_aead, ca_aead):
    sk_r = x25519.X25519PrivateKey.generate()
    info = b"wvi interop"
    suite = _pyhpke_suite(py_aead)
    enc, sender = suite.create_sender_context(
        KEMKey.from_pyca_cryptography_key(sk_r.public_key()), info=info
    )
    ciphertext = sender.seal(b"data key bytes", aad=b"")
    ca_suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, ca_aead)
    assert ca_suite.decrypt(enc + ciphertext, sk_r, info=info) == b"data key bytes"


def test_x25519_envelope_opens_by_reading_format_md_with_pyhpke():
    """Parse an envelope by the offsets in FORMAT.md 1.1 and unwrap with pyhpke."""
    desk = PrivateKey.generate(SuiteId.X25519_AESGCM)
    context = b"report-body:99"
    blob = seal(b"my employer keeps my passport", [desk.public_key()], context=context)

    assert blob[0:3] == bytes([0x01, 0x02, 0x01])  # format, suite, one recipient
    assert blob[3:11] == desk.key_id
    wrap_len = int.from_bytes(blob[11:13], "big")
    assert wrap_len == 32 + 32 + 16
    wrap = blob[13 : 13 + wrap_len]
    nonce, body = blob[13 + wrap_len : 13 + wrap_len + 12], blob[13 + wrap_len + 12 :]

    info = b"wvi envelope v1 data key\x00" + bytes([0x01, 0x02]) + context
    suite = _pyhpke_suite(AEADId.AES256_GCM)
    recipient = suite.create_recipient_context(
        wrap[:32], suite.kem.deserialize_private_key(desk.to_bytes()[1:]), info=info
    )
    data_key = recipient.open(wrap[32:], aad=b"")
    body_aad = bytes([0x01, 0x02]) + context
    assert AESGCM(data_key).decrypt(nonce, body, body_aad) == b"my employer keeps my passport"
    assert open_sealed(blob, desk, context=context) == b"my employer keeps my passport"
