"""802.11 (105), radiotap + 802.11 (127), PPP (9), PPP in HDLC framing (50), Cisco HDLC (104).

Frames are built by scapy (an independent builder) or by hand from the standards'
layouts; tshark, where installed, dissects the same frames and must find the same IPv6
header (or none) in each.
"""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest
from scapy.layers.dot11 import (
    Dot11,
    Dot11Ack,
    Dot11Beacon,
    Dot11QoS,
    Dot11WEP,
    RadioTap,
)
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import MIP6MH_BU, IPv6
from scapy.layers.l2 import ARP, LLC, SNAP
from scapy.layers.ppp import HDLC, PPP
from scapy.utils import wrpcap

from ebutool.capture import ip6_offset
from ebutool.capture.linktypes import linktype_name, not_ipv6_reason

TSHARK = shutil.which("tshark")
IP6_PKT = IPv6(src="2001:db8::1", dst="2001:db8::2") / MIP6MH_BU(seq=7)
IP6 = bytes(IP6_PKT)
IP4 = IP(src="192.0.2.1", dst="192.0.2.2") / UDP()
SNAP6 = LLC() / SNAP(code=0x86DD)
FCS = b"\x11\x22\x33\x44"

# (name, link type, frame, offset of the IPv6 header or the skip reason)
WLAN_CASES = [
    ("data-toDS", 105, Dot11(type=2, subtype=0, FCfield="to_DS") / SNAP6 / IP6_PKT, 32),
    ("data-fromDS", 105, Dot11(type=2, subtype=0, FCfield="from_DS") / SNAP6 / IP6_PKT, 32),
    ("data-ibss", 105, Dot11(type=2, subtype=0) / SNAP6 / IP6_PKT, 32),
    ("data-4addr", 105, Dot11(type=2, subtype=0, FCfield="to_DS+from_DS") / SNAP6 / IP6_PKT, 38),
    ("qos", 105, Dot11(type=2, subtype=8, FCfield="from_DS") / Dot11QoS() / SNAP6 / IP6_PKT, 34),
    (
        "qos-4addr",
        105,
        Dot11(type=2, subtype=8, FCfield="to_DS+from_DS") / Dot11QoS(TID=5) / SNAP6 / IP6_PKT,
        40,
    ),
    (
        "qos-htc",  # +HTC (Order bit in a QoS data frame): a 4-octet HT control follows
        105,
        Dot11(type=2, subtype=8, FCfield="from_DS+order")
        / Dot11QoS()
        / (b"\x00" * 4 + bytes(SNAP6 / IP6_PKT)),
        38,
    ),
    (
        "non-qos-order",  # the Order bit of a non-QoS frame adds nothing
        105,
        Dot11(type=2, subtype=0, FCfield="from_DS+order") / SNAP6 / IP6_PKT,
        32,
    ),
    (
        "bridge-tunnel",  # 802.1H SNAP OUI 00-00-f8
        105,
        Dot11(type=2, subtype=0, FCfield="to_DS") / LLC() / SNAP(OUI=0xF8, code=0x86DD) / IP6_PKT,
        32,
    ),
    ("beacon", 105, Dot11(type=0, subtype=8) / Dot11Beacon(), "wlan_not_data"),
    ("ack", 105, Dot11(type=1, subtype=13) / Dot11Ack(), "wlan_not_data"),
    ("null", 105, Dot11(type=2, subtype=4, FCfield="to_DS"), "wlan_null_data"),
    ("qos-null", 105, Dot11(type=2, subtype=12, FCfield="to_DS") / Dot11QoS(), "wlan_null_data"),
    (
        "protected",
        105,
        Dot11(type=2, subtype=8, FCfield="to_DS+protected") / Dot11QoS() / Dot11WEP(),
        "wlan_protected",
    ),
    (
        "amsdu",
        105,
        Dot11(type=2, subtype=8, FCfield="from_DS") / Dot11QoS(A_MSDU_Present=1) / IP6,
        "wlan_amsdu",
    ),
    ("ipv4", 105, Dot11(type=2, subtype=0, FCfield="to_DS") / LLC() / SNAP() / IP4, "not_ipv6"),
    ("arp", 105, Dot11(type=2, subtype=0, FCfield="to_DS") / LLC() / SNAP() / ARP(), "not_ipv6"),
    ("short", 105, Dot11(type=2, subtype=0) / b"", "not_ipv6"),
    (
        "rt-plain",
        127,
        RadioTap() / Dot11(type=2, subtype=8, FCfield="from_DS") / Dot11QoS() / SNAP6 / IP6_PKT,
        None,
    ),
    (
        "rt-fields",
        127,
        RadioTap(present="TSFT+Flags+Rate+Channel+dBm_AntSignal+Antenna", Flags=0, Rate=2)
        / Dot11(type=2, subtype=8, FCfield="to_DS+from_DS")
        / Dot11QoS()
        / SNAP6
        / IP6_PKT,
        None,
    ),
    (
        "rt-fcs",  # Flags say an FCS ends the frame: it follows the IPv6 packet
        127,
        RadioTap(present="Flags", Flags="FCS")
        / Dot11(type=2, subtype=0, FCfield="to_DS")
        / SNAP6
        / (IP6 + FCS),
        None,
    ),
    (
        "rt-beacon",
        127,
        RadioTap(present="Flags+Rate", Flags=0, Rate=2) / Dot11(type=0, subtype=8) / Dot11Beacon(),
        "wlan_not_data",
    ),
    (
        "rt-bad-fcs",  # the radio says the frame failed its FCS check
        127,
        RadioTap(present="Flags", Flags="FCS+badFCS")
        / Dot11(type=2, subtype=0, FCfield="to_DS")
        / SNAP6
        / (IP6 + FCS),
        "wlan_bad_fcs",
    ),
    (
        "rt-protected",
        127,
        RadioTap() / Dot11(type=2, subtype=0, FCfield="to_DS+protected") / Dot11WEP(),
        "wlan_protected",
    ),
]


