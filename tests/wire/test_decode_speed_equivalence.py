"""The fast decoding paths give exactly what the straightforward formulas give.

record_from_packet runs for every candidate packet of a capture, so its helpers take
shortcuts: an integer-based one's-complement sum, a Record built without a Packet in
between, a direct match of the usual Home Address destination header, one pass over
a BU's options.  Each is checked here against the plain formulation it replaced
(written out in this file, independent of ebutool).
"""

from __future__ import annotations

import dataclasses
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import UDP
from scapy.layers.inet6 import HAO, MIP6MH_BU, IPv6, IPv6ExtHdrDestOpt, Pad1, PadN

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats, record_from_packet
from ebutool.records.record import classify_bu
from ebutool.wire.ipv6 import Packet, decode_ipv6, decode_ipv6_fields
from ebutool.wire.mh import messages as M
from ebutool.wire.mh import mobility_options as O
from ebutool.wire.mh.codec import checksum_ok, encode_mh, ones_complement_sum, pseudo_header_sum
from tests.support.strategies import addresses, content_options, mobility_messages, pk

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MN_HOA, MN_COA, CN = "2001:db8:1::100", "2001:db8:2::7", "2001:db8:3::5"


def words_sum(data: bytes, start: int = 0) -> int:
    """One's-complement sum, word by word with end-around carry (RFC 1071)."""
    if len(data) % 2:
        data = bytes(data) + b"\x00"
    total = start + sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def words_checksum_ok(mh: bytes, src: bytes, dst: bytes, nh: int) -> bool | None:
    if len(mh) < 6 or len(mh) < (mh[1] + 1) * 8:
        return None
    pseudo = words_sum(src + dst + struct.pack("!IxxxB", len(mh), nh))
    return words_sum(mh, pseudo) == 0xFFFF


# ---------------------------------------------------------------- checksums


@SETTINGS
@given(st.binary(max_size=300), st.one_of(st.integers(0, 0x3FFFF), st.sampled_from([0, 0xFFFF])))
def test_ones_complement_sum_is_the_word_sum(data, start):
    assert ones_complement_sum(data, start) == words_sum(data, start)
    assert ones_complement_sum(memoryview(data), start) == words_sum(data, start)


@SETTINGS
@given(
    st.lists(st.sampled_from([b"\x00\x00", b"\xff\xff", b"\x00\x01", b"\xff\xfe"]), max_size=6),
    st.sampled_from([0, 1, 0xFFFE, 0xFFFF, 0x10000]),
)
def test_ones_complement_sum_at_the_zero_and_all_ones_edges(words, start):
    data = b"".join(words)
    assert ones_complement_sum(data, start) == words_sum(data, start)


def pseudo_sum(src: bytes, dst: bytes, length: int, nh: int = 135) -> int:
    return words_sum(src + dst + struct.pack("!IxxxB", length, nh))


