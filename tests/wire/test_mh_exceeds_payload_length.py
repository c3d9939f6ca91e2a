"""A Mobility Header longer than its IPv6 Payload Length leaves it (docs/decoding.md,
``mh_exceeds_payload_length``).

The frame holds the whole packet as sent, and its IPv6 header says the packet ends
inside the Mobility Header: a malformed packet (a receiver, which trusts the Payload
Length, drops it), not a snap-length cut.  It was read as a message the capture cut
("HoTI cut off after 8 of 16 octets", truncated): now its own counted warning, no
message and no octets (which would make it a cut message to the analysis), the packet
kept as data and counted as malformed_mh.  A true capture cut is unchanged.

Packets are built by hand (tests/support/rfc_packets.py), never with ebutool's
encoders; the lengths are the ones the test put in.
"""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records
from tests.support import rfc_packets as P
from tests.support.capbuild import LINKTYPE_ETHERNET, pcap_bytes

CN, COA, HOA, HA = "2001:db8:2::2", "2001:db8:4::100", "2001:db8:1::100", "2001:db8:1::1"
ETHERNET = b"\x02" * 6 + b"\x04" * 6 + b"\x86\xdd"
T0 = 1_700_000_000 * 10**9
HOTI_LEN = 16  # MH fixed part (6), reserved (2), cookie (8): Header Len 1


def _hoti() -> bytes:
    pkt = P.mh_packet(COA, CN, 1, P.hoti_body(b"C" * 8))
    assert len(pkt) == 40 + HOTI_LEN and pkt[40 + 1] == 1
    return pkt


def _with_plen(pkt: bytes, plen: int, at: int = 0) -> bytes:
    return pkt[: at + 4] + struct.pack("!H", plen) + pkt[at + 6 :]


def _read(tmp_path, frames):
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(frames, LINKTYPE_ETHERNET))
    diag, stats = Diagnostics(), StreamStats()
    return list(read_records(str(path), diag, stats)), diag, stats, path


@pytest.mark.parametrize("held", [HOTI_LEN, 8], ids=["frame-holds-all", "frame-ends-at-plen"])
def test_a_payload_length_shorter_than_the_mh_is_malformed_not_cut(tmp_path, held):
    """Payload Length 8 of a 16-octet HoTI; the frame holds all 16 octets, or just the 8
    the header claims (its original length 8 too: no snap length)."""
    pkt = _with_plen(_hoti(), 8)[: 40 + held]
    recs, diag, stats, _ = _read(tmp_path, [(T0, ETHERNET + pkt)])
    assert dict(diag.counts) == {"mh_exceeds_payload_length": 1}
    text = diag.kept[0].message
    assert "16 octets (Header Len 1)" in text and "Payload Length 8" in text
    assert "not a capture cut" in text and "cut off after" not in text
    (rec,) = recs
    assert rec.mh is None and rec.mh_wire is None and rec.msg == "data"
    assert rec.proto == 135 and rec.ip_len == 40 + 8
    assert stats.skipped["malformed_mh"] == 1 and not stats.messages


@pytest.mark.parametrize(
    ("plen", "said"), [(4, "16 octets (Header Len 1)"), (1, "at least 6 octets")]
)
def test_shorter_than_the_fixed_fields(tmp_path, plen, said):
    """Payload Length 4 (the Header Len octet is in it) or 1 (it is not)."""
    pkt = _with_plen(_hoti(), plen)
    recs, diag, _, _ = _read(tmp_path, [(T0, ETHERNET + pkt)])
    assert dict(diag.counts) == {"mh_exceeds_payload_length": 1}
    assert said in diag.kept[0].message and f"leaves it {plen}:" in diag.kept[0].message
    assert recs[0].mh is None and recs[0].mh_wire is None


def test_inside_a_tunnel(tmp_path):
    """The tunnelled HoTI's Payload Length says 8; the outer packet holds all 16."""
    inner = _with_plen(_hoti(), 8)
    pkt = P.tunnel(HA, HOA, inner)
    recs, diag, _, _ = _read(tmp_path, [(T0, ETHERNET + pkt)])
    assert dict(diag.counts) == {"mh_exceeds_payload_length": 1}
    assert recs[0].tunnel_src == HA and recs[0].mh is None
    assert recs[0].ip_len == len(pkt)  # the outer packet's length is right


def test_a_capture_cut_is_still_a_cut(tmp_path):
    """The same HoTI with its true Payload Length, the capture keeping 8 of its 16 MH
    octets (original length 16 + 40 + 14): a cut message, as before."""
    frame = ETHERNET + _hoti()
    recs, diag, _, _ = _read(tmp_path, [(T0, frame[: len(frame) - 8], len(frame))])
    assert "mh_exceeds_payload_length" not in diag.counts
    assert diag.counts["malformed_mh"] == 1
    assert "cut off after 8 of 16 octets" in diag.kept[0].message
    assert recs[0].mh_wire == _hoti()[40:48]  # the octets the capture holds, for the analysis


def test_a_fragment_is_not_this(tmp_path):
    """A first fragment (M=1) that holds 8 of the HoTI's 16 octets: the rest is in the
    next fragment; fragmented_mh says it, not mh_exceeds_payload_length."""
    hoti = _hoti()
    frag = struct.pack("!BBHI", 135, 0, 1, 0x1234)  # next header MH, offset 0, M=1
    pkt = P.ipv6(COA, CN, 44, frag + hoti[40:48])
    recs, diag, _, _ = _read(tmp_path, [(T0, ETHERNET + pkt)])
    assert "mh_exceeds_payload_length" not in diag.counts
    assert diag.counts["fragmented_mh"] == 1


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_sees_the_short_payload_too(tmp_path):
    """tshark as a peer: its Mobility Header dissector gets the 8 octets of the Payload
    Length, not the frame's 16 (mip6.hlen 1 in a payload of 8)."""
    pkt = _with_plen(_hoti(), 8)
    _, _, _, path = _read(tmp_path, [(T0, ETHERNET + pkt)])
    out = subprocess.run(
        ["tshark", "-r", str(path), "-T", "fields", "-e", "ipv6.plen", "-e", "mip6.hlen"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert out == ["8", "1"]
