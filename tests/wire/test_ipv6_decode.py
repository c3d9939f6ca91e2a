"""IPv6 decoding (extension headers, HAO, type 2 RH, tunnels, fragments), the record
layer (classification of BUs), and criterion 2 of issue 2: random, truncated and
mutated packets never raise out of decode_ipv6 / record_from_packet, and every problem
becomes a counted diagnosis.

Packets are built with scapy (an independent encoder) or by hand (struct, and
tests/support/rfc_packets.py, written from the RFC text), never with ebutool.wire.build:
a test input made by ebutool's own encoder checks nothing about its mistakes.  Expected
values are the ones the test put in.
"""

from __future__ import annotations

import io
import ipaddress
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    MIP6MH_HoTI,
    MIP6OptAltCoA,
)
from scapy.layers.ipsec import AH, ESP

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats, record_from_packet
from ebutool.records.record import Record, classify_bu
from ebutool.wire.ipv6 import decode_ipv6
from ebutool.wire.mh import messages as M
from ebutool.wire.mh import mobility_options as O
from tests.support import rfc_packets as P

MN_HOA, MN_COA, CN, HA = "2001:db8:1::100", "2001:db8:2::7", "2001:db8:3::5", "2001:db8:1::1"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ipv6_header(src: str, dst: str, nh: int, plen: int) -> bytes:
    """The fixed IPv6 header (RFC 8200 3) with the Payload Length given, by hand."""
    return struct.pack("!IHBB", 6 << 28, plen, nh, 64) + P.ip(src) + P.ip(dst)


def decode(pkt: bytes, off: int = 0):
    problems: list[tuple[str, str]] = []
    return decode_ipv6(pkt, off, problems), problems


# ---------------------------------------------------------------- what decode_ipv6 finds


def test_bu_with_home_address_option():
    raw = bytes(
        IPv6(src=MN_COA, dst=CN)
        / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)])
        / MIP6MH_BU(seq=5, flags="A", mhtime=10)
    )
    pkt, problems = decode(raw)
    assert problems == []
    assert (pkt.src, pkt.dst, pkt.hoa, pkt.rh2, pkt.proto) == (MN_COA, CN, MN_HOA, None, 135)
    assert pkt.ip_len == len(raw) and pkt.relevant and not pkt.fragment
    assert pkt.mh == raw[40 + 24 :]
    assert pkt.pseudo_src == bytes.fromhex("20010db8000100000000000000000100")
    assert pkt.pseudo_dst == raw[24:40]


def test_ba_with_type2_routing_header():
    raw = bytes(
        IPv6(src=CN, dst=MN_COA)
        / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[MN_HOA])
        / MIP6MH_BA(seq=5)
    )
    pkt, problems = decode(raw)
    assert problems == []
    assert (pkt.src, pkt.dst, pkt.rh2, pkt.hoa, pkt.proto) == (CN, MN_COA, MN_HOA, None, 135)
    assert pkt.pseudo_src == raw[8:24] and pkt.pseudo_dst == raw[40 + 8 : 40 + 24]


def test_hoti_reverse_tunnelled_through_home_agent():
    inner = IPv6(src=MN_HOA, dst=CN) / MIP6MH_HoTI(cookie=b"C" * 8)
    raw = bytes(IPv6(src=MN_COA, dst=HA) / inner)
    pkt, problems = decode(raw)
    assert problems == []
    assert (pkt.src, pkt.dst, pkt.tunnel_src, pkt.tunnel_dst) == (MN_HOA, CN, MN_COA, HA)
    assert pkt.proto == 135 and pkt.ip_len == len(raw)
    assert pkt.mh == bytes(inner)[40:]


def test_tunnel_payload_bounded_by_outer_packet():
    """Octets after the outer IPv6 payload (link-layer padding, garbage) never become
    part of the inner packet, even if the inner header claims more."""
    inner = bytearray(bytes(IPv6(src=MN_HOA, dst=CN) / MIP6MH_HoTI(cookie=b"C" * 8)))
    inner[4:6] = struct.pack("!H", len(inner) - 40 + 8)  # inner claims 8 more octets
    outer = ipv6_header(MN_COA, HA, 41, len(inner)) + bytes(inner)
    pkt, _ = decode(outer + b"\xee" * 8)
    assert pkt.mh == bytes(inner[40:])


