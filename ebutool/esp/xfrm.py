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
from ebutool.esp.sa import WILDCARD, EspSA, SecretKey

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
        fields: dict[str, str] = {"src": m.group(1), "dst": m.group(2)}
        for line in lines[1:]:
            words = line.split()
            _xfrm_line(words, fields, here)
        if fields.get("proto") != "esp":
            continue
        if "spi" not in fields:
            raise UsageError(f"{here}: an ESP state without an SPI")
        enc, auth = fields.get("enc", "null"), fields.get("auth", "null")
        bits = _number(fields.get("bits", ""), here, "ICV length")
        if enc in XFRM_AEAD:
            encryption = XFRM_AEAD[enc].format(bytes=bits // 8) if bits else enc
            integrity = "null"
        else:
            encryption = XFRM_CIPHERS.get(enc, enc)
            if auth == "null":
                integrity = "null"
            else:
                bits = bits or XFRM_AUTH_DEFAULT_BITS
                integrity = XFRM_INTEGRITY.get((auth, bits), f"{auth}-{bits}")
        key, akey = (
            parse_key(k, here) if k not in ("", '""') else SecretKey(b"")
            for k in (fields.get("enc_key", ""), fields.get("auth_key", ""))
        )
        window = _number(fields.get("replay-window", ""), here, "replay-window")
        sa = EspSA(
            parse_spi(str(fields["spi"]), here),
            _end(str(fields["src"])),
            _end(str(fields["dst"])),
            encryption,
            key,
            integrity,
            akey,
            "esn" in fields,
            0,
            window or None,  # 0 or none: the run's default (--esp-replay-window)
            origin=here,
        )
        sas.append(checked(sa, here))
    return sas


def _end(address: str) -> str:
    """A state's address; the unspecified address ``::`` (as in ``sel src ::/0``) is any."""
    return WILDCARD if address in ("::", "0.0.0.0") else address


def _number(text: str, where: str, what: str) -> int:
    """A decimal field of the output (empty: 0)."""
    if not text:
        return 0
    if not text.isdigit():
        raise UsageError(f"{where}: {what} {text!r} is not a number")
    return int(text)


def _xfrm_line(words: list[str], fields: dict[str, str], here: str) -> None:
    """One line of a state block into ``fields`` (all text; keys are hex text)."""
    if not words:
        return
    head = words[0]
    if head == "proto":
        pairs = dict(zip(words[0::2], words[1::2], strict=False))
        fields["proto"] = pairs.get("proto", "")
        if "spi" in pairs:
            fields["spi"] = pairs["spi"]
        fields["mode"] = pairs.get("mode", "")
    elif head == "replay-window" and len(words) > 1:
        fields["replay-window"] = words[1]
        if "esn" in words[2:]:
            fields["esn"] = "yes"
    elif (head == "flag" and "esn" in words[1:]) or (head == "anti-replay" and "esn" in words):
        fields["esn"] = "yes"
    elif head == "enc" and len(words) >= 2:
        fields["enc"], fields["enc_key"] = words[1], words[2] if len(words) > 2 else ""
    elif head in ("auth", "auth-trunc") and len(words) >= 2:
        fields["auth"], fields["auth_key"] = words[1], words[2] if len(words) > 2 else ""
        fields["bits"] = words[3] if head == "auth-trunc" and len(words) > 3 else ""
    elif head == "aead" and len(words) >= 4:
        fields["enc"], fields["enc_key"], fields["bits"] = words[1], words[2], words[3]
        fields["auth"] = "null"
