"""Keyed pseudonyms (DESIGN 4.4) for phone numbers, IPs and Twilio MessageSids, and the small
symmetric blob sealed under a derived key. Numbers themselves: envelope.seal to the courier key.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto.errors import DecryptionFailed, InputTooLarge, MalformedBlob, UnknownFormat
from crypto.keys import AEAD_TAG_LEN

MIN_PEPPER_LEN = 16
SYMMETRIC_KEY_LEN = 32
NONCE_LEN = 12
FORMAT_SYMMETRIC_V1 = 0x41
MAX_PLAINTEXT = 1024 * 1024
IPV6_RATE_PREFIX = 64

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_SENDER_LABEL = b"wvi sender tag v1\x00"
_IP_DAY_LABEL = b"wvi ip day key v1\x00"
_IP_TAG_LABEL = b"wvi ip rate tag v1\x00"
_SID_KEY_LABEL = b"wvi messagesid key v1\x00"
_SID_TAG_LABEL = b"wvi messagesid tag v1\x00"
_SYMMETRIC_LABEL = b"wvi symmetric v1\x00"


def _hmac(key: bytes, message: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(message)
    return mac.finalize()


def _check_pepper(pepper: bytes) -> bytes:
    if len(pepper) < MIN_PEPPER_LEN:
        raise ValueError("pepper must be at least 16 bytes")
    return bytes(pepper)


def sender_tag(pepper: bytes, e164: str) -> str:
    """Hex HMAC-SHA256(pepper, "wvi sender tag v1" 0x00 || number): threads an SMS conversation.

    `e164` must already be canonical E.164 ("+60123456789"): the caller normalizes it
    (phonenumbers) and strips a WhatsApp sender's "whatsapp:" prefix, so that SMS and WhatsApp
    from one number share a tag. ValueError if it is not E.164.
    """
    if not _E164.fullmatch(e164):
        raise ValueError("sender_tag needs a canonical E.164 number (+ and up to 15 digits)")
    return _hmac(_check_pepper(pepper), _SENDER_LABEL + e164.encode("ascii")).hex()


def _rate_network(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        # Not an address (e.g. "-" when the server saw none): tag the text itself, marked so it
        # can never equal an address's canonical form. Raising here would turn into a 500.
        return "not-an-ip:" + ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # One subscriber usually holds a whole /64: limit the /64, not the address.
        return str(ipaddress.IPv6Network((address, IPV6_RATE_PREFIX), strict=False))
    return str(address)


def ip_rate_tag(pepper: bytes, ip: str, *, day: datetime.date) -> str:
    """Hex HMAC of the IP under a key derived for `day`, so tags cannot be linked across days.

    IPv4 (and IPv4-mapped IPv6) addresses are tagged as they are; IPv6 addresses by their /64.
    Text that is no IP address (e.g. "-") is tagged as it is, so all such requests share a tag.
    """
    day_key = _hmac(_check_pepper(pepper), _IP_DAY_LABEL + day.isoformat().encode("ascii"))
    return _hmac(day_key, _IP_TAG_LABEL + _rate_network(ip).encode("utf-8", "surrogatepass")).hex()


def messagesid_key(pepper: bytes, message_sid: str) -> bytes:
    """32-byte key to seal the cached reply to a Twilio message under (seal_with_key)."""
    return _hmac(_check_pepper(pepper), _SID_KEY_LABEL + message_sid.encode("utf-8"))


def messagesid_tag(pepper: bytes, message_sid: str) -> str:
    """Hex tag to store instead of the MessageSid itself, so the DB cannot derive the key."""
    return _hmac(_check_pepper(pepper), _SID_TAG_LABEL + message_sid.encode("utf-8")).hex()


def _aad(context: bytes) -> bytes:
    return bytes([FORMAT_SYMMETRIC_V1]) + _SYMMETRIC_LABEL + context


def seal_with_key(key: bytes, plaintext: bytes, *, context: bytes) -> bytes:
    """ChaCha20-Poly1305 under a 32-byte key: format byte, nonce, ciphertext. FORMAT.md, 7."""
    if len(key) != SYMMETRIC_KEY_LEN:
        raise ValueError("key must be 32 bytes")
    if len(plaintext) > MAX_PLAINTEXT:
        raise InputTooLarge("plaintext exceeds MAX_PLAINTEXT")
    nonce = secrets.token_bytes(NONCE_LEN)
    ciphertext = ChaCha20Poly1305(bytes(key)).encrypt(nonce, bytes(plaintext), _aad(context))
    return bytes([FORMAT_SYMMETRIC_V1]) + nonce + ciphertext


def open_with_key(key: bytes, blob: bytes, *, context: bytes) -> bytes:
    """The plaintext of a seal_with_key blob. DecryptionFailed, UnknownFormat, MalformedBlob."""
    blob = bytes(blob)
    if not blob:
        raise MalformedBlob("sealed blob is empty")
    if blob[0] != FORMAT_SYMMETRIC_V1:
        raise UnknownFormat("not a symmetric blob of a known format")
    if len(blob) < 1 + NONCE_LEN + AEAD_TAG_LEN:
        raise MalformedBlob("sealed blob is truncated")
    if len(blob) > 1 + NONCE_LEN + MAX_PLAINTEXT + AEAD_TAG_LEN:
        raise InputTooLarge("sealed blob exceeds the plaintext limit")
    if len(key) != SYMMETRIC_KEY_LEN:
        raise DecryptionFailed("blob does not open with this key and context")
    try:
        return ChaCha20Poly1305(bytes(key)).decrypt(
            blob[1 : 1 + NONCE_LEN], blob[1 + NONCE_LEN :], _aad(context)
        )
    except InvalidTag:
        raise DecryptionFailed("blob does not open with this key and context") from None