@pytest.mark.parametrize("claimed_more", [8, 100])
def test_tunnelled_packet_claiming_more_than_the_outer_carries_is_counted(claimed_more):
    """An MN-HA reverse tunnel whose inner payload length claims more octets than the
    outer packet (whole in the frame) carries was cut on the way: a counted
    ``truncated_tunnel`` warning, not a normal packet; the MH is what is there."""
    inner = bytearray(bytes(IPv6(src=MN_HOA, dst=CN) / MIP6MH_HoTI(cookie=b"C" * 8)))
    inner[4:6] = struct.pack("!H", len(inner) - 40 + claimed_more)
    raw = ipv6_header(MN_COA, HA, 41, len(inner)) + bytes(inner)
    pkt, problems = decode(raw)
    assert [c for c, _ in problems] == ["truncated_tunnel"]
    assert f"claims {16 + claimed_more} payload octets" in problems[0][1]
    assert "carries 16" in problems[0][1]
    assert pkt.mh == bytes(inner[40:]) and pkt.ip_len == len(raw)
    diag, stats = Diagnostics(), StreamStats()
    rec = record_from_packet(3, 10**18, raw, 0, diag, stats)
    assert rec is not None and rec.msg == "HoTI"
    assert dict(diag.counts) == {"truncated_tunnel": 1} and diag.kept[0].frame == 3


def test_tunnel_cut_inside_the_message_names_the_tunnel_and_the_message():
    """The outer packet is whole but carries only half of the tunnelled HoTI: both the
    cut tunnel and the cut message are counted, and no message is made from it."""
    inner = bytes(IPv6(src=MN_HOA, dst=CN) / MIP6MH_HoTI(cookie=b"C" * 8))
    raw = ipv6_header(MN_COA, HA, 41, 48) + inner[:48]
    diag, stats = Diagnostics(), StreamStats()
    rec = record_from_packet(1, 10**18, raw, 0, diag, stats)
    assert rec is None or rec.mh is None
    assert dict(diag.counts) == {"truncated_tunnel": 1, "malformed_mh": 1}


def test_capture_cut_tunnel_is_no_truncated_tunnel():
    """The snap length cutting a tunnelled message is the capture's cut (the message is
    marked truncated), not a tunnel whose lengths disagree."""
    raw = _reverse_tunnelled_hoti()
    pkt, problems = decode(raw[:-4])
    assert problems == [] and pkt.mh == raw[80:-4]


def test_truncated_tunnel_keeps_outer_packet():
    raw = ipv6_header(MN_COA, HA, 41, 40) + bytes(20)
    pkt, problems = decode(raw)
    assert pkt is not None and pkt.proto == 41 and pkt.tunnel_src is None
    assert [c for c, _ in problems] == ["truncated_ipv6"]


def _reverse_tunnelled_hoti() -> bytes:
    return bytes(IPv6(src=MN_COA, dst=HA) / IPv6(src=MN_HOA, dst=CN) / MIP6MH_HoTI(cookie=b"C" * 8))


@pytest.mark.parametrize(
    "cut, code",
    [
        (40 + 20, "truncated_ipv6"),  # the snap length ends inside the tunnelled header
        (40, "truncated_ipv6"),  # the tunnelled packet not captured at all
        (None, "not_ipv6"),  # what follows next header 41 is no IPv6 header
    ],
)
def test_cut_tunnelled_packet_is_undecodable_not_unrelated(cut, code):
    """An MN-HA reverse tunnel whose tunnelled packet cannot be decoded is a counted
    diagnosis and an ``undecodable_ipv6`` frame; it was counted ``not_mobility_related``."""
    raw = _reverse_tunnelled_hoti()
    raw = raw[:cut] if cut is not None else raw[:40] + b"\x45" + raw[41:]  # version 4
    diag, stats = Diagnostics(), StreamStats()
    assert record_from_packet(7, 10**18, raw, 0, diag, stats) is None
    assert dict(diag.counts) == {code: 1} and diag.kept[0].frame == 7
    assert dict(stats.skipped) == {"undecodable_ipv6": 1} and stats.relevant == 0


