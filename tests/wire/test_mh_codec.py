"""The Mobility Header codec (issue 2, criteria 1 and 2 for decode_mh).

Ground truth comes from the RFCs, written here independently of ebutool: a reference
encoder (RFC 6275 6.1/6.2 layouts, RFC 4866 options), an option walker, and an RFC 1071
checksum over the RFC 8200 8.1 pseudo-header with RFC 6275's address rule.
"""

from __future__ import annotations

import struct
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ebutool.wire import build
from ebutool.wire.mh import messages as M
from ebutool.wire.mh import mobility_options as O
from ebutool.wire.mh.codec import aligned, checksum_ok, decode_mh, encode_mh, mac_data, mh_checksum
from tests.support.strategies import (
    MESSAGE_STRATEGIES,
    OPTION_STRATEGIES,
    RFC_OPTION_LENGTHS,
    addresses,
    draft_messages,
    explicitly_padded,
    finalized,
    mobility_messages,
    option_lists,
    pk,
    ref_checksum,
    rfc1071,
    u16,
    wire_ready,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# per message type / per option: 9 parametrisations each
PER_KIND = settings(SETTINGS, max_examples=120)

# ---------------------------------------------------------------- independent reference

RFC_MH_TYPES = {"BRR": 0, "HoTI": 1, "CoTI": 2, "HoT": 3, "CoT": 4, "BU": 5, "BA": 6, "BE": 7}
OPTIONS_START = {0: 8, 1: 16, 2: 16, 3: 24, 4: 24, 5: 12, 6: 12, 7: 24}
# RFC 6275 6.2 alignment requirements: type -> (x, y) of "xn+y".
RFC_ALIGNMENT = {2: (2, 0), 3: (8, 6), 4: (2, 0), 5: (8, 2)}


def ref_option(o) -> bytes:
    if isinstance(o, O.Pad1):
        return b"\x00"
    if isinstance(o, O.PadN):
        return bytes((1, len(o.data))) + o.data
    if isinstance(o, O.BindingRefreshAdvice):
        return b"\x02\x02" + struct.pack("!H", o.interval)
    if isinstance(o, O.AlternateCareOfAddress):
        return b"\x03\x10" + pk(o.address)
    if isinstance(o, O.NonceIndices):
        return b"\x04\x04" + struct.pack("!HH", o.home_index, o.careof_index)
    if isinstance(o, O.BindingAuthorizationData):
        return b"\x05\x0c" + o.authenticator
    if isinstance(o, O.CareOfTestInitOption):
        return b"\x0f\x00"
    if isinstance(o, O.CareOfTestOption):
        return b"\x10\x08" + o.keygen_token
    assert isinstance(o, O.UnknownOption)
    return bytes((o.type, len(o.data))) + o.data


def ref_encode(m) -> bytes:
    """RFC 6275 6.1 wire layout, written from the RFC's figures."""
    name = m.NAME
    if isinstance(m, M.OtherMobilityMessage):
        mhtype, body = m.type_number, m.data
    else:
        mhtype = RFC_MH_TYPES[name]
        if name == "BRR":
            body = struct.pack("!H", m.body_reserved)
        elif name in ("HoTI", "CoTI"):
            body = struct.pack("!H", m.body_reserved) + m.init_cookie
        elif name in ("HoT", "CoT"):
            body = struct.pack("!H", m.nonce_index) + m.init_cookie + m.keygen_token
        elif name == "BU":
            body = struct.pack("!HHH", m.sequence, m.flags, m.lifetime)
        elif name == "BA":
            body = struct.pack("!BBHH", m.status, m.flags, m.sequence, m.lifetime)
        else:
            body = struct.pack("!BB", m.status, m.body_reserved) + pk(m.home_address)
        assert 6 + len(body) == OPTIONS_START[mhtype]
    body += b"".join(ref_option(o) for o in getattr(m, "options", []))
    total = 6 + len(body)
    return (
        struct.pack("!BBBBH", m.payload_proto, total // 8 - 1, mhtype, m.reserved, m.checksum or 0)
        + body
    )


def walk_options(mh: bytes, start: int) -> list[tuple[int, int, int]]:
    """(offset, type, data length) of every option; Pad1 has length -1."""
    out, i, end = [], start, (mh[1] + 1) * 8
    while i < end:
        if mh[i] == 0:
            out.append((i, 0, -1))
            i += 1
        else:
            out.append((i, mh[i], mh[i + 1]))
            i += 2 + mh[i + 1]
    assert i == end, "options overrun the header length"
    return out


# ---------------------------------------------------------------- criterion 1: round trip


@pytest.mark.parametrize("name", sorted(MESSAGE_STRATEGIES))
@PER_KIND
@given(data=st.data())
def test_round_trip_every_message_type(name, data):
    strategy = MESSAGE_STRATEGIES[name]
    m = data.draw(st.one_of(wire_ready(strategy), explicitly_padded(strategy)))
    wire = encode_mh(m)
    assert wire == ref_encode(m)  # the encoder follows the RFC layout
    problems: list[str] = []
    back = decode_mh(wire, problems)
    assert back == m
    assert type(back) is type(m)
    assert back.mh_type == (m.type_number if name == "other" else RFC_MH_TYPES[name])
    # problems only for options kept raw because of a wrong length
    wrong_len = [
        o
        for o in getattr(m, "options", [])
        if isinstance(o, O.UnknownOption) and o.type in RFC_OPTION_LENGTHS
    ]
    assert len(problems) == len(wrong_len)


@pytest.mark.parametrize("name", sorted(OPTION_STRATEGIES))
@PER_KIND
@given(data=st.data())
def test_round_trip_every_option(name, data):
    opt = data.draw(OPTION_STRATEGIES[name])
    msg_name = data.draw(st.sampled_from(sorted(set(MESSAGE_STRATEGIES) - {"other"})))
    m = data.draw(MESSAGE_STRATEGIES[msg_name])
    before = data.draw(option_lists(max_size=2))
    m = replace(
        m, options=[o for o in before if not isinstance(o, O.BindingAuthorizationData)] + [opt]
    )
    if name in ("Pad1", "PadN"):
        m = data.draw(explicitly_padded(st.just(m)))
    else:
        m = finalized(aligned(m), data.draw(u16))
    back = decode_mh(encode_mh(m), [])
    assert back == m
    assert opt in back.options


@SETTINGS
@given(m=mobility_messages)
def test_lengths_and_header_len(m):
    wire = encode_mh(m)
    assert len(wire) % 8 == 0
    assert (wire[1] + 1) * 8 == len(wire)
    assert wire[1] == m.header_len
    if not isinstance(m, M.OtherMobilityMessage):
        walk_options(wire, OPTIONS_START[wire[2]])  # options end exactly at the header end


@SETTINGS
@given(m=draft_messages)
def test_aligned_meets_rfc6275_alignment(m):
    a = aligned(m)
    wire = encode_mh(a)
    assert len(wire) % 8 == 0
    if isinstance(m, M.OtherMobilityMessage):
        return
    walked = walk_options(wire, OPTIONS_START[wire[2]])
    content = [(off, t) for off, t, _ in walked if t not in (0, 1)]
    # every known option at its RFC 6275 alignment (options kept raw have none)
    known = [o for o in a.options if not isinstance(o, (O.Pad1, O.PadN))]
    assert len(known) == len(content)
    for (off, t), o in zip(content, known, strict=False):
        if not isinstance(o, O.UnknownOption) and t in RFC_ALIGNMENT:
            x, y = RFC_ALIGNMENT[t]
            assert off % x == y, (t, off)
    # Binding Authorization Data last (only padding may not follow it: nothing does)
    types = [t for _, t in content]
    if 5 in types and isinstance(known[types.index(5)], O.BindingAuthorizationData):
        assert types[-1] == 5 and isinstance(known[-1], O.BindingAuthorizationData)
    # the content options are the original ones, in order except auth moved last
    orig = [o for o in m.options if not isinstance(o, (O.Pad1, O.PadN))]
    auth = [o for o in orig if isinstance(o, O.BindingAuthorizationData)]
    assert known == [o for o in orig if o not in auth] + auth
    # padding only ever as much as needed: less than 8 octets before any option
    pads = 0
    for _, t, ln in walked:
        if t in (0, 1):
            pads += 1 if t == 0 else ln + 2
        else:
            assert pads < 8
            pads = 0
    assert pads < 8


@SETTINGS
@given(m=draft_messages)
def test_aligned_is_idempotent(m):
    # synth aligns, replaces the authenticator, and aligns again: the layout must not move
    assert aligned(aligned(m)) == aligned(m)


def test_aligned_binding_auth_data_hand_example():
    # BU: options start at 12.  AltCoA needs 8n+6 -> PadN(2) at 12, AltCoA at 14..31;
    # NonceIndices at 32..37 (2n); auth needs 8n+2 -> 38 needs 4 octets to 42: PadN(4);
    # auth 42..55; total 56 = 7 * 8.
    bu = M.BindingUpdate(
        sequence=1,
        options=[
            O.BindingAuthorizationData(b"A" * 12),
            O.AlternateCareOfAddress("2001:db8::1"),
            O.NonceIndices(7, 0),
        ],
    )
    wire = encode_mh(aligned(bu))
    expected = (
        bytes((59, 6, 5, 0, 0, 0))
        + struct.pack("!HHH", 1, 0, 0)
        + b"\x01\x00"
        + b"\x03\x10"
        + pk("2001:db8::1")
        + b"\x04\x04"
        + struct.pack("!HH", 7, 0)
        + b"\x01\x02\x00\x00"
        + b"\x05\x0c"
        + b"A" * 12
    )
    assert wire == expected


def test_aligned_keeps_every_binding_auth_data():
    bu = M.BindingUpdate(
        options=[O.BindingAuthorizationData(b"1" * 12), O.BindingAuthorizationData(b"2" * 12)]
    )
    back = decode_mh(encode_mh(aligned(bu)), [])
    assert [o for o in back.options if isinstance(o, O.BindingAuthorizationData)] == [
        O.BindingAuthorizationData(b"1" * 12),
        O.BindingAuthorizationData(b"2" * 12),
    ]


def test_encode_refuses_unpadded_or_inconsistent_length():
    bu = M.BindingUpdate(options=[O.NonceIndices(1, 2)])  # 12 + 6 = 18 octets
    with pytest.raises(ValueError):
        encode_mh(bu)
    with pytest.raises(ValueError):
        encode_mh(replace(aligned(bu), header_len=5))


# ---------------------------------------------------------------- checksums


@SETTINGS
@given(m=mobility_messages, src=addresses, dst=addresses)
def test_checksum_verifies_independently(m, src, dst):
    s, d = pk(src), pk(dst)
    wire = encode_mh(m, s, d)
    field = struct.unpack("!H", wire[4:6])[0]
    assert field == ref_checksum(wire, s, d)
    assert checksum_ok(wire, s, d) is True
    assert mh_checksum(wire[:4] + b"\0\0" + wire[6:], s, d) == field
    # any single-octet change outside the checksum field is detected
    bad = bytearray(wire)
    bad[-1] ^= 0x01
    assert checksum_ok(bytes(bad), s, d) is False
    # the pseudo-header matters: another destination does not verify
    other = bytes(15) + b"\x01" if d != bytes(15) + b"\x01" else bytes(16)
    assume(rfc1071(s + other) != rfc1071(s + d))
    assert checksum_ok(wire, s, other) is False


def test_checksum_of_truncated_header_cannot_be_checked():
    wire = encode_mh(
        finalized(aligned(M.BindingUpdate(options=[O.NonceIndices(1, 2)]))), bytes(16), bytes(16)
    )
    assert checksum_ok(wire[:-1], bytes(16), bytes(16)) is None
    assert checksum_ok(wire[:3], bytes(16), bytes(16)) is None


def test_checksum_old_mobility_protocol_number():
    wire = encode_mh(finalized(aligned(M.BindingRefreshRequest())))
    s, d = pk("2001:db8::1"), pk("2001:db8::2")
    fixed = wire[:4] + struct.pack("!H", ref_checksum(wire, s, d, nh=62)) + wire[6:]
    assert checksum_ok(fixed, s, d, next_header=62) is True
    assert checksum_ok(fixed, s, d) is False


@settings(max_examples=150, deadline=None)
@given(
    m=draft_messages,
    src=addresses,
    dst=addresses,
    hoa=st.none() | addresses,
    home=st.none() | addresses,
)
def test_build_packet_pseudo_header_and_hao_alignment(m, src, dst, hoa, home):
    """build.mh_packet: lengths, HAO at 8n+6, checksum with HAO as source and the type 2
    routing header's address as destination (RFC 6275 6.1.1, 6.3, 6.4)."""
    pkt = build.mh_packet(m, src, dst, hoa=hoa, home=home)
    assert pkt[0] >> 4 == 6
    assert struct.unpack("!H", pkt[4:6])[0] == len(pkt) - 40
    assert pkt[8:24] == pk(src) and pkt[24:40] == pk(dst)
    nh, i = pkt[6], 40
    ph_src, ph_dst = pk(src), pk(dst)
    seen = []
    while nh in (43, 60):
        hlen = (pkt[i + 1] + 1) * 8
        if nh == 43:
            assert pkt[i + 2] == 2 and pkt[i + 3] == 1 and hlen == 24  # RFC 6275 6.4
            ph_dst = pkt[i + 8 : i + 24]
        else:
            j = i + 2
            while j < i + hlen:
                if pkt[j] == 0:
                    j += 1
                    continue
                if pkt[j] == 201:
                    assert (j - i) % 8 == 6  # RFC 6275 6.3: 8n+6
                    assert pkt[j + 1] == 16
                    ph_src = pkt[j + 2 : j + 18]
                j += 2 + pkt[j + 1]
            assert j == i + hlen
        seen.append(nh)
        nh, i = pkt[i], i + hlen
    assert nh == 135
    assert seen == ([43] if home else []) + ([60] if hoa else [])  # RFC 8200 order
    assert ph_src == pk(hoa or src) and ph_dst == pk(home or dst)
    mh = pkt[i:]
    assert (mh[1] + 1) * 8 == len(mh)
    assert struct.unpack("!H", mh[4:6])[0] == ref_checksum(mh, ph_src, ph_dst)
    assert decode_mh(mh, []) == finalized(aligned(m), struct.unpack("!H", mh[4:6])[0])


# ---------------------------------------------------------------- MAC input


@SETTINGS
@given(m=wire_ready(st.one_of(MESSAGE_STRATEGIES["BU"], MESSAGE_STRATEGIES["BA"])))
def test_mac_data_covers_up_to_auth_type_and_length(m):
    wire = encode_mh(m, bytes(16), bytes(16))
    walked = walk_options(wire, 12)
    auth = [off for off, t, ln in walked if t == 5 and ln == 12]
    got = mac_data(wire)
    if not auth:
        assert got is None
        return
    off = auth[0]
    assert got == wire[:4] + b"\x00\x00" + wire[6 : off + 2]
    # octets after the header (piggybacked payload) never change it
    assert mac_data(wire + b"\x05\x0c" + bytes(20)) == got


def test_mac_data_none_when_auth_cut_off():
    bu = finalized(aligned(M.BindingUpdate(options=[O.BindingAuthorizationData(b"Z" * 12)])))
    wire = encode_mh(bu)
    assert mac_data(wire) is not None
    assert mac_data(wire[:-4]) is None
    assert mac_data(b"\x3b") is None


# ---------------------------------------------------------------- decoding by hand-built bytes


def test_decode_hand_built_binding_update():
    # BU seq 0x1234, flags A|H|K = 0xd000, lifetime 100 (400 s), NonceIndices(5, 0)
    # at 12..17, auth at 18 = 8*2+2, ends at 32.
    wire = (
        bytes((59, 3, 5, 0))
        + b"\xab\xcd"
        + b"\x12\x34\xd0\x00\x00\x64"
        + b"\x04\x04\x00\x05\x00\x00"
        + b"\x05\x0c"
        + bytes(range(12))
    )
    assert len(wire) == 32
    problems: list[str] = []
    m = decode_mh(wire, problems)
    assert problems == []
    assert isinstance(m, M.BindingUpdate)
    assert (m.sequence, m.flags, m.lifetime, m.checksum, m.header_len) == (
        0x1234,
        0xD000,
        100,
        0xABCD,
        3,
    )
    assert m.options == [O.NonceIndices(5, 0), O.BindingAuthorizationData(bytes(range(12)))]
    assert M.flag_letters(m.flags, M.BU_FLAGS) == "AHK"


def test_decode_binding_error_and_other_type():
    be = bytes((59, 2, 7, 0, 0, 0, 2, 0)) + pk("2001:db8::77")
    m = decode_mh(be, [])
    assert isinstance(m, M.BindingError) and m.status == 2 and m.home_address == "2001:db8::77"
    other = bytes((59, 1, 11, 9, 0, 1)) + bytes(range(10))
    m = decode_mh(other, [])
    assert isinstance(m, M.OtherMobilityMessage)
    assert (m.mh_type, m.reserved, m.data) == (11, 9, bytes(range(10)))


def test_decode_keeps_unknown_and_wrong_length_options_raw():
    wire = (
        bytes((59, 2, 5, 0, 0, 0))
        + bytes(6)
        + b"\x63\x02\xaa\xbb"  # unknown type 99
        + b"\x04\x02\x00\x01"  # Nonce Indices with length 2, not 4
        + b"\x10\x00"  # Care-of Test with no token
        + b"\x01\x00"
    )  # PadN(0)
    problems: list[str] = []
    m = decode_mh(wire, problems)
    assert m.options == [
        O.UnknownOption(99, b"\xaa\xbb"),
        O.UnknownOption(4, b"\x00\x01"),
        O.UnknownOption(16, b""),
        O.PadN(b""),
    ]
    assert len(problems) == 2 and all(p.startswith("BU: ") for p in problems)


def test_decode_unaligned_options_like_scapy_built_captures():
    # Options right after the fixed part, no alignment padding at all: still decoded.
    wire = bytes((59, 3, 5, 0, 0, 0)) + bytes(6) + b"\x03\x10" + pk("2001:db8::9") + b"\x01\x00"
    m = decode_mh(wire, [])
    assert m.options == [O.AlternateCareOfAddress("2001:db8::9"), O.PadN(b"")]


@pytest.mark.parametrize("cut", range(0, 32))
def test_decode_truncated_message(cut):
    """A capture cut inside a message: fixed fields decoded when complete (truncated=True),
    else None; a problem either way; never an exception."""
    wire = encode_mh(
        finalized(
            aligned(
                M.BindingUpdate(
                    sequence=9,
                    lifetime=5,
                    options=[O.NonceIndices(3, 4), O.BindingAuthorizationData(b"q" * 12)],
                )
            )
        )
    )
    assert len(wire) == 32
    problems: list[str] = []
    m = decode_mh(wire[:cut], problems)
    assert problems
    if cut < 12:
        assert m is None
    else:
        assert isinstance(m, M.BindingUpdate) and m.truncated
        assert (m.sequence, m.lifetime, m.header_len) == (9, 5, 3)
        assert O.BindingAuthorizationData(b"q" * 12) not in m.options
        if cut >= 18:
            assert m.options[0] == O.NonceIndices(3, 4)


def test_decode_header_len_too_small_for_type():
    # HoT needs 24 octets; Header Len 0 says 8.
    problems: list[str] = []
    assert decode_mh(bytes((59, 0, 3, 0)) + bytes(30), problems) is None
    assert problems and "shorter than" in problems[0]


# ---------------------------------------------------------------- criterion 2: fuzz decode_mh


@settings(max_examples=300, deadline=None)
@given(buf=st.binary(max_size=300))
def test_decode_mh_random_bytes_never_raise(buf):
    problems: list[str] = []
    m = decode_mh(buf, problems)
    assert all(isinstance(p, str) and "\n" not in p for p in problems)
    if m is None:
        assert problems  # an unusable header is always explained
    else:
        assert isinstance(m, M.MobilityMessage)
        assert m.truncated == (len(buf) < (buf[1] + 1) * 8)
        if m.truncated:
            assert problems
        mac_data(buf)
        checksum_ok(buf, bytes(16), bytes(16))


@settings(max_examples=300, deadline=None)
@given(m=mobility_messages, data=st.data())
def test_decode_mh_truncated_or_mutated_valid_messages(m, data):
    wire = encode_mh(m)
    cut = data.draw(st.integers(0, len(wire)))
    problems: list[str] = []
    got = decode_mh(wire[:cut], problems)
    if cut == len(wire):
        assert got == m
    else:
        assert problems
        assert got is None or got.truncated
    flipped = bytearray(wire)
    pos = data.draw(st.integers(0, len(wire) - 1))
    flipped[pos] = data.draw(st.integers(0, 255))
    decode_mh(bytes(flipped), [])


@given(st.lists(st.one_of(*OPTION_STRATEGIES.values()), max_size=8))
def test_first_options_is_option_of_each_class(options):
    bu = M.BindingUpdate(options=options)
    classes = (
        O.NonceIndices,
        O.BindingAuthorizationData,
        O.AlternateCareOfAddress,
        O.CareOfTestInitOption,
        O.PadN,
    )
    got = bu.first_options(*classes)
    assert got == tuple(bu.option(c) for c in classes)
    assert all(g is bu.option(c) for g, c in zip(got, classes, strict=False))  # the same objects
