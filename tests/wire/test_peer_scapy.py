"""Cross-check with scapy's Mobile IPv6 layers (issue 2, criterion 4).

* scapy encodes (MIP6MH_* and MIP6Opt* layers, written to a pcap with scapy's own
  writer), ebutool decodes: every field equals what the test gave scapy, and the MH
  checksum scapy computed verifies.
* ebutool encodes (``ebutool.wire.build``), scapy dissects: scapy's fields equal the
  hypothesis-generated message.
* scapy's RFC 6275 option alignment (its "autopad") and ebutool's ``aligned()`` give the
  same octets.

scapy quirks (scapy 2.5/2.6; see docs/decoding.md):

* ``MIP6OptNonceIndices`` and ``MIP6OptBindingAuthData`` default to ``olen=16``; RFC
  6275 says 4 and 12.  Left at the default, the packet is malformed (ebutool keeps the
  option raw and diagnoses it), so every test here passes ``olen`` explicitly.
* The BU ``flags`` field is 7 bits named LSB first, ``"PRMKLHA"`` (A = 0x40 of the field =
  0x8000 on the wire), followed by a 9-bit ``reserved``; BA ``flags`` is 3 bits ``"PRK"``
  and a 5-bit ``res2``.  scapy's BU defaults are flags ``KHA`` and ``mhtime=3`` (12 s).
* ``in6_chksum`` takes the Home Address for the pseudo-header only when the Destination
  Options header holds exactly one option, the HAO; with an explicit PadN before it,
  scapy checksums with the care-of source address, and ebutool rightly reports the
  checksum as bad.
* ``MIP6MH_BE`` has no autopad (options must be padded by hand); ``MIP6MH_Generic``
  (MH types 8 and up) takes ``8 * len - 6`` octets of message data instead of
  ``8 * len + 2``, leaving the rest as ``Raw``.
"""

from __future__ import annotations

import struct
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BRR,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_Generic,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptAltCoA,
    MIP6OptBindingAuthData,
    MIP6OptBRAdvice,
    MIP6OptCareOfTest,
    MIP6OptCareOfTestInit,
    MIP6OptNonceIndices,
    MIP6OptUnknown,
    PadN,
)
from scapy.utils import wrpcap

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import record_from_packet
from ebutool.stream.reader import read_records
from ebutool.wire import build
from ebutool.wire.mh import messages as M
from ebutool.wire.mh import mobility_options as O
from ebutool.wire.mh.codec import aligned, encode_mh
from tests.support.strategies import (
    MESSAGE_STRATEGIES,
    addresses,
    octets8,
    pk,
    ref_checksum,
    u8,
    u16,
    wire_ready,
)

MN_HOA, MN_COA, CN = "2001:db8:1::100", "2001:db8:2::7", "2001:db8:3::5"
SCAPY_BU_FLAGS = "PRMKLHA"  # LSB first, 7 bits, shifted left by 9 on the wire
SCAPY_BA_FLAGS = "PRK"  # LSB first, 3 bits, shifted left by 5 on the wire


def decode_one(raw: bytes):
    diag = Diagnostics()
    rec = record_from_packet(1, 0, raw, 0, diag)
    return rec, diag


# ---------------------------------------------------------------- scapy encodes, ebutool decodes


@st.composite
def scapy_options(draw):
    """(scapy option layers, the ebutool options they must decode to)."""
    pairs = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["bra", "acoa", "ni", "coti", "cot", "unknown"]))
        if kind == "bra":
            v = draw(u16)
            pairs.append((MIP6OptBRAdvice(rinter=v), O.BindingRefreshAdvice(v)))
        elif kind == "acoa":
            a = draw(addresses)
            pairs.append((MIP6OptAltCoA(acoa=a), O.AlternateCareOfAddress(a)))
        elif kind == "ni":
            h, c = draw(u16), draw(u16)
            pairs.append((MIP6OptNonceIndices(olen=4, hni=h, coni=c), O.NonceIndices(h, c)))
        elif kind == "coti":
            pairs.append((MIP6OptCareOfTestInit(), O.CareOfTestInitOption()))
        elif kind == "cot":
            t = draw(octets8)
            pairs.append((MIP6OptCareOfTest(cokt=t), O.CareOfTestOption(t)))
        else:  # a type neither ebutool nor scapy knows
            t, d = draw(st.integers(100, 255)), draw(st.binary(max_size=20))
            pairs.append((MIP6OptUnknown(otype=t, odata=d), O.UnknownOption(t, d)))
    if draw(st.booleans()):
        a = draw(st.binary(min_size=12, max_size=12))
        pairs.append(
            (
                MIP6OptBindingAuthData(olen=12, authenticator=int.from_bytes(a, "big")),
                O.BindingAuthorizationData(a),
            )
        )
    return [p for p, _ in pairs], [o for _, o in pairs]