def test_cut_tunnelled_packet_in_a_capture_fast_and_reference_alike():
    from ebutool.capture import open_frames
    from ebutool.stream.reader import capture_records, records_from_frames
    from tests.support.capbuild import LINKTYPE_RAW, pcap_bytes

    whole = _reverse_tunnelled_hoti()
    # frame 2 cut by the snap length (its original length is the whole packet's: a
    # whole frame of 60 octets would make the outer Payload Length a false one)
    frames = [(10**18, whole), (10**18 + 1000, whole[: 40 + 20], len(whole))]
    data = pcap_bytes([*frames, (10**18 + 2000, whole)], LINKTYPE_RAW)
    runs = []
    for fast in (True, False):
        diag, stats = Diagnostics(), StreamStats()
        if fast:
            recs = list(capture_records(io.BytesIO(data), diag, stats))
        else:
            recs = list(records_from_frames(open_frames(io.BytesIO(data), diag), diag, stats))
        assert [(r.frame, r.msg) for r in recs] == [(1, "HoTI"), (3, "HoTI")]
        assert diag.counts == {"truncated_ipv6": 1}
        assert dict(stats.skipped) == {"undecodable_ipv6": 1}
        runs.append(stats)
    assert runs[0] == runs[1]


def test_tunnels_nested_too_deep():
    raw = bytes(
        IPv6(src=MN_COA, dst=HA)
        / IPv6(src=MN_COA, dst=HA)
        / IPv6(src=MN_COA, dst=HA)
        / IPv6(src=MN_HOA, dst=CN)
        / UDP()
    )
    pkt, problems = decode(raw)
    assert [c for c, _ in problems] == ["tunnel_too_deep"]
    assert pkt is not None


def test_hop_by_hop_ah_and_esp():
    raw = bytes(
        IPv6(src=MN_COA, dst=CN)
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)])
        / AH(nh=135, spi=1, icv=b"\x00" * 12)
        / MIP6MH_BU(seq=1)
    )
    pkt, problems = decode(raw)
    assert problems == [] and pkt.proto == 135 and pkt.hoa == MN_HOA
    esp = bytes(
        IPv6(src=MN_COA, dst=HA)
        / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)])
        / ESP(spi=7, seq=1, data=b"\x00" * 24)
    )
    pkt, problems = decode(esp)
    assert problems == [] and pkt.proto == 50 and pkt.mh is None and pkt.relevant


def test_first_fragment_with_mobility_header_is_diagnosed():
    raw = bytes(
        IPv6(src=MN_COA, dst=CN)
        / IPv6ExtHdrFragment(offset=0, m=1, id=9)
        / MIP6MH_BU(seq=3, options=[MIP6OptAltCoA(acoa=MN_COA)])
    )
    pkt, problems = decode(raw[: 40 + 8 + 16])
    assert pkt.fragment and pkt.proto == 135
    assert [c for c, _ in problems] == ["fragmented_mh"]


def test_later_fragment_and_atomic_fragment():
    later = bytes(
        IPv6(src=MN_COA, dst=CN)
        / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)])
        / IPv6ExtHdrFragment(offset=5, m=0, nh=135)
    ) + bytes(16)
    pkt, problems = decode(later)
    assert problems == [] and pkt.fragment and pkt.proto == 44 and pkt.mh is None
    assert pkt.hoa == MN_HOA
    atomic = bytes(IPv6(src=MN_COA, dst=CN) / IPv6ExtHdrFragment(offset=0, m=0) / MIP6MH_BU(seq=3))
    pkt, problems = decode(atomic)
    assert problems == [] and not pkt.fragment and pkt.proto == 135
    assert pkt.mh == atomic[48:]


def test_old_mobility_header_number_62():
    mh = bytes(MIP6MH_BU(seq=3))
    raw = P.ipv6(MN_COA, CN, 62, mh)
    pkt, problems = decode(raw)
    assert pkt.proto == 62 and pkt.mh == mh
    assert [c for c, _ in problems] == ["old_mh_protocol"]


def test_plain_traffic_is_not_relevant():
    pkt, problems = decode(bytes(IPv6(src=CN, dst=MN_HOA) / UDP(sport=1, dport=2) / b"x"))
    assert problems == [] and not pkt.relevant and pkt.proto == 17


@pytest.mark.parametrize(
    "raw, code",
    [
        (
            bytes(IPv6(src=MN_COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)]) / UDP())[
                :50
            ],
            "truncated_ext_header",
        ),
        (
            bytes(
                IPv6(src=CN, dst=MN_COA)
                / IPv6ExtHdrRouting(type=2, segleft=0, addresses=[MN_HOA])
                / UDP()
            ),
            "malformed_rh2",
        ),
        (
            bytes(
                IPv6(src=CN, dst=MN_COA)
                / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[MN_HOA, CN])
                / UDP()
            ),
            "malformed_rh2",
        ),
        (
            bytes(IPv6(src=MN_COA, dst=CN, nh=60))
            + bytes((17, 1, 201, 4, 1, 2, 3, 4, 1, 4, 0, 0, 0, 0, 0, 0)),
            "malformed_hao",
        ),
        (
            bytes(IPv6(src=MN_COA, dst=CN, nh=60)) + bytes((17, 0, 1, 0, 1, 0, 0, 7)),
            "malformed_dst_option",
        ),
        (bytes(IPv6(src=MN_COA, dst=CN))[:30], "truncated_ipv6"),
        (b"\x45" + bytes(39), "not_ipv6"),
    ],
)
def test_malformed_headers_are_named(raw, code):
    pkt, problems = decode(raw)
    assert code in [c for c, _ in problems]
    assert all(isinstance(t, str) and "\n" not in t for _, t in problems)


