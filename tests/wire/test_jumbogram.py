"""IPv6 packets with Payload Length 0 (docs/decoding.md, ``ipv6_jumbogram``,
``ipv6_payload_length_zero``).

A jumbogram (RFC 2675: Payload Length 0, a Hop-by-Hop header with a Jumbo Payload
option) was read to the end of its frame without a word and got ip_len 40 (the
Payload Length's 0 taken as the packet's); a Payload Length 0 without that option (a
sender's segmentation offload, Linux BIG TCP) likewise.  Both are now said, and their
length is unknown (ip_len 0), never 40.

Packets are built by hand here (struct), the Mobility Header by
tests/support/rfc_packets.py; lengths are the ones the test put in.
"""

from __future__ import annotations

import struct

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records
from tests.support import rfc_packets as P
from tests.support.capbuild import LINKTYPE_ETHERNET, pcap_bytes

CN, COA, HOA = "2001:db8:2::2", "2001:db8:4::100", "2001:db8:1::100"
ETHERNET = b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd"
T0 = 1_700_000_000 * 10**9
JUMBO_OPTION = 0xC2  # RFC 2675 2
NH_HOPOPTS, NH_MH, NH_DSTOPTS = 0, 135, 60


def _header(nh: int, src: str, dst: str) -> bytes:
    return struct.pack("!IHBB", 6 << 28, 0, nh, 64) + P.ip(src) + P.ip(dst)  # Payload Length 0


def _hoti_mh() -> bytes:
    return P.mh_of(P.mh_packet(COA, CN, 1, P.hoti_body(b"C" * 8)))


def _read(tmp_path, frames):
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(frames, LINKTYPE_ETHERNET))
    diag, stats = Diagnostics(), StreamStats()
    return list(read_records(str(path), diag, stats)), diag


def test_a_jumbogram_is_said_and_its_length_unknown(tmp_path):
    mh = _hoti_mh()
    hbh = bytes([NH_MH, 0, JUMBO_OPTION, 4]) + struct.pack("!I", 8 + len(mh))
    pkt = _header(NH_HOPOPTS, COA, CN) + hbh + mh
    recs, diag = _read(tmp_path, [(T0, ETHERNET + pkt)])
    assert dict(diag.counts) == {"ipv6_jumbogram": 1}
    assert f"Jumbo Payload Length {8 + len(mh)}" in diag.kept[0].message
    (rec,) = recs
    assert rec.ip_len == 0  # unknown, not 40
    assert rec.msg == "HoTI" and rec.checksum_ok is True and rec.mh_wire == mh


def test_padding_before_the_jumbo_option(tmp_path):
    """Pad1 and a PadN of 0 octets before the option, in a 16-octet Hop-by-Hop header."""
    mh = _hoti_mh()
    opts = bytes([0, 1, 0, JUMBO_OPTION, 4]) + struct.pack("!I", 16 + len(mh))
    hbh = bytes([NH_MH, 1]) + opts + bytes([0]) * (14 - len(opts))
    assert len(hbh) == 16
    pkt = _header(NH_HOPOPTS, COA, CN) + hbh + mh
    recs, diag = _read(tmp_path, [(T0, ETHERNET + pkt)])
    assert dict(diag.counts) == {"ipv6_jumbogram": 1}
    assert recs[0].msg == "HoTI"


def test_payload_length_zero_without_the_option(tmp_path):
    """A BU from the care-of address with a Home Address option, Payload Length 0 and
    no Hop-by-Hop header: read to the end of the frame (as before), said, length unknown."""
    whole = P.mh_packet(COA, CN, 5, P.bu_body(7, 0, 10), hoa=HOA)
    pkt = whole[:4] + b"\x00\x00" + whole[6:]
    recs, diag = _read(tmp_path, [(T0, ETHERNET + pkt)])
    assert dict(diag.counts) == {"ipv6_payload_length_zero": 1}
    (rec,) = recs
    assert rec.ip_len == 0 and rec.hoa == HOA and rec.msg == "BU"
    assert rec.checksum_ok is True


def test_a_true_length_is_unchanged(tmp_path):
    pkt = P.mh_packet(COA, CN, 1, P.hoti_body(b"C" * 8))
    recs, diag = _read(tmp_path, [(T0, ETHERNET + pkt)])
    assert not diag.counts and recs[0].ip_len == len(pkt)


def test_packets_that_do_not_matter_are_silent():
    """A UDP jumbogram and a UDP packet of Payload Length 0 matter to nothing: no warning
    (the capture walker skips them unread, tests/capture/test_fastpath.py, and both
    paths must say the same), and a misplaced Hop-by-Hop header before UDP likewise."""
    from ebutool.capture.skip import must_decode
    from ebutool.wire.ipv6 import decode_ipv6

    udp = struct.pack("!HHHH", 1, 2, 8, 0)
    jumbo = bytes([17, 0, JUMBO_OPTION, 4]) + struct.pack("!I", 8 + len(udp))
    routing = bytes([NH_HOPOPTS, 0, 3, 0, 0, 0, 0, 0])  # type 3, segments left 0
    for pkt in (
        _header(NH_HOPOPTS, COA, CN) + jumbo + udp,
        _header(17, COA, CN) + udp,
        P.ipv6(COA, CN, 43, routing + bytes([17, 0, 1, 4, 0, 0, 0, 0]) + udp),
    ):
        problems: list = []
        decoded = decode_ipv6(pkt, 0, problems)
        assert decoded is not None and not decoded.relevant and problems == []
        assert not must_decode(pkt, 0, len(pkt))