@st.composite
def scapy_messages(draw):
    """(scapy MH layer, expected ebutool message class, expected field values)."""
    opts, expect_opts = draw(scapy_options())
    kind = draw(st.sampled_from(["BRR", "HoTI", "CoTI", "HoT", "CoT", "BU", "BA", "BE"]))
    if kind == "BRR":
        return MIP6MH_BRR(options=opts), M.BindingRefreshRequest, {}, expect_opts
    if kind in ("HoTI", "CoTI"):
        c = draw(octets8)
        cls = MIP6MH_HoTI if kind == "HoTI" else MIP6MH_CoTI
        return (
            cls(cookie=c, options=opts),
            M.HomeTestInit if kind == "HoTI" else M.CareOfTestInit,
            {"init_cookie": c},
            expect_opts,
        )
    if kind in ("HoT", "CoT"):
        i, c, t = draw(u16), draw(octets8), draw(octets8)
        cls = MIP6MH_HoT if kind == "HoT" else MIP6MH_CoT
        return (
            cls(index=i, cookie=c, token=t, options=opts),
            M.HomeTest if kind == "HoT" else M.CareOfTest,
            {"nonce_index": i, "init_cookie": c, "keygen_token": t},
            expect_opts,
        )
    if kind == "BU":
        seq, life = draw(u16), draw(u16)
        letters = "".join(draw(st.sets(st.sampled_from(SCAPY_BU_FLAGS))))
        value = sum(1 << SCAPY_BU_FLAGS.index(x) for x in letters)
        return (
            MIP6MH_BU(seq=seq, flags=value, mhtime=life, options=opts),
            M.BindingUpdate,
            {"sequence": seq, "lifetime": life, "flags": _flags(letters, M.BU_FLAGS)},
            expect_opts,
        )
    if kind == "BA":
        st_, seq, life = draw(u8), draw(u16), draw(u16)
        letters = "".join(draw(st.sets(st.sampled_from(SCAPY_BA_FLAGS))))
        value = sum(1 << SCAPY_BA_FLAGS.index(x) for x in letters)
        return (
            MIP6MH_BA(status=st_, flags=value, res2=0, seq=seq, mhtime=life, options=opts),
            M.BindingAcknowledgement,
            {
                "status": st_,
                "sequence": seq,
                "lifetime": life,
                "flags": _flags(letters, M.BA_FLAGS),
            },
            expect_opts,
        )
    st_, home = draw(u8), draw(addresses)
    return MIP6MH_BE(status=st_, ha=home), M.BindingError, {"status": st_, "home_address": home}, []


def _flags(letters: str, table: dict[int, str]) -> int:
    """Flag letters -> the wire bits, from the RFC bit positions written in the test."""
    rfc = (
        {"A": 0x8000, "H": 0x4000, "L": 0x2000, "K": 0x1000, "M": 0x0800, "R": 0x0400, "P": 0x0200}
        if table is M.BU_FLAGS
        else {"K": 0x80, "R": 0x40, "P": 0x20}
    )
    return sum(rfc[x] for x in letters)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=scapy_messages(), hoa=st.none() | addresses, home=st.none() | addresses)
def test_ebutool_decodes_what_scapy_encodes(case, hoa, home):
    layer, cls, fields, opts = case
    pkt = IPv6(src=MN_COA, dst=CN)
    if home:
        pkt = pkt / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[home])
    if hoa:
        pkt = pkt / IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
    raw = bytes(pkt / layer)
    rec, diag = decode_one(raw)
    assert diag.total == 0, diag.kept
    m = rec.mh
    assert type(m) is cls
    for k, v in fields.items():
        assert getattr(m, k) == v, k
    assert [o for o in m.options if not isinstance(o, (O.Pad1, O.PadN))] == opts
    assert (rec.hoa, rec.rh2) == (hoa, home)
    assert rec.checksum_ok is True  # scapy's checksum follows RFC 6275's rule