def _hand_radiotap_padded() -> bytes:
    """Radiotap with two present words (the second a vendor namespace), TSFT, Flags with
    "data pad" (0x20), and a 26-octet QoS data header padded to 28 (radiotap.org)."""
    present = struct.pack("<II", 0x80000003, 0x00000000)  # TSFT+Flags+ext; empty 2nd word
    fields = b"\x00" * 4 + struct.pack("<Q", 12345) + b"\x20"  # align TSFT to 8, Flags
    body = present + fields
    hdr = struct.pack("<BBH", 0, 0, 4 + len(body)) + body
    dot11 = b"\x88\x02" + bytes(22) + b"\x00\x00" + b"\x00\x00"  # QoS data, 2 pad octets
    return hdr + dot11 + bytes(SNAP6) + IP6


PPP_CASES = [
    ("ppp", 9, PPP() / IP6_PKT, 2),
    ("ppp-hdlc-ac", 9, b"\xff\x03" + bytes(PPP() / IP6_PKT), 4),
    ("ppp-pfc", 9, b"\x57" + IP6, 1),  # protocol-field compression: one octet
    ("ppp-ac-pfc", 9, b"\xff\x03\x57" + IP6, 3),
    ("ppp-ipv4", 9, PPP() / IP4, "not_ipv6"),
    ("ppp-lcp", 9, b"\xff\x03\xc0\x21" + bytes(20), "not_ipv6"),
    ("ppp-says-ipv6-is-4", 9, b"\x00\x57" + bytes(IP4), "not_ipv6"),
    ("hdlc", 50, HDLC() / PPP() / IP6_PKT, 4),
    ("hdlc-ipv4", 50, HDLC() / PPP() / IP4, "not_ipv6"),
    ("hdlc-cisco", 50, b"\x0f\x00\x86\xdd" + IP6, 4),
    ("chdlc", 104, b"\x8f\x00\x86\xdd" + IP6, 4),
    ("chdlc-ipv4", 104, b"\x0f\x00\x08\x00" + bytes(IP4), "not_ipv6"),
]
CASES = [*WLAN_CASES, ("rt-padded", 127, _hand_radiotap_padded(), None), *PPP_CASES]


@pytest.mark.parametrize("name, lt, frame, want", CASES, ids=[c[0] for c in CASES])
def test_ipv6_found_or_reason(name, lt, frame, want):
    data = bytes(frame)
    off = ip6_offset(lt, data)
    if isinstance(want, str):
        assert off is None
        assert not_ipv6_reason(lt, data) == want
        return
    if want is None:  # radiotap: after its it_len and the 802.11 part
        rt_len = struct.unpack_from("<H", data, 2)[0]
        want = data.index(IP6, rt_len)
    assert off == want
    assert data[off : off + len(IP6)] == IP6


def test_unsupported_names():
    assert linktype_name(127) == "IEEE802_11_RADIOTAP" and linktype_name(9) == "PPP"
    assert not_ipv6_reason(189, b"") == "unsupported_linktype_usb_linux"
    assert not_ipv6_reason(4000, b"") == "unsupported_linktype_4000"
    assert not_ipv6_reason(1, b"") == "not_ipv6"


def _tshark_ipv6(path) -> list[str]:
    out = subprocess.run(
        [TSHARK, "-r", str(path), "-T", "fields", "-e", "ipv6.src", "-e", "mip6.bu.seqnr"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.splitlines()


@pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
@pytest.mark.parametrize("lt", [105, 127, 9, 50, 104])
def test_tshark_finds_the_same_ipv6_headers(tmp_path, lt):
    cases = [c for c in CASES if c[1] == lt]
    path = tmp_path / f"lt{lt}.pcap"
    wrpcap(str(path), [bytes(c[2]) for c in cases], linktype=lt)
    rows = _tshark_ipv6(path)
    assert len(rows) == len(cases)
    for (name, _lt, frame, _want), row in zip(cases, rows, strict=True):
        ours = ip6_offset(lt, bytes(frame))
        if name == "rt-bad-fcs":  # tshark dissects it all the same; ebutool skips it
            assert row.split("\t") == ["2001:db8::1", "7"] and ours is None
        elif ours is None:
            assert not row.strip(), name  # tshark finds no IPv6 either
        else:
            assert row.split("\t") == ["2001:db8::1", "7"], name
