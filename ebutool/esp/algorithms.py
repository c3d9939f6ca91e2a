"""The ESP algorithms ebutool decrypts and checks, all through ``cryptography``.

Encryption (RFC 4303 2.3, 2.4): NULL (RFC 2410), AES-CBC (RFC 3602), AES-CTR (RFC 3686,
the last 4 key octets are the nonce), AES-GCM with an 8, 12 or 16 octet ICV (RFC 4106,
the last 4 key octets are the salt; combined mode, the ICV is the GCM tag).
Integrity (separate ICV): NULL, HMAC-SHA1-96 (RFC 2404), HMAC-SHA-256-128 (RFC 4868),
HMAC-SHA-256-96 (the pre-RFC 4868 truncation Linux still offers), AES-CMAC-96 (RFC 4494).
Each algorithm is one table row; names are ebutool's canonical ones (SA files map their
own spellings to them, see :mod:`ebutool.esp.sa_files`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import cmac, hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher as _Cipher
from cryptography.hazmat.primitives.ciphers import algorithms, modes

AES_BLOCK = 16
ESP_ALIGN = 4  # RFC 4303 2.4: the trailer ends on a 4-octet boundary
NONCE_LEN = 4  # RFC 3686 nonce / RFC 4106 salt, taken from the key's end
COUNTER_IV_LEN = 8  # RFC 3686 and RFC 4106: the explicit IV in each packet
CTR_FIRST_BLOCK = (1).to_bytes(4, "big")  # RFC 3686 4: the block counter starts at 1


@dataclass(frozen=True)
class CipherSpec:
    name: str
    key_lengths: tuple[int, ...]  # octets, including a trailing nonce/salt
    iv_len: int  # explicit IV octets at the start of the payload
    block: int  # the plaintext (with trailer) is a multiple of this
    icv_len: int = 0  # AEAD: the tag that ends the packet
    mode: str = "null"  # "null", "cbc", "ctr", "gcm"

    @property
    def aead(self) -> bool:
        return self.mode == "gcm"

    def decrypt(self, key: bytes, iv: bytes, data: bytes, aad: bytes, tag: bytes) -> bytes:
        """Plaintext of ``data``; for GCM raises cryptography's InvalidTag when ``tag``
        does not verify ``aad`` and ``data``."""
        if self.mode == "null":
            return data
        if self.mode == "cbc":
            dec = _Cipher(_aes(key), modes.CBC(iv)).decryptor()
            return dec.update(data) + dec.finalize()
        if self.mode == "ctr":
            counter = key[-NONCE_LEN:] + iv + CTR_FIRST_BLOCK
            dec = _Cipher(_aes(key[:-NONCE_LEN]), modes.CTR(counter)).decryptor()
            return dec.update(data) + dec.finalize()
        nonce = key[-NONCE_LEN:] + iv
        gcm = modes.GCM(nonce, tag, min_tag_length=self.icv_len)
        dec = _Cipher(_aes(key[:-NONCE_LEN]), gcm).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(data) + dec.finalize()

    def encrypt(self, key: bytes, iv: bytes, data: bytes, aad: bytes) -> bytes:
        """Ciphertext of ``data`` (for GCM followed by the ICV-long tag): what a sender
        does, for ebutool synth's protected captures."""
        if self.mode == "null":
            return data
        if self.mode == "cbc":
            enc = _Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
            return enc.update(data) + enc.finalize()
        if self.mode == "ctr":
            counter = key[-NONCE_LEN:] + iv + CTR_FIRST_BLOCK
            enc = _Cipher(algorithms.AES(key[:-NONCE_LEN]), modes.CTR(counter)).encryptor()
            return enc.update(data) + enc.finalize()
        gcm = _Cipher(algorithms.AES(key[:-NONCE_LEN]), modes.GCM(key[-NONCE_LEN:] + iv))
        enc = gcm.encryptor()
        enc.authenticate_additional_data(aad)
        out = enc.update(data) + enc.finalize()
        return out + enc.tag[: self.icv_len]


_AES = (16, 24, 32)
_AES_NONCE = tuple(n + NONCE_LEN for n in _AES)

CIPHERS: dict[str, CipherSpec] = {
    "null": CipherSpec("null", (0,), 0, ESP_ALIGN),
    "aes-cbc": CipherSpec("aes-cbc", _AES, AES_BLOCK, AES_BLOCK, mode="cbc"),
    "aes-ctr": CipherSpec("aes-ctr", _AES_NONCE, COUNTER_IV_LEN, ESP_ALIGN, mode="ctr"),
    "aes-gcm-8": CipherSpec("aes-gcm-8", _AES_NONCE, COUNTER_IV_LEN, ESP_ALIGN, 8, "gcm"),
    "aes-gcm-12": CipherSpec("aes-gcm-12", _AES_NONCE, COUNTER_IV_LEN, ESP_ALIGN, 12, "gcm"),
    "aes-gcm-16": CipherSpec("aes-gcm-16", _AES_NONCE, COUNTER_IV_LEN, ESP_ALIGN, 16, "gcm"),
}


# Keyed objects kept per key (a run has a few SAs; their keys are in memory anyway, and
# are never shown): building them for each packet cost as much as the decryption.
KEYED_CACHE = 256


@functools.lru_cache(maxsize=KEYED_CACHE)
def _aes(key: bytes) -> algorithms.AES:
    return algorithms.AES(key)


def _hmac(algorithm: Callable[[], hashes.HashAlgorithm]) -> Callable[[bytes, bytes], bytes]:
    @functools.lru_cache(maxsize=KEYED_CACHE)
    def keyed(key: bytes) -> hmac.HMAC:
        return hmac.HMAC(key, algorithm())

    def mac(key: bytes, data: bytes) -> bytes:
        h = keyed(key).copy()  # the key schedule done once per key
        h.update(data)
        return h.finalize()

    return mac


def _aes_cmac(key: bytes, data: bytes) -> bytes:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


@dataclass(frozen=True)
class IntegritySpec:
    name: str
    icv_len: int  # octets of the (truncated) ICV
    key_lengths: tuple[int, ...]  # () = any length (HMAC takes any key)
    mac: Callable[[bytes, bytes], bytes] | None = None  # full MAC of (key, data)

    def icv(self, key: bytes, data: bytes) -> bytes:
        assert self.mac is not None
        return self.mac(key, data)[: self.icv_len]


INTEGRITY: dict[str, IntegritySpec] = {
    "null": IntegritySpec("null", 0, ()),
    "hmac-sha1-96": IntegritySpec("hmac-sha1-96", 12, (), _hmac(hashes.SHA1)),
    "hmac-sha256-128": IntegritySpec("hmac-sha256-128", 16, (), _hmac(hashes.SHA256)),
    "hmac-sha256-96": IntegritySpec("hmac-sha256-96", 12, (), _hmac(hashes.SHA256)),
    "aes-cmac-96": IntegritySpec("aes-cmac-96", 12, (16,), _aes_cmac),
}