def test_decode_at_offset_in_a_frame():
    raw = bytes(
        IPv6(src=MN_COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)]) / MIP6MH_BU(seq=5)
    )
    pkt, problems = decode(b"\x00" * 14 + raw, 14)
    assert problems == [] and pkt.hoa == MN_HOA and pkt.mh == raw[64:]


# ---------------------------------------------------------------- records and BU classification


def _bu(lifetime=10, flags=0, coa_opt=None, ni=None, coti=False):
    opts = (
        ([O.AlternateCareOfAddress(coa_opt)] if coa_opt else [])
        + ([O.NonceIndices(*ni)] if ni else [])
        + ([O.CareOfTestInitOption()] if coti else [])
    )
    return M.BindingUpdate(sequence=1, flags=flags, lifetime=lifetime, options=opts)


@pytest.mark.parametrize(
    "bu, src, hoa, expected",
    [
        # DESIGN.md 3: EBU = H=0, lifetime > 0, CoA != HoA, Nonce Indices with care-of index 0
        (_bu(ni=(4, 0)), MN_COA, MN_HOA, ("EBU", False, False)),
        (_bu(ni=(4, 0), coti=True), MN_COA, MN_HOA, ("EBU", False, True)),
        (_bu(ni=(4, 5)), MN_COA, MN_HOA, ("BU", False, False)),  # standard RR BU
        (_bu(ni=(4, 0), flags=0x4000), MN_COA, MN_HOA, ("BU", False, False)),  # H=1: home reg.
        (_bu(ni=None), MN_COA, MN_HOA, ("BU", False, False)),
        (_bu(ni=(4, 0), lifetime=0), MN_COA, MN_HOA, ("BU", True, False)),  # deregistration
        (_bu(ni=(4, 0)), MN_HOA, None, ("BU", True, False)),  # from home
        (_bu(ni=(4, 0), coa_opt=MN_HOA), MN_COA, MN_HOA, ("BU", True, False)),  # Alt-CoA == HoA
        (_bu(ni=(4, 0), coa_opt="2001:db8:9::9"), MN_HOA, MN_HOA, ("EBU", False, False)),
    ],
)
def test_classify_bu(bu, src, hoa, expected):
    assert classify_bu(bu, src, hoa) == expected


def test_record_addresses():
    r = Record(
        frame=1, ts_ns=0, src=MN_COA, dst=CN, msg="BU", hoa=MN_HOA, mh=_bu(coa_opt="2001:db8:9::9")
    )
    assert r.home_address == MN_HOA and r.care_of_address == "2001:db8:9::9"
    r = Record(frame=1, ts_ns=0, src=MN_COA, dst=CN, msg="BU", hoa=MN_HOA, mh=_bu())
    assert r.care_of_address == MN_COA
    r = Record(frame=1, ts_ns=0, src=CN, dst=MN_COA, msg="BA", rh2=MN_HOA)
    # a packet to the MN: its care-of address is where it is delivered (issue 11 item 12)
    assert r.home_address == MN_HOA and r.care_of_address == MN_COA
    r = Record(frame=1, ts_ns=0, src=MN_HOA, dst=CN, msg="HoTI", tunnel_src=MN_COA, tunnel_dst=HA)
    assert r.home_address is None and r.care_of_address == MN_COA
    r = Record(frame=1, ts_ns=0, src=MN_COA, dst=CN, msg="CoTI")
    assert r.care_of_address == MN_COA


def test_record_from_packet_classifies_ebu_and_checks_checksum():
    body = P.bu_body(1, 0, 10)  # sequence 1, no flags, lifetime 40 s
    raw = P.mh_packet(MN_COA, CN, P.MH_BU, body, [P.nonce_indices(4, 0)], hoa=MN_HOA)
    diag = Diagnostics()
    rec = record_from_packet(7, 123, raw, 0, diag)
    assert diag.total == 0
    assert (rec.frame, rec.ts_ns, rec.msg, rec.hoa, rec.checksum_ok) == (
        7,
        123,
        "EBU",
        MN_HOA,
        True,
    )
    assert rec.mh.sequence == 1 and rec.mh_wire == raw[64:]


