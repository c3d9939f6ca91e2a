"""An ESP-protected home registration analysed without its SAs (RFC 3776 transport mode:
the Home Address option and the type 2 routing header in clear before ESP).

ebutool cannot see the BU and BA, but it sees that they ran: the rows say
`home_registration_opaque` (not `no_home_registration`), an early MN whose data left
after the EBA has mode `unknown` (conservative and eba_only differ by the HA's BA it
cannot see; it was `conservative`, quality ok), and a move back to an earlier address
is told by that ESP packet from there as by a BU to the HA (two of three rows were lost).
The captures come from the independent builder; the ESP payload is opaque octets (no SA
is given, so nothing decrypts them)."""

from __future__ import annotations

import struct

import ebutool
from tests.support import rfc_packets as P
from tests.support.rfc_scenarios import Scenario

NH_ESP = 50  # RFC 4303
SPI_MN_TO_HA, SPI_HA_TO_MN = 0x1001, 0x2002


def _esp(spi: int, seq: int) -> bytes:
    """An ESP header (SPI, sequence number) and 48 octets no one can read."""
    return struct.pack("!II", spi, seq) + bytes(range(48))


def _protect_home_registration(s: Scenario) -> None:
    """Replace each BU to the HA and each BA from it by an ESP packet of the same
    addresses (HAO / type 2 routing header kept in clear)."""
    out, seq = [], 1
    for ts, pkt in s.packets:
        src, dst = pkt[8:24], pkt[24:40]
        ha = P.ip(s.ha)
        if dst == ha and P.MH_BU in _mh_types(pkt):
            coa = _text(src)
            pkt = P.packet(coa, s.ha, NH_ESP, _esp(SPI_MN_TO_HA, seq), hoa=s.hoa)
        elif src == ha and P.MH_BA in _mh_types(pkt):
            coa = _text(dst)
            pkt = P.packet(s.ha, coa, NH_ESP, _esp(SPI_HA_TO_MN, seq), rh2=s.hoa)
        out.append((ts, pkt))
        seq += 1
    s.packets[:] = out


def _text(octets: bytes) -> str:
    import ipaddress

    return str(ipaddress.IPv6Address(octets))


def _mh_types(pkt: bytes) -> set[int]:
    """The MH type of an untunnelled IPv6 packet, walking its extension headers."""
    nh, off = pkt[6], 40
    while nh in (0, 43, 60):  # hop-by-hop, routing, destination options
        nh, off = pkt[off], off + (pkt[off + 1] + 1) * 8
    return {pkt[off + 2]} if nh == P.NH_MH else set()


def _early(s: Scenario, t0: float) -> None:
    """An early handover: RTT_HA 50 ms, RTT_RO (EBU/EBA) 20 ms, the MN's first data at
    +30 ms, after the EBA and before the HA's BA (eba_only, in clear)."""
    s.hoti(t0 - 100, b"H" * 8, s.old)
    s.hot(t0 - 60, b"H" * 8, index=1, coa=s.old)
    s.bu_ha(t0, seq=10)
    s.bu_cn(t0 + 0.005, seq=20, hidx=1, cidx=0, kbm_cidx=None)
    s.coti(t0 + 0.005, b"C" * 8)
    s.ba_cn(t0 + 20, seq=20, key=(1, None))
    s.cot(t0 + 20, b"C" * 8, index=2)
    s.data_up(t0 + 30)
    s.ba_ha(t0 + 50, seq=10)
    s.bu_cn(t0 + 21, seq=21, hidx=1, cidx=2)
    s.ba_cn(t0 + 41, seq=21, key=(1, 2))


def test_an_opaque_home_registration_leaves_an_early_mode_unknown(tmp_path):
    clear = Scenario()
    _early(clear, 1000)
    row = ebutool.analyze(clear.write(tmp_path, "clear.pcap")).iloc[0]
    assert (row["kind"], row["mode"], row["quality"]) == ("early", "eba_only", "eba_only")

    s = Scenario()
    _early(s, 1000)
    _protect_home_registration(s)
    row = ebutool.analyze(s.write(tmp_path, "esp.pcap")).iloc[0]
    assert (row["kind"], row["mode"]) == ("early", "unknown")
    assert str(row["diagnosis"]).split(";") == ["home_registration_opaque"]
    assert row["rtt_ha_ms"] != row["rtt_ha_ms"]  # empty (NaN), never a number
    assert row["send_latency_ms"] == 30.0


def _standard(s: Scenario, t0: float, new: str, seq: int, cidx: int, cookie: bytes) -> None:
    s.bu_ha(t0, seq=seq, coa=new)
    s.hoti(t0 + 0.01, cookie + b"H", coa=new)
    s.coti(t0 + 0.02, cookie + b"C", coa=new)
    s.ba_ha(t0 + 20, seq=seq, coa=new)
    s.cot(t0 + 30, cookie + b"C", index=cidx, coa=new)
    s.hot(t0 + 80, cookie + b"H", index=1, coa=new)
    s.bu_cn(t0 + 80.5, seq=seq + 100, hidx=1, cidx=cidx, coa=new)
    s.data_down(t0 + 96, new)
    s.ba_cn(t0 + 110.5, seq=seq + 100, key=(1, cidx), coa=new)
    s.data_up(t0 + 111, new)


def test_moving_back_is_seen_through_an_opaque_home_registration(tmp_path):
    s = Scenario()
    a, b = s.old, s.new
    s.data_up(900, a)
    _standard(s, 1000, b, 10, 2, b"1111111")
    _standard(s, 3000, a, 11, 3, b"2222222")  # back at A
    _standard(s, 5000, b, 12, 2, b"3333333")  # back at B
    _protect_home_registration(s)
    df = ebutool.analyze(s.write(tmp_path))
    assert [(r.prev_coa, r.coa) for r in df.itertuples()] == [(a, b), (b, a), (a, b)]
    assert set(df["diagnosis"]) == {"home_registration_opaque"}
    assert df["send_latency_ms"].tolist() == [111.0, 111.0, 111.0]


def test_an_early_handover_without_its_home_registration_has_no_mode(tmp_path):
    """The same handover with the BU and BA to the HA not captured at all: after the
    EBA, conservative and eba_only differ by the HA's BA the capture lacks: mode
    unknown (it was conservative, quality ok; review of stop 32)."""
    s = Scenario()
    _early(s, 1000)
    home = {P.ip(s.ha)}
    s.packets[:] = [
        (ts, pkt)
        for ts, pkt in s.packets
        if not (pkt[24:40] in home or pkt[8:24] in home)
        or P.MH_BU not in _mh_types(pkt)
        and P.MH_BA not in _mh_types(pkt)
    ]
    row = ebutool.analyze(s.write(tmp_path)).iloc[0]
    assert (row["kind"], row["mode"]) == ("early", "unknown")
    assert "no_home_registration" in str(row["diagnosis"]).split(";")
