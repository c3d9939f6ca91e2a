"""Return-routability cryptography (RFC 6275 5.2.5, 5.2.6; RFC 4866; the EBU draft 4.1).

Pure functions on octets; no state, no I/O.  Nothing here logs or formats a key.
"""
from __future__ import annotations

import hashlib
import hmac

from .. import constants as C

HOME = 0x00     # the octet that ends the home keygen token's HMAC input
CARE_OF = 0x01  # ... and the care-of keygen token's


def keygen_token(kcn: bytes, address: bytes, nonce: bytes, which: int) -> bytes:
    """First(64, HMAC_SHA1(Kcn, address | nonce | which)), which = HOME or CARE_OF."""
    return hmac.new(kcn, address + nonce + bytes((which,)), hashlib.sha1).digest()[:C.TOKEN_LEN]


def home_keygen_token(kcn: bytes, home_address: bytes, nonce: bytes) -> bytes:
    return keygen_token(kcn, home_address, nonce, HOME)


def careof_keygen_token(kcn: bytes, careof_address: bytes, nonce: bytes) -> bytes:
    return keygen_token(kcn, careof_address, nonce, CARE_OF)


def kbm(home_token: bytes, careof_token: bytes | None) -> bytes:
    """Kbm = SHA1(home token | care-of token); with no care-of token (deregistration,
    and the draft's Early Binding Management Key) Kbm = SHA1(home token)."""
    return hashlib.sha1(home_token + (careof_token or b"")).digest()


def kbm_early_rfc4866(home_token: bytes) -> bytes:
    """The RFC 4866 flavour of the early key: SHA1(home token | 8 zero octets)."""
    return hashlib.sha1(home_token + bytes(C.TOKEN_LEN)).digest()


def authenticator(key: bytes, careof_address: bytes, correspondent: bytes, mh_data: bytes) -> bytes:
    """First(96, HMAC_SHA1(Kbm, care-of address | correspondent | MH data))."""
    return hmac.new(key, careof_address + correspondent + mh_data,
                    hashlib.sha1).digest()[:C.AUTHENTICATOR_LEN]


def same(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of MACs and tokens."""
    return hmac.compare_digest(a, b)