# ---------------------------------------------------------------- criterion 2: fuzz


def _record(buf: bytes):
    diag, stats = Diagnostics(), StreamStats()
    rec = record_from_packet(1, 0, buf, 0, diag, stats)
    return rec, diag, stats


@FUZZ
@given(buf=st.binary(max_size=200))
def test_random_bytes_never_raise(buf):
    problems: list[tuple[str, str]] = []
    decode_ipv6(buf, 0, problems)
    rec, diag, stats = _record(buf)
    assert all(isinstance(c, str) and c == c.lower() for c, _ in problems)
    # each decode_ipv6 problem is one counted diagnosis under its code
    for code in {c for c, _ in problems}:
        assert diag.counts[code] == sum(1 for c, _ in problems if c == code)


addresses = st.binary(min_size=16, max_size=16).map(lambda b: str(ipaddress.IPv6Address(b)))
_u8, _u16 = st.integers(0, 0xFF), st.integers(0, 0xFFFF)
_octets8 = st.binary(min_size=8, max_size=8)
# (MH type, message body after the 6 fixed octets), RFC 6275 6.1.2-6.1.9
_BODIES = st.one_of(
    st.just((P.MH_BRR, b"\0\0")),
    st.tuples(st.sampled_from((P.MH_HOTI, P.MH_COTI)), _octets8.map(P.hoti_body)),
    st.tuples(
        st.sampled_from((P.MH_HOT, P.MH_COT)), st.builds(P.hot_body, _u16, _octets8, _octets8)
    ),
    st.tuples(st.just(P.MH_BU), st.builds(P.bu_body, _u16, _u16, _u16)),
    st.tuples(st.just(P.MH_BA), st.builds(P.ba_body, _u8, _u16, _u16, st.booleans())),
    st.tuples(st.just(P.MH_BE), st.builds(P.be_body, _u8, addresses)),
)
_OPTIONS = st.lists(
    st.one_of(
        st.builds(P.nonce_indices, _u16, _u16),
        st.builds(P.alt_coa, addresses),
        st.builds(P.refresh_advice, _u16),
        st.just(P.coti_option()),
        st.builds(P.cot_option, _octets8),
    ),
    max_size=3,
)


@st.composite
def mobility_packets(draw):
    """A whole MH packet built by tests/support/rfc_packets.py (any message type, options
    of the RFCs' lengths, maybe a HAO, a type 2 routing header, an IPv6-in-IPv6 tunnel)."""
    mh_type, body = draw(_BODIES)
    src, dst = draw(addresses), draw(addresses)
    hoa, home = draw(st.none() | addresses), draw(st.none() | addresses)
    raw = P.mh_packet(src, dst, mh_type, body, draw(_OPTIONS), hoa=hoa, rh2=home)
    if draw(st.booleans()):
        raw = P.tunnel(draw(addresses), draw(addresses), raw)
    return raw


@FUZZ
@given(raw=mobility_packets(), data=st.data())
def test_truncated_packets_are_diagnosed(raw, data):
    """Cutting a valid MH packet anywhere inside the Mobility Header gives either a
    record whose message is flagged truncated, or none, and always a counted diagnosis."""
    full, diag, _ = _record(raw)
    # (only options kept raw for a wrong length are diagnosed in the whole packet)
    assert set(diag.counts) <= {"malformed_mh"}
    assert full.mh is not None and full.checksum_ok is True and not full.mh.truncated
    mh_start = len(raw) - len(full.mh_wire)
    cut = data.draw(st.integers(0, len(raw) - 1))
    rec, diag, stats = _record(raw[:cut])
    assert diag.total >= 1
    if cut > mh_start and rec is not None and rec.mh is not None:
        assert rec.mh.truncated and rec.checksum_ok is None
        assert any("cut off" in d.message for d in diag.kept if d.code == "malformed_mh")
    if rec is None:
        assert sum(stats.skipped.values()) == 1


@FUZZ
@given(raw=mobility_packets(), data=st.data())
def test_mutated_packets_never_raise(raw, data):
    buf = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 4))):
        buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    rec, diag, stats = _record(bytes(buf))
    assert rec is None or isinstance(rec, Record)
    if rec is not None and rec.mh is not None and rec.checksum_ok is False:
        assert diag.counts["bad_mh_checksum"] == 1
