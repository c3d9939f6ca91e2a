"""The ``ip xfrm state`` reader (Linux, e.g. a UMIP Mobile IPv6 stack's SAs).

One SA per block that starts ``src A dst B``; ESP blocks only (``proto esp``)::

    src 2001:db8:1::100 dst 2001:db8:2::1
            proto esp spi 0x00001001 reqid 1 mode transport
            replay-window 32 flag esn
            auth-trunc hmac(sha1) 0x0123...cdef 96
            enc cbc(aes) 0x0123...cdef

``aead rfc4106(gcm(aes)) KEY BITS`` gives AES-GCM with a BITS-bit ICV; ``auth`` without
``-trunc`` means a 96-bit ICV (Linux's default truncation).
"""

from __future__ import annotations

import re

from ebutool.core.errors import UsageError
from ebutool.esp.fields import checked, parse_key, parse_spi
from ebutool.esp.sa import DEFAULT_REPLAY_WINDOW, WILDCARD, EspSA, SecretKey

# Linux crypto names in ``ip xfrm state`` (enc/aead: name; auth: name and ICV bits).
XFRM_CIPHERS = {
    "ecb(cipher_null)": "null",
    "cipher_null": "null",
    "cbc(aes)": "aes-cbc",
    "rfc3686(ctr(aes))": "aes-ctr",
}
XFRM_AEAD = {"rfc4106(gcm(aes))": "aes-gcm-{bytes}"}
XFRM_INTEGRITY = {
    ("hmac(sha1)", 96): "hmac-sha1-96",
    ("hmac(sha256)", 128): "hmac-sha256-128",
    ("hmac(sha256)", 96): "hmac-sha256-96",
    ("cmac(aes)", 96): "aes-cmac-96",
    ("digest_null", 0): "null",
}
XFRM_AUTH_DEFAULT_BITS = 96  # ``auth`` without ``-trunc``: Linux truncates to 96 bits


_BLOCK_START = re.compile(r"^src\s+(\S+)\s+dst\s+(\S+)")


def parse_xfrm(text: str, where: str) -> list[EspSA]:
    sas: list[EspSA] = []
    blocks: list[tuple[int, list[str]]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if _BLOCK_START.match(line):
            blocks.append((lineno, [line]))
        elif blocks and line.strip():
            blocks[-1][1].append(line)
    for lineno, lines in blocks:
        here = f"{where} line {lineno}"
        m = _BLOCK_START.match(lines[0])
        assert m is not None
        fields: dict[str, object] = {"src": m.group(1), "dst": m.group(2)}
        for line in lines[1:]:
            words = line.split()
            _xfrm_line(words, fields, here)
        if fields.get("proto") != "esp":
            continue
        if "spi" not in fields:
            raise UsageError(f"{here}: an ESP state without an SPI")
        enc, enc_key = fields.get("enc", ("null", ""))  # type: ignore[misc]
        auth, auth_key, bits = fields.get("auth", ("null", "", 0))  # type: ignore[misc]
        if enc in XFRM_AEAD:
            encryption = XFRM_AEAD[enc].format(bytes=int(bits) // 8) if bits else enc
            integrity = "null"
        else:
            encryption = XFRM_CIPHERS.get(enc, enc)
            if auth == "null":
                integrity = "null"
            else:
                bits = int(bits) if bits else XFRM_AUTH_DEFAULT_BITS
                integrity = XFRM_INTEGRITY.get((auth, bits), f"{auth}-{bits}")
        key = parse_key(enc_key, here) if enc_key not in ("", '""') else SecretKey(b"")
        akey = parse_key(auth_key, here) if auth_key not in ("", '""') else SecretKey(b"")
        window = int(fields.get("replay-window", 0)) or DEFAULT_REPLAY_WINDOW  # type: ignore[call-overload]
        sa = EspSA(
            parse_spi(str(fields["spi"]), here),
            _end(str(fields["src"])),
            _end(str(fields["dst"])),
            encryption,
            key,
            integrity,
            akey,
            bool(fields.get("esn")),
            0,
            window,
            origin=here,
        )
        sas.append(checked(sa, here))
    return sas


def _end(address: str) -> str:
    """A state's address; the unspecified address ``::`` (as in ``sel src ::/0``) is any."""
    return WILDCARD if address in ("::", "0.0.0.0") else address


def _xfrm_line(words: list[str], fields: dict[str, object], here: str) -> None:
    """One line of a state block into ``fields``."""
    if not words:
        return
    head = words[0]
    if head == "proto":
        pairs = dict(zip(words[0::2], words[1::2], strict=False))
        fields["proto"] = pairs.get("proto")
        if "spi" in pairs:
            fields["spi"] = pairs["spi"]
        fields["mode"] = pairs.get("mode", "")
    elif head == "replay-window" and len(words) > 1:
        fields["replay-window"] = words[1] if words[1].isdigit() else "0"
        if "esn" in words[2:]:
            fields["esn"] = True
    elif head == "flag" and "esn" in words[1:]:
        fields["esn"] = True
    elif head == "anti-replay" and "esn" in words:
        fields["esn"] = True
    elif head == "enc" and len(words) >= 2:
        fields["enc"] = (words[1], words[2] if len(words) > 2 else "")
    elif head in ("auth", "auth-trunc") and len(words) >= 2:
        bits = words[3] if head == "auth-trunc" and len(words) > 3 else ""
        fields["auth"] = (words[1], words[2] if len(words) > 2 else "", bits)
    elif head == "aead" and len(words) >= 4:
        fields["enc"] = (words[1], words[2])
        fields["auth"] = ("null", "", words[3])