@SETTINGS
@given(
    st.binary(max_size=80),
    st.booleans(),
    st.binary(min_size=15, max_size=17),
    st.binary(min_size=15, max_size=17),
    st.sampled_from([135, 62, 0, 255]),
)
def test_checksum_ok_is_the_word_formula(mh, fit, src, dst, nh):
    if fit and len(mh) >= 8:  # a Header Len that fits, so the sum is really checked
        mh = mh[:1] + bytes((len(mh) // 8 - 1,)) + mh[2:]
    assert checksum_ok(mh, src, dst, nh) == words_checksum_ok(mh, src, dst, nh)


@SETTINGS
@given(mobility_messages, st.binary(min_size=16, max_size=16), st.binary(min_size=16, max_size=16))
def test_checksum_ok_on_real_messages(msg, src, dst):
    wire = encode_mh(msg)
    zeroed = wire[:4] + b"\0\0" + wire[6:]
    field = ~words_sum(zeroed, pseudo_sum(src, dst, len(wire))) & 0xFFFF
    good = wire[:4] + field.to_bytes(2, "big") + wire[6:]
    assert checksum_ok(good, src, dst) is True
    assert checksum_ok(zeroed, src, dst) == words_checksum_ok(zeroed, src, dst, 135)
    assert pseudo_header_sum(src, dst, len(wire), 135) == pseudo_sum(src, dst, len(wire))


# ---------------------------------------------------------------- IPv6 without a Packet


def _bu_with_hao(dst_options) -> bytes:
    return bytes(
        IPv6(src=MN_COA, dst=CN)
        / IPv6ExtHdrDestOpt(options=dst_options)
        / MIP6MH_BU(seq=5, flags="A", mhtime=10)
    )


def test_the_usual_home_address_header_and_other_layouts_decode_alike():
    usual = _bu_with_hao([HAO(hoa=MN_HOA)])  # scapy pads it: PadN, then HAO
    assert usual[40 + 2 : 40 + 8] == bytes((1, 2, 0, 0, 201, 16))
    for options in (
        [Pad1(), Pad1(), Pad1(), Pad1(), HAO(hoa=MN_HOA)],
        [PadN(optdata=b"\x07\x07"), HAO(hoa=MN_HOA)],
    ):
        other = _bu_with_hao(options)
        assert len(other) == len(usual) and other[40 + 2 : 40 + 8] != usual[40 + 2 : 40 + 8]
        p1, p2 = [], []
        a, b = decode_ipv6(usual, 0, p1), decode_ipv6(other, 0, p2)
        assert p1 == p2 == []
        # (scapy's MH checksums differ: compare all but the checksum octets)
        assert dataclasses.replace(a, mh=a.mh[6:]) == dataclasses.replace(b, mh=b.mh[6:])
    pkt = decode_ipv6(usual, 0, [])
    assert pkt.hoa == MN_HOA and pkt.pseudo_src == pk(MN_HOA)


def _records(buf, off):
    diag, stats = Diagnostics(keep=100), StreamStats()
    return record_from_packet(7, 1, buf, off, diag, stats), diag.kept, diag.counts, stats


@SETTINGS
@given(
    st.sampled_from(
        [
            _bu_with_hao([HAO(hoa=MN_HOA)]),
            bytes(IPv6(src=MN_COA, dst=CN) / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)]) / UDP()),
            bytes(IPv6(src=MN_COA, dst="2001:db8:1::1") / IPv6(src=MN_HOA, dst=CN) / UDP()),
        ]
    ),
    st.data(),
)
def test_fields_packet_and_record_agree_for_any_buffer_type(raw, data):
    # cut and flip an octet: the general paths (problems) as well as the clean one
    cut = data.draw(st.integers(0, len(raw)))
    raw = bytearray(raw[:cut] if data.draw(st.booleans()) else raw)
    if raw and data.draw(st.booleans()):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = bytes(raw)
    p1, p2 = [], []
    fields = decode_ipv6_fields(raw, 0, p1)
    pkt = decode_ipv6(raw, 0, p2)
    assert p1 == p2
    assert (pkt is None) == (fields is None)
    if pkt is not None:
        assert Packet(*fields) == pkt
        assert all(type(v) is bytes for v in (pkt.pseudo_src, pkt.pseudo_dst))
        assert pkt.mh is None or type(pkt.mh) is bytes
    want = _records(raw, 0)
    assert _records(bytearray(raw), 0) == want
    assert _records(memoryview(raw), 0) == want
    assert _records(b"\xee" * 14 + raw, 14) == want
    # inside a larger buffer walked by a library caller: bytes, bytearray, memoryview
    # at an offset, with other data after the packet, all decode alike (the copy of a
    # non-bytes buffer is cut at the IPv6 payload length, not taken to its end)
    padded = b"\xee" * 14 + raw + b"\x60" * 64
    want_padded = _records(padded, 14)
    assert _records(bytearray(padded), 14) == want_padded
    assert _records(memoryview(padded), 14) == want_padded


# ---------------------------------------------------------------- BU classification


def classify_by_lookups(bu, src, hoa):
    """classify_bu as DESIGN.md section 3 words it, one option lookup at a time."""
    home = hoa or src
    alt = bu.option(O.AlternateCareOfAddress)
    coa = alt.address if alt is not None else src
    rfc4866 = bu.option(O.CareOfTestInitOption) is not None
    if bu.lifetime == 0 or coa == home:
        return "BU", True, rfc4866
    ni = bu.option(O.NonceIndices)
    if not bu.flags & M.BU_FLAG_H and ni is not None and ni.careof_index == 0:
        return "EBU", False, rfc4866
    return "BU", False, rfc4866


@SETTINGS
@given(
    st.lists(
        st.one_of(
            content_options,
            st.builds(O.NonceIndices, st.integers(0, 3), st.integers(0, 2)),
            st.sampled_from([O.AlternateCareOfAddress(MN_HOA), O.AlternateCareOfAddress(MN_COA)]),
        ),
        max_size=6,
    ),
    st.sampled_from([0, 0x4000, 0x8000, 0xC000]),
    st.sampled_from([0, 1, 100]),
    st.sampled_from([MN_COA, MN_HOA]),
    st.one_of(st.none(), st.just(MN_HOA), addresses),
)
def test_classify_bu_in_one_pass_is_the_lookup_definition(options, flags, lifetime, src, hoa):
    bu = M.BindingUpdate(options=options, flags=flags, lifetime=lifetime)
    assert classify_bu(bu, src, hoa) == classify_by_lookups(bu, src, hoa)
