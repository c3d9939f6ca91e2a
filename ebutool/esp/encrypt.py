"""RFC 4303 outbound processing: ESP-protect an IPv6 packet (for ebutool synth).

:func:`protect_packet` inserts the ESP header after the packet's Hop-by-Hop, Routing,
Fragment and Destination Options headers (RFC 4303 3.1.1: so a Home Address option or a
type 2 routing header stays in clear, RFC 6275 6.3/6.4) and encrypts the rest.  For an
IPv6-in-IPv6 packet that rest is the inner packet, next header 41: tunnel mode
(RFC 4303 3.1.2), as RFC 4877 protects the HoTI/HoT on the MN-HA tunnel.
The decryption side is :mod:`ebutool.esp.decrypt`; tests check both against scapy.
"""

from __future__ import annotations

from ebutool.core import constants as C
from ebutool.esp.algorithms import CIPHERS, INTEGRITY
from ebutool.esp.sa import EspSA

_BEFORE_ESP = frozenset((C.NH_HOPOPTS, C.NH_ROUTING, C.NH_FRAGMENT, C.NH_DSTOPTS))
SEQ_SPACE = 1 << 32


def seal(sa: EspSA, seq: int, next_header: int, payload: bytes, iv: bytes) -> bytes:
    """The ESP packet (SPI to ICV) carrying ``payload``; ``seq`` the full sequence number
    (its upper half goes into the ICV with ESN), ``iv`` the explicit IV."""
    cipher, integ = CIPHERS[sa.encryption], INTEGRITY[sa.integrity]
    pad_len = -(len(payload) + 2) % cipher.block
    plain = payload + bytes(range(1, pad_len + 1)) + bytes((pad_len, next_header))
    assert sa.spi is not None
    high, low = divmod(seq, SEQ_SPACE)
    header = sa.spi.to_bytes(4, "big") + low.to_bytes(4, "big")
    aad = header[:4] + high.to_bytes(4, "big") + header[4:] if sa.esn else header
    iv = iv[: cipher.iv_len]
    body = header + iv + cipher.encrypt(sa.enc_key.octets, iv, plain, aad)
    if not cipher.aead and integ.icv_len:
        covered = body + (high.to_bytes(4, "big") if sa.esn else b"")
        body += integ.icv(sa.auth_key.octets, covered)
    return body


def protect_packet(packet: bytes, sa: EspSA, seq: int, iv: bytes) -> bytes:
    """``packet`` (one IPv6 packet) with ESP inserted and its payload length adjusted."""
    nh, nh_at, i = packet[6], 6, C.IPV6_HEADER_LEN
    while nh in _BEFORE_ESP:
        hlen = 8 if nh == C.NH_FRAGMENT else (packet[i + 1] + 1) * 8
        nh, nh_at, i = packet[i], i, i + hlen
    esp = seal(sa, seq, nh, packet[i:], iv)
    out = bytearray(packet[:i])
    out[nh_at] = C.NH_ESP
    plen = len(out) - C.IPV6_HEADER_LEN + len(esp)
    out[4:6] = plen.to_bytes(2, "big")
    return bytes(out) + esp
