"""Each way an ESP packet of a known SA is refused has its own counted code (issue 14 item 4):
``esp_bad_padding`` (the trailer does not check although the ICV does) and
``esp_truncated`` (cut off by the capture, or too short for the SA's algorithms).

Ground truth: tunnel-mode ESP packets built here octet by octet with `cryptography`'s
AES-CBC and HMAC (RFC 4303 2, RFC 3602, RFC 2404), not with ebutool's encryption; the
same builder with RFC 4303's padding 1, 2, 3, ... must open, so a refusal is the
padding's doing, not the builder's."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from scapy.layers.inet6 import IPv6, MIP6MH_HoTI

from ebutool.core.diagnostics import Diagnostics
from ebutool.esp import EspContext, EspSA, SecretKey
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records
from tests.support.capbuild import LINKTYPE_IPV6, pcap_bytes

SPI = 0x4242
ENC_KEY, AUTH_KEY = os.urandom(16), os.urandom(20)
INNER = bytes(IPv6(src="2001:db8:1::100", dst="2001:db8:c1::1") / MIP6MH_HoTI(cookie=b"abcdefgh"))
SA = EspSA(SPI, "*", "*", "aes-cbc", SecretKey(ENC_KEY), "hmac-sha1-96", SecretKey(AUTH_KEY))


def esp_packet(seq: int, pad_octet=None) -> bytes:
    """Outer IPv6 (MN -> HA) / ESP(AES-CBC, HMAC-SHA1-96) / INNER; the padding RFC 4303's
    1, 2, 3, ... or, with ``pad_octet``, every padding octet that value."""
    pad_len = (-(len(INNER) + 2)) % 16 or 16  # at least one octet to spoil
    pad = bytes(range(1, pad_len + 1)) if pad_octet is None else bytes([pad_octet]) * pad_len
    plain = INNER + pad + bytes([pad_len, 41])
    iv = os.urandom(16)
    enc = Cipher(algorithms.AES(ENC_KEY), modes.CBC(iv)).encryptor()
    body = SPI.to_bytes(4, "big") + seq.to_bytes(4, "big") + iv + enc.update(plain) + enc.finalize()
    esp = body + hmac.new(AUTH_KEY, body, hashlib.sha1).digest()[:12]
    outer = IPv6(src="2001:db8:b::100", dst="2001:db8:1::1", nh=50, plen=len(esp))
    return bytes(outer) + esp


def opened(packet: bytes) -> tuple[object, Diagnostics]:
    diag = Diagnostics()
    return EspContext([SA]).open(packet, 0, 1, diag, None, None), diag


def test_the_builder_makes_packets_that_open():
    got, diag = opened(esp_packet(1))
    assert got is not None and not diag.counts
    assert got[0][40:] == INNER


def test_bad_padding_is_counted_and_gives_no_message(tmp_path):
    got, diag = opened(esp_packet(1, pad_octet=0))
    assert got is None and diag.counts == {"esp_bad_padding": 1}
    frames = [(10**18 + i, esp_packet(i + 1, pad_octet=0xAA)) for i in range(5)]
    path = tmp_path / "bad-padding.pcap"
    path.write_bytes(pcap_bytes(frames, LINKTYPE_IPV6, nanosecond=True))
    diag = Diagnostics()
    records = list(read_records(path, diag, StreamStats(), esp_sas=[SA]))
    assert [r for r in records if r.mh is not None or r.esp_spi is not None] == []
    assert diag.counts["esp_bad_padding"] == 5


def test_a_packet_cut_by_the_capture_is_truncated():
    got, diag = opened(esp_packet(1)[:-20])  # the payload length says 20 octets more
    assert got is None and diag.counts == {"esp_truncated": 1}


def test_a_packet_too_short_for_its_algorithms_is_truncated():
    # SPI, sequence number and 10 octets: less than the IV, trailer and ICV need
    esp = SPI.to_bytes(4, "big") + (1).to_bytes(4, "big") + bytes(10)
    outer = IPv6(src="2001:db8:b::100", dst="2001:db8:1::1", nh=50, plen=len(esp))
    got, diag = opened(bytes(outer) + esp)
    assert got is None and diag.counts == {"esp_truncated": 1}