def test_scapy_capture_file_through_ebutool(tmp_path):
    """The same through a pcap file written by scapy's own writer, Ethernet link type."""
    from scapy.layers.l2 import Ether

    def eth():  # explicit MACs: scapy would otherwise resolve them (slow, needs routes)
        return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")

    pkts = [
        eth() / IPv6(src=MN_HOA, dst=CN) / MIP6MH_HoTI(cookie=b"homecook"),
        eth() / IPv6(src=MN_COA, dst=CN) / MIP6MH_CoTI(cookie=b"careofck"),
        eth()
        / IPv6(src=CN, dst=MN_HOA)
        / MIP6MH_HoT(index=3, cookie=b"homecook", token=b"HOMETOKN"),
        eth()
        / IPv6(src=CN, dst=MN_COA)
        / MIP6MH_CoT(index=4, cookie=b"careofck", token=b"COATOKEN"),
        eth()
        / IPv6(src=MN_COA, dst=CN)
        / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)])
        / MIP6MH_BU(
            seq=42,
            flags="A",
            mhtime=100,
            options=[
                MIP6OptNonceIndices(olen=4, hni=3, coni=0),
                MIP6OptBindingAuthData(olen=12, authenticator=0x0102030405060708090A0B0C),
            ],
        ),
        eth()
        / IPv6(src=CN, dst=MN_COA)
        / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[MN_HOA])
        / MIP6MH_BA(status=0, flags=0, seq=42, mhtime=100),
        eth() / IPv6(src=CN, dst=MN_COA) / MIP6MH_BE(status=1, ha=MN_HOA),
        eth() / IPv6(src=CN, dst=MN_COA) / MIP6MH_BRR(),
    ]
    path = tmp_path / "scapy.pcap"
    wrpcap(str(path), pkts)
    diag = Diagnostics()
    recs = [r for r in read_records(path, diag) if r.mh is not None]
    assert diag.total == 0, diag.kept
    assert [r.msg for r in recs] == ["HoTI", "CoTI", "HoT", "CoT", "EBU", "BA", "BE", "BRR"]
    assert all(r.checksum_ok for r in recs)
    bu = recs[4]
    assert (bu.mh.sequence, bu.mh.lifetime, bu.mh.flags, bu.hoa) == (42, 100, 0x8000, MN_HOA)
    assert bu.mh.option(O.BindingAuthorizationData).authenticator == bytes(range(1, 13))
    assert recs[3].mh.keygen_token == b"COATOKEN" and recs[2].mh.nonce_index == 3
    assert recs[5].rh2 == MN_HOA and recs[6].mh.home_address == MN_HOA


# ---------------------------------------------------------------- scapy quirks, pinned


def test_quirk_nonce_indices_default_length():
    raw = bytes(IPv6(src=MN_COA, dst=CN) / MIP6MH_BU(options=[MIP6OptNonceIndices(hni=1, coni=0)]))
    assert raw[40 + 12 :].find(b"\x04\x10") >= 0  # scapy wrote olen=16
    rec, diag = decode_one(raw)
    assert rec.mh.option(O.NonceIndices) is None
    assert diag.counts["malformed_mh"] >= 1


def test_quirk_binding_auth_data_default_length():
    raw = bytes(
        IPv6(src=MN_COA, dst=CN) / MIP6MH_BU(options=[MIP6OptBindingAuthData(authenticator=5)])
    )
    rec, diag = decode_one(raw)
    assert rec.mh.option(O.BindingAuthorizationData) is None
    assert diag.counts["malformed_mh"] >= 1


def test_quirk_scapy_checksum_ignores_hao_after_explicit_padding():
    pkt = (
        IPv6(src=MN_COA, dst=CN)
        / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00\x00"), HAO(hoa=MN_HOA)])
        / MIP6MH_BU(seq=1)
    )
    raw = bytes(pkt)
    mh = raw[64:]
    csum = struct.unpack("!H", mh[4:6])[0]
    assert csum == ref_checksum(mh, pk(MN_COA), pk(CN))  # scapy: care-of source
    assert csum != ref_checksum(mh, pk(MN_HOA), pk(CN))  # RFC 6275: home address
    rec, diag = decode_one(raw)
    assert rec.hoa == MN_HOA and rec.checksum_ok is False
    assert diag.counts["bad_mh_checksum"] == 1


def test_quirk_bu_defaults():
    raw = bytes(IPv6(src=MN_COA, dst=CN) / MIP6MH_BU())
    rec, _ = decode_one(raw)
    assert rec.mh.flags == 0x8000 | 0x4000 | 0x1000 and rec.mh.lifetime == 3


# ---------------------------------------------------------------- alignment: scapy == ebutool


