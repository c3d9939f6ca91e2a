"""An IPv6 Payload Length that disagrees with the frame it came in (docs/decoding.md,
``ipv6_length_exceeds_frame``).

Longer than the frame had on the wire (the frame is whole: captured length = original
length): a false length, tshark's "IPv6 payload length exceeds framing length"; the
packet's length is unknown (ip_len 0, and replay's byte sums that hold it are empty),
not 40 + the false Payload Length.  A snap-length cut is no such thing.  Shorter than
the frame (Ethernet padding, a trailer): the Payload Length is the packet's.

Packets are built by hand (tests/support/rfc_packets.py, capbuild.py), never with
ebutool's encoders; expected values are the ones the test put in.
"""

from __future__ import annotations

import struct

import pandas as pd

from ebutool.cn_replay import replay
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records
from tests.support import rfc_packets as P
from tests.support.capbuild import LINKTYPE_ETHERNET, pcap_bytes
from tests.support.rfc_scenarios import Scenario

CN, COA, HOA = "2001:db8:2::2", "2001:db8:4::100", "2001:db8:1::100"
ETHERNET = b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd"  # destination, source, type IPv6
ETHERNET_MIN_FRAME = 60  # octets without the FCS (IEEE 802.3): shorter frames are padded
T0 = 1_700_000_000 * 10**9
CUT = len(ETHERNET) + 40 + 24 + 4  # a snap length inside the UDP header, after the RH2


def _with_plen(pkt: bytes, plen: int) -> bytes:
    return pkt[:4] + struct.pack("!H", plen) + pkt[6:]


def _read(tmp_path, frames):
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(frames, LINKTYPE_ETHERNET))
    diag, stats = Diagnostics(), StreamStats()
    return list(read_records(str(path), diag, stats)), diag


def test_a_payload_length_beyond_a_whole_frame_is_warned_and_the_length_unknown(tmp_path):
    pkt = P.udp_packet(CN, COA, rh2=HOA)  # 40 + 24 (RH2) + 8 + 32 octets
    false = _with_plen(pkt, 1000)
    recs, diag = _read(tmp_path, [(T0, ETHERNET + false), (T0 + 1000, ETHERNET + pkt)])
    assert [r.ip_len for r in recs] == [0, len(pkt)]
    assert dict(diag.counts) == {"ipv6_length_exceeds_frame": 1}
    kept = diag.kept[0]
    assert kept.frame == 1
    assert "payload length 1000" in kept.message and f"carries {len(pkt) - 40}" in kept.message
    assert recs[0].rh2 == HOA  # the packet is still decoded as far as it goes


def test_a_snap_length_cut_is_not_a_false_length(tmp_path):
    """The capture kept the frame up to the UDP header: the Payload Length fits the original
    length, so ip_len is the packet's and nothing is said about it."""
    pkt = P.udp_packet(CN, COA, rh2=HOA)
    frame = ETHERNET + pkt
    recs, diag = _read(tmp_path, [(T0, frame[:CUT], len(frame))])
    assert [r.ip_len for r in recs] == [len(pkt)]
    assert "ipv6_length_exceeds_frame" not in diag.counts


def test_a_payload_length_beyond_the_wire_length_of_a_cut_frame_is_false_too(tmp_path):
    pkt = _with_plen(P.udp_packet(CN, COA, rh2=HOA), 500)
    frame = ETHERNET + pkt
    recs, diag = _read(tmp_path, [(T0, frame[:CUT], len(frame))])
    assert [r.ip_len for r in recs] == [0]
    assert dict(diag.counts) == {"ipv6_length_exceeds_frame": 1}


def test_a_trailer_is_not_the_packets(tmp_path):
    """Octets after the Payload Length (an 8-octet trailer after a HoTI) are not part
    of the packet: ip_len and the Mobility Header stop at the Payload Length, and the
    checksum verifies.  (Ethernet padding, below 60 octets, follows only packets of
    fewer than 6 payload octets: never one with a Mobility Header, of 8 or more.)"""
    hoti = P.mh_packet(COA, CN, 1, P.hoti_body(b"C" * 8), hoa=HOA)
    recs, diag = _read(tmp_path, [(T0, ETHERNET + hoti + b"\xee" * 8)])
    assert len(ETHERNET + hoti) >= ETHERNET_MIN_FRAME
    assert [r.ip_len for r in recs] == [len(hoti)]
    assert recs[0].msg == "HoTI" and recs[0].checksum_ok is True
    assert recs[0].mh_wire == P.mh_of(hoti)
    assert not diag.counts


UNVERIFIED_MS = [1100, 1200]


def test_replay_leaves_a_false_length_out_of_its_byte_sums(tmp_path):
    """An EBU answered by an EBA, then two CN packets to the care-of address while the
    binding is tentative, one with a Payload Length its whole frame does not carry: the
    unverified byte sum is empty (not 40 + the false length added in), the packet count
    2, with replay_length_unknown saying why."""
    s = Scenario()
    s.hoti(900, b"HHHHHHHH", s.old)
    s.hot(920, b"HHHHHHHH", index=3, coa=s.old)
    s.bu_cn(1000, seq=20, hidx=3, cidx=0, kbm_cidx=None)
    s.ba_cn(1020, seq=20, key=(3, None))
    good = P.udp_packet(s.cn, s.new, rh2=s.hoa)
    s.add(UNVERIFIED_MS[0], good)
    s.add(UNVERIFIED_MS[1], _with_plen(good, 60000))
    diag = Diagnostics()
    r = replay(s.write(tmp_path), diag=diag)
    row = r.exposure.iloc[0]
    assert row["unverified_packets"] == 2
    assert pd.isna(row["unverified_bytes"])
    assert diag.counts["ipv6_length_exceeds_frame"] == 1
    assert diag.counts["replay_length_unknown"] == 1
    text = next(d.message for d in diag.kept if d.code == "replay_length_unknown")
    assert "payload length exceeds its frame" in text
