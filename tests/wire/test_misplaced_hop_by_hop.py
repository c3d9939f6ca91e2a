"""A Hop-by-Hop Options header anywhere but right after the IPv6 header (docs/decoding.md,
``misplaced_hop_by_hop``).

RFC 8200 4.1 restricts it to that place and receivers drop a packet with one elsewhere
(tshark: "IPv6 Hop-by-Hop extension header must appear immediately after IPv6 header",
ipv6.hopopts.not_first).  ebutool skipped it as any extension header and decoded the BU
behind it as a message its CN got, without a word.  Now it says so (and still decodes).

Packets are built with scapy (an independent encoder); tshark is the peer.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from scapy.layers.inet6 import HAO, MIP6MH_BU, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records

MN_HOA, MN_COA, CN = "2001:db8:1::100", "2001:db8:2::7", "2001:db8:3::5"
ETH = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def _packets(first: bool):
    ip = IPv6(src=MN_COA, dst=CN)
    hao = IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOA)])
    if first:
        return ETH / ip / IPv6ExtHdrHopByHop() / hao / MIP6MH_BU(seq=1)
    return ETH / ip / hao / IPv6ExtHdrHopByHop() / MIP6MH_BU(seq=1)


def _read(path):
    diag, stats = Diagnostics(), StreamStats()
    return list(read_records(str(path), diag, stats)), diag


@pytest.mark.parametrize("first", [True, False], ids=["first", "after_dstopts"])
def test_a_hop_by_hop_header_after_another_is_said(tmp_path, first):
    path = tmp_path / "c.pcap"
    wrpcap(str(path), [_packets(first)])
    recs, diag = _read(path)
    (rec,) = recs
    assert rec.msg == "BU" and rec.hoa == MN_HOA and rec.mh.sequence == 1
    if first:
        assert "misplaced_hop_by_hop" not in diag.counts
    else:
        assert diag.counts["misplaced_hop_by_hop"] == 1
        assert diag.kept[0].frame == 1 and "RFC 8200 4.1" in diag.kept[0].message


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_tshark_agrees(tmp_path):
    path = tmp_path / "c.pcap"
    wrpcap(str(path), [_packets(True), _packets(False)])
    out = subprocess.run(
        ["tshark", "-r", str(path), "-T", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    flagged = ["ipv6.hopopts.not_first" in json.dumps(p) for p in json.loads(out)]
    _, diag = _read(path)
    ours = [
        any(d.frame == n and d.code == "misplaced_hop_by_hop" for d in diag.kept) for n in (1, 2)
    ]
    assert flagged == ours == [False, True]