@settings(max_examples=200, deadline=None)
@given(opts=scapy_options(), seq=u16)
def test_scapy_autopad_equals_ebutool_aligned(opts, seq):
    """Both place each option on its RFC 6275 alignment with the same minimal padding."""
    layers, expect = opts
    # scapy pads in the order given; ebutool moves auth last, which scapy_options already does
    scapy_mh = bytes(MIP6MH_BU(seq=seq, flags=0, mhtime=0, cksum=0, options=layers))
    ours = encode_mh(aligned(M.BindingUpdate(sequence=seq, options=expect)))
    assert ours == scapy_mh


# ---------------------------------------------------------------- ebutool encodes, scapy dissects

SCAPY_CLASS = {
    "BRR": MIP6MH_BRR,
    "HoTI": MIP6MH_HoTI,
    "CoTI": MIP6MH_CoTI,
    "HoT": MIP6MH_HoT,
    "CoT": MIP6MH_CoT,
    "BU": MIP6MH_BU,
    "BA": MIP6MH_BA,
    "BE": MIP6MH_BE,
    "other": MIP6MH_Generic,
}


def _scapy_comparable(o) -> bool:
    # scapy has classes for option types 6-14 (NEMO, MN-ID, ...) with their own layouts;
    # raw options of those types (and known types with a wrong length) are not compared.
    return not isinstance(o, O.UnknownOption) or o.type > 16


def _scapy_option_value(p):
    if isinstance(p, MIP6OptBRAdvice):
        return O.BindingRefreshAdvice(p.rinter)
    if isinstance(p, MIP6OptAltCoA):
        return O.AlternateCareOfAddress(p.acoa)
    if isinstance(p, MIP6OptNonceIndices):
        return O.NonceIndices(p.hni, p.coni)
    if isinstance(p, MIP6OptBindingAuthData):
        return O.BindingAuthorizationData(p.authenticator.to_bytes(12, "big"))
    if isinstance(p, MIP6OptCareOfTestInit):
        return O.CareOfTestInitOption()
    if isinstance(p, MIP6OptCareOfTest):
        return O.CareOfTestOption(p.cokt)
    if isinstance(p, MIP6OptUnknown):
        return O.UnknownOption(p.otype, p.odata)
    return None  # Pad1 / PadN


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    m=wire_ready(st.one_of(*(v for k, v in MESSAGE_STRATEGIES.items() if k != "other"))),
    src=addresses,
    dst=addresses,
    hoa=st.none() | addresses,
    home=st.none() | addresses,
)
def test_scapy_decodes_what_ebutool_encodes(m, src, dst, hoa, home):
    m = replace(m, options=[o for o in m.options if _scapy_comparable(o)])
    m = aligned(m)
    raw = build.mh_packet(m, src, dst, hoa=hoa, home=home, align=False)
    p = IPv6(raw)
    layer = p[SCAPY_CLASS[m.NAME]]
    assert (layer.nh, layer.mhtype, layer.res) == (m.payload_proto, m.mh_type, m.reserved)
    assert (layer.len + 1) * 8 == len(encode_mh(m))
    assert layer.cksum == ref_checksum(
        bytes(raw[len(raw) - (layer.len + 1) * 8 :]), pk(hoa or src), pk(home or dst)
    )
    if hoa:
        assert p[HAO].hoa == hoa
    if home:
        assert p[IPv6ExtHdrRouting].addresses == [home] and p[IPv6ExtHdrRouting].type == 2
    if isinstance(m, M.BindingRefreshRequest):
        assert layer.res2 == m.body_reserved
    elif isinstance(m, M.HomeTestInit):
        assert (layer.reserved, layer.cookie) == (struct.pack("!H", m.body_reserved), m.init_cookie)
    elif isinstance(m, M.HomeTest):
        assert (layer.index, layer.cookie, layer.token) == (
            m.nonce_index,
            m.init_cookie,
            m.keygen_token,
        )
    elif isinstance(m, M.BindingUpdate):
        assert (layer.seq, layer.mhtime) == (m.sequence, m.lifetime)
        assert (int(layer.flags) << 9) | layer.reserved == m.flags
    elif isinstance(m, M.BindingAcknowledgement):
        assert (layer.status, layer.seq, layer.mhtime) == (m.status, m.sequence, m.lifetime)
        assert (int(layer.flags) << 5) | layer.res2 == m.flags
    elif isinstance(m, M.BindingError):
        assert (layer.status, layer.reserved, layer.ha) == (
            m.status,
            m.body_reserved,
            m.home_address,
        )
    got = [v for v in map(_scapy_option_value, layer.options) if v is not None]
    assert got == [o for o in m.options if not isinstance(o, (O.Pad1, O.PadN))]
