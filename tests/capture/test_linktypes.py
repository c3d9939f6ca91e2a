"""ip6_offset: where the IPv6 header starts for every supported link type."""

from __future__ import annotations

import struct

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import MIP6MH_BU, IPv6
from scapy.layers.l2 import ARP, CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether, Loopback

from ebutool.capture import SUPPORTED_LINKTYPES, ip6_offset, ip6_offset_func

IP6 = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / MIP6MH_BU(seq=7))
IP4 = bytes(IP(src="192.0.2.1", dst="192.0.2.2") / UDP())
ARP_ETH = bytes(Ether(src="02:00:00:00:00:01") / ARP())
MAC = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def test_ip6_packet_is_what_it_claims():
    assert IP6[0] >> 4 == 6 and IP6[6] == 135 and len(IP6) >= 40


def test_supported_linktypes_table():
    assert set(SUPPORTED_LINKTYPES) == {
        0, 1, 9, 12, 14, 50, 101, 104, 105, 108, 113, 127, 228, 229, 276
    }  # fmt: skip
    assert SUPPORTED_LINKTYPES[1] == "ETHERNET" and SUPPORTED_LINKTYPES[229] == "IPV6"
    for lt in SUPPORTED_LINKTYPES:
        assert callable(ip6_offset_func(lt))
    assert ip6_offset_func(147) is None


@pytest.mark.parametrize(
    "frame, offset",
    [
        (bytes(Ether(**MAC) / IPv6(IP6)), 14),
        (bytes(Ether(**MAC) / Dot1Q(vlan=5) / IPv6(IP6)), 18),
        (bytes(Ether(**MAC, type=0x88A8) / Dot1AD(vlan=7) / Dot1Q(vlan=5) / IPv6(IP6)), 22),
        (
            bytes(
                Ether(**MAC, type=0x9100)
                / Dot1Q(vlan=1, type=0x8100)
                / Dot1Q(vlan=2)
                / Dot1Q(vlan=3)
                / IPv6(IP6)
            ),
            26,
        ),
        (bytes(Ether(**MAC) / IP(IP4)), None),
        (ARP_ETH, None),
        (bytes(Ether(**MAC) / Dot1Q(vlan=5) / IP(IP4)), None),
        (bytes(Ether(**MAC, type=0x86DD)) + IP4, None),  # says IPv6, version 4
        (bytes(Ether(**MAC, type=0x86DD)), None),  # no payload at all
        (bytes(Ether(**MAC) / Dot1Q(vlan=5))[:16], None),  # tag cut short
        (b"\x00" * 13, None),
    ],
)
def test_ethernet(frame, offset):
    assert ip6_offset(1, frame) == offset
    if offset is not None:
        assert frame[offset:] == IP6
        # dpkt decodes the same VLAN stack to the same IPv6 header
        eth = dpkt.ethernet.Ethernet(frame)
        assert isinstance(eth.data, dpkt.ip6.IP6) and bytes(eth.data) == IP6


def test_linux_cooked_v1_and_v2():
    sll = bytes(CookedLinux(proto=0x86DD) / IPv6(IP6))
    assert len(sll) - len(IP6) == 16 and ip6_offset(113, sll) == 16
    assert ip6_offset(113, bytes(CookedLinux(proto=0x0800) / IP(IP4))) is None
    assert ip6_offset(113, bytes(CookedLinux(proto=0x8100)) + b"\x00\x05\x86\xdd" + IP6) == 20
    sll2 = bytes(CookedLinuxV2(proto=0x86DD) / IPv6(IP6))
    assert len(sll2) - len(IP6) == 20 and ip6_offset(276, sll2) == 20
    assert ip6_offset(276, bytes(CookedLinuxV2(proto=0x0800) / IP(IP4))) is None
    assert ip6_offset(276, bytes(CookedLinuxV2(proto=0x0806) / ARP())) is None


@pytest.mark.parametrize("lt", [12, 14, 101])
def test_raw_ip_decided_by_version(lt):
    assert ip6_offset(lt, IP6) == 0
    assert ip6_offset(lt, IP4) is None
    assert ip6_offset(lt, b"") is None


def test_raw_ipv4_and_ipv6():
    assert ip6_offset(228, IP6) is None  # LINKTYPE_IPV4 is never IPv6
    assert ip6_offset(228, IP4) is None
    assert ip6_offset(229, IP6) == 0
    assert ip6_offset(229, IP4) is None  # version nibble checked
    assert ip6_offset(229, b"") is None


@pytest.mark.parametrize("af", [10, 24, 28, 30])
@pytest.mark.parametrize("order", ["<", ">"])
def test_bsd_null_either_byte_order(af, order):
    assert ip6_offset(0, struct.pack(order + "I", af) + IP6) == 4


def test_bsd_null_ipv4_and_scapy_loopback():
    assert ip6_offset(0, struct.pack("<I", 2) + IP4) is None
    assert ip6_offset(0, struct.pack(">I", 2) + IP4) is None
    assert ip6_offset(0, struct.pack("<I", 24) + IP4) is None  # family says 6, packet 4
    assert ip6_offset(0, bytes(Loopback(type=24) / IPv6(IP6))) == 4  # scapy's own encoding
    assert ip6_offset(0, b"\x18\x00\x00") is None


@pytest.mark.parametrize("af", [24, 28, 30])
def test_loop_network_order_only(af):
    assert ip6_offset(108, struct.pack(">I", af) + IP6) == 4
    assert ip6_offset(108, struct.pack("<I", af) + IP6) is None
    assert ip6_offset(108, struct.pack(">I", 2) + IP4) is None


def test_unknown_linktype_is_not_ipv6():
    assert ip6_offset(147, IP6) is None
    assert ip6_offset(189, bytes(64) + IP6) is None  # USB: not supported


@settings(max_examples=300, deadline=None)
@given(lt=st.sampled_from(sorted(SUPPORTED_LINKTYPES) + [147]), data=st.binary(max_size=64))
def test_never_raises_and_result_points_at_version_6(lt, data):
    off = ip6_offset(lt, data)
    assert off is None or (0 <= off < len(data) and data[off] >> 4 == 6)
