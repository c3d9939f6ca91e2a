"""A Mobility Header behind a routing header other than type 2 that still has segments
left (an RPL source route, RFC 6554 type 3; a Segment Routing header, RFC 8754): the
destination address is a hop on the way.  The message was taken as sent to that hop,
with a bad_mh_checksum warning although its checksum is right (RFC 8200 8.1: computed
with the final destination); now its final destination is the packet's, with a counted
``routing_header_in_transit`` warning.  Routing headers are packed by hand (struct,
from the RFC text), the SRH with scapy; checksums by tests.support.rfc_packets."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess

import pytest
from scapy.layers.inet6 import IPv6, IPv6ExtHdrSegmentRouting

from ebutool.capture import open_frames
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats, record_from_packet
from ebutool.stream.reader import capture_records, records_from_frames
from tests.support import rfc_packets as R

MN_HOA, MN_COA, CN = "2001:db8:1::100", "2001:db8:2::7", "2001:db8:3::5"
HOP1, HOP2 = "2001:db8:3::99", "2001:db8:3::98"  # routers of the CN's network
NH_MH, NH_UDP, NH_ROUTING, NH_IPV6 = 135, 17, 43, 41


def rh3(next_header: int, left: int, addresses: list[str], cmpr_i: int, cmpr_e: int) -> bytes:
    """RFC 6554 3: the first n-1 addresses without their first CmprI octets, the last
    without its first CmprE, padded to a multiple of 8 octets."""
    body = b"".join(R.ip(a)[cmpr_i:] for a in addresses[:-1]) + R.ip(addresses[-1])[cmpr_e:]
    pad = -(8 + len(body)) % 8
    length = (8 + len(body) + pad) // 8 - 1
    head = struct.pack("!BBBBBB2x", next_header, length, 3, left, cmpr_i << 4 | cmpr_e, pad << 4)
    return head + body + bytes(pad)


def _hoti_to_cn() -> bytes:
    """A HoTI to the CN, its checksum computed with the CN's address (the final one)."""
    return R.mobility_header(1, R.hoti_body(b"C" * 8), src=MN_HOA, dst=CN)


def _record(raw: bytes):
    diag, stats = Diagnostics(), StreamStats()
    return record_from_packet(1, 10**18, raw, 0, diag, stats), diag


@pytest.mark.parametrize(
    "route",
    [
        rh3(NH_MH, 1, [CN], 8, 8),  # one address, 8 octets of prefix elided
        rh3(NH_MH, 2, [HOP2, CN], 8, 8),  # two: HOP2 next, then the CN
        rh3(NH_MH, 1, [CN], 0, 0),  # full addresses, no elision
        rh3(NH_MH, 2, [HOP2, CN], 6, 14),  # unequal elision, with padding
    ],
    ids=["one", "two", "full", "padded"],
)
def test_rpl_source_route_in_transit(route):
    raw = R.ipv6(MN_HOA, HOP1, NH_ROUTING, route + _hoti_to_cn())
    rec, diag = _record(raw)
    assert rec is not None and rec.msg == "HoTI"
    assert (rec.src, rec.dst, rec.checksum_ok) == (MN_HOA, CN, True)
    assert dict(diag.counts) == {"routing_header_in_transit": 1}
    text = diag.kept[0].message
    assert f"the destination {HOP1} is a hop on the way" in text
    assert f"the final destination {CN} is taken" in text


def test_segment_routing_header_in_transit():
    srh = IPv6ExtHdrSegmentRouting(nh=NH_MH, addresses=[CN, HOP1], segleft=1, lastentry=1)
    raw = bytes(IPv6(src=MN_HOA, dst=HOP1, nh=NH_ROUTING) / srh) + _hoti_to_cn()
    raw = raw[:4] + struct.pack("!H", len(raw) - 40) + raw[6:]
    rec, diag = _record(raw)
    assert (rec.dst, rec.checksum_ok) == (CN, True)
    assert dict(diag.counts) == {"routing_header_in_transit": 1}


def test_route_at_its_end_is_no_warning():
    """Segments left 0: the destination address is the final one already."""
    raw = R.ipv6(MN_HOA, CN, NH_ROUTING, rh3(NH_MH, 0, [HOP1], 8, 8) + _hoti_to_cn())
    rec, diag = _record(raw)
    assert (rec.dst, rec.checksum_ok) == (CN, True) and diag.total == 0


def test_route_whose_final_destination_is_not_known():
    """Segments left beyond the addresses it holds (RFC 6554 4.2: an error): the hop stays
    the destination, the checksum is checked against it, and both are said."""
    raw = R.ipv6(MN_HOA, HOP1, NH_ROUTING, rh3(NH_MH, 3, [CN], 8, 8) + _hoti_to_cn())
    rec, diag = _record(raw)
    assert rec.dst == HOP1 and rec.checksum_ok is False
    assert dict(diag.counts) == {"routing_header_in_transit": 1, "bad_mh_checksum": 1}
    assert "final one is not known" in diag.kept[0].message


def test_cot_through_an_rpl_tunnel_is_for_the_care_of_address():
    """RFC 9008: the RPL root tunnels to the 6LN with a source route; the CoT's care-of
    address is the MN's, not the router the outer header is addressed to."""
    inner = R.mh_packet(CN, MN_COA, 4, R.hot_body(1, b"E" * 8, b"T" * 8))
    raw = R.ipv6(
        "2001:db8:2::1", "2001:db8:2::5", NH_ROUTING, rh3(NH_IPV6, 1, [MN_COA], 8, 8) + inner
    )
    rec, diag = _record(raw)
    assert rec.msg == "CoT" and rec.care_of_address == MN_COA and rec.checksum_ok is True
    assert dict(diag.counts) == {"routing_header_in_transit": 1}


def test_rpl_network_traffic_is_no_warning_and_the_fast_path_agrees():
    """Ordinary UDP under a source route is the network's own traffic: skipped without a
    word, by the fast path and the reference run alike, as the HoTI is warned alike."""
    udp = R.ipv6(MN_COA, HOP1, NH_ROUTING, rh3(NH_UDP, 1, [CN], 8, 8) + bytes(8))
    hoti = R.ipv6(MN_HOA, HOP1, NH_ROUTING, rh3(NH_MH, 1, [CN], 8, 8) + _hoti_to_cn())
    data = R.pcap([(10**18, udp), (10**18 + 1000, hoti)])
    runs = []
    for fast in (True, False):
        diag, stats = Diagnostics(), StreamStats()
        if fast:
            recs = list(capture_records(io.BytesIO(data), diag, stats))
        else:
            recs = list(records_from_frames(open_frames(io.BytesIO(data), diag), diag, stats))
        assert [(r.frame, r.msg, r.dst) for r in recs] == [(2, "HoTI", CN)]
        assert dict(diag.counts) == {"routing_header_in_transit": 1}
        assert dict(stats.skipped) == {"not_mobility_related": 1}
        runs.append(stats)
    assert runs[0] == runs[1]


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_reads_the_hand_packed_source_route_the_same(tmp_path):
    """The peer check of rh3() above: tshark's RPL dissector finds the same addresses."""
    route = rh3(NH_MH, 2, [HOP2, CN], 6, 14)
    path = tmp_path / "rh3.pcap"
    path.write_bytes(R.pcap([(10**18, R.ipv6(MN_HOA, HOP1, NH_ROUTING, route + _hoti_to_cn()))]))
    out = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-e", "ipv6.routing.rpl.full_address"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert out.split() == [f"{HOP2},{CN}"]
