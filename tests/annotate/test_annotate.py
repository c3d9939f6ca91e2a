"""``ebutool annotate``: tshark reads the comments back and selects each episode exactly.

Ground truth: captures built octet by octet from the RFC text (tests.support.rfc_packets
through rfc_scenarios, pcapng blocks through tests.support.capbuild), where the test
knows which packet belongs to which handover because it placed it there; tshark (and
dpkt for the packet octets) read the output, never ebutool."""

from __future__ import annotations

import gzip
import shutil
import struct
import subprocess

import dpkt
import pytest

from tests.support import capbuild
from tests.support import rfc_packets as P
from tests.support.rfc_scenarios import Scenario, ns

TSHARK = shutil.which("tshark")
pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark not installed")
THIRD_COA = "2001:db8:c::100"
NOISE = ("2001:db8:99::1", "2001:db8:99::2")  # two hosts that are no part of Mobile IPv6


def _handover(s: Scenario, t: float, seq: int, coa: str, hidx: int, cidx: int) -> list[int]:
    """A standard handover to ``coa`` at ``t`` ms; the times (ns) of its packets."""
    cookie = bytes([seq]) * 8
    s.bu_ha(t, seq, coa=coa)
    s.hoti(t + 1, cookie, coa=coa)
    s.coti(t + 2, cookie, coa=coa)
    s.cot(t + 20, cookie, index=cidx, coa=coa)
    s.ba_ha(t + 40, seq, coa=coa)
    s.hot(t + 60, cookie, index=hidx, coa=coa)
    s.bu_cn(t + 70, seq + 1, hidx, cidx, coa=coa)
    s.ba_cn(t + 90, seq + 1, coa=coa, key=(hidx, cidx))
    s.data_up(t + 100, coa=coa)  # the first route-optimised data each way
    s.data_down(t + 130, coa=coa)
    s.data_up(t + 200, coa=coa)  # later data: no part of the episode's timeline
    s.data_down(t + 230, coa=coa)
    s.add(t + 150, P.udp_packet(*NOISE))
    return [ns(t + d) for d in (0, 1, 2, 20, 40, 60, 70, 90, 100, 130)]


@pytest.fixture
def two_handovers() -> tuple[Scenario, list[set[int]]]:
    """An MN's two handovers; the frame numbers of each (1-based, in time order)."""
    s = Scenario()
    s.add(500, P.udp_packet(*NOISE))
    first = _handover(s, 1000, 10, s.new, 1, 2)
    second = _handover(s, 3000, 20, THIRD_COA, 3, 1)
    times = sorted(t for t, _ in s.packets)
    assert len(set(times)) == len(times)  # distinct: the frame order is the time order
    frame = {t: i for i, t in enumerate(times, 1)}
    return s, [{frame[t] for t in first}, {frame[t] for t in second}]


def _tshark(path, *args: str) -> list[list[str]]:
    res = subprocess.run(
        [TSHARK, "-r", str(path), *args], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    return [line.split("\t") for line in res.stdout.splitlines()]


def _selected(path, episode: int) -> set[int]:
    rows = _tshark(
        path, "-Y", f'frame.comment contains "episode={episode};"', "-T", "fields", "-e",
        "frame.number",
    )  # fmt: skip
    return {int(r[0]) for r in rows}


def _comments(path) -> dict[int, str]:
    rows = _tshark(path, "-T", "fields", "-e", "frame.number", "-e", "frame.comment")
    return {int(r[0]): r[1] for r in rows if len(r) > 1 and r[1]}


def _times_and_lengths(path) -> list[list[str]]:
    return _tshark(
        path, "-T", "fields", "-e", "frame.number", "-e", "frame.time_epoch", "-e",
        "frame.len", "-e", "frame.cap_len", "-e", "frame.interface_id",
    )  # fmt: skip


def test_each_episode_is_selected_exactly(cli, tmp_path, two_handovers):
    s, expected = two_handovers
    src = s.write(tmp_path)
    out = tmp_path / "out.pcapng"
    res = cli("annotate", src, "-o", out)
    assert res.exit_code == 0, res.output
    assert _selected(out, 1) == expected[0]
    assert _selected(out, 2) == expected[1]
    comments = _comments(out)
    assert set(comments) == expected[0] | expected[1]  # the others are copied bare
    for frame in expected[0]:
        assert comments[frame].startswith("ebutool: mn=2001:db8:1::100; episode=1; ")
    frames = sorted(expected[0])  # BU to the HA first, BU to the CN 7th (time order)
    assert "role=BU; from=MN; to=HA;" in comments[frames[0]]
    assert "role=BU; from=MN; to=CN; auth=valid;" in comments[frames[6]]
    assert "role=BA; from=CN; to=MN; auth=valid;" in comments[frames[7]]
    assert "role=first_ro_data; from=MN; to=CN;" in comments[frames[8]]
    assert "role=first_ro_data; from=CN; to=MN;" in comments[frames[9]]
    assert all("kind=standard;" in c for c in comments.values())


def test_timestamps_lengths_and_octets_are_the_input(cli, tmp_path, two_handovers):
    s, _ = two_handovers
    src = s.write(tmp_path)
    out = tmp_path / "out.pcapng"
    assert cli("annotate", src, "-o", out).exit_code == 0
    # ns exact (a ns pcap); a pcap has no interface id, the copy's one interface is 0
    assert [r[:4] for r in _times_and_lengths(out)] == [r[:4] for r in _times_and_lengths(src)]
    assert {r[4] for r in _times_and_lengths(out)} == {"0"}
    with open(out, "rb") as f:
        got = [bytes(pkt) for _, pkt in dpkt.pcapng.Reader(f)]
    assert got == [pkt for _, pkt in sorted(s.packets)]


def test_compressed_input_and_stdout(cli, tmp_path, two_handovers):
    s, expected = two_handovers
    packed = tmp_path / "in.pcap.gz"
    packed.write_bytes(gzip.compress(s.pcap()))
    res = cli("annotate", packed, "-o", "-")
    assert res.exit_code == 0
    out = tmp_path / "from-stdout.pcapng"
    out.write_bytes(res.stdout_bytes)
    assert _selected(out, 2) == expected[1]


def test_pcapng_keeps_interfaces_and_other_blocks(cli, tmp_path, two_handovers):
    s, expected = two_handovers
    eth = bytes(12) + b"\x08\x00" + bytes(46)  # an IPv4 frame on another interface
    packets = [(0, ns(10), eth)] + [(1, t, pkt) for t, pkt in sorted(s.packets)]
    for big in (False, True):
        data = capbuild.pcapng_bytes([(1, None), (101, 9)], packets, big_endian=big)
        src = tmp_path / f"in-{big}.pcapng"
        src.write_bytes(data)
        out = tmp_path / f"out-{big}.pcapng"
        assert cli("annotate", src, "-o", out).exit_code == 0
        assert _times_and_lengths(out) == _times_and_lengths(src)
        shifted = [{f + 1 for f in frames} for frames in expected]  # the IPv4 frame first
        assert _selected(out, 1) == shifted[0] and _selected(out, 2) == shifted[1]
        assert set(_comments(out)) == shifted[0] | shifted[1]


def test_a_simple_packet_block_becomes_an_enhanced_one(cli, tmp_path, two_handovers):
    s, expected = two_handovers
    ordered = sorted(s.packets)
    first = min(expected[0])  # the BU to the HA: sent as an SPB
    blocks = [capbuild.pcapng_shb(), capbuild.pcapng_idb(101, 9)]
    for i, (t, pkt) in enumerate(ordered, 1):
        if i == first:
            blocks.append(capbuild.pcapng_block(3, struct.pack("<I", len(pkt)) + pkt))
        else:
            body = struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(pkt), len(pkt))
            blocks.append(capbuild.pcapng_block(6, body + pkt))
    src = tmp_path / "spb.pcapng"
    src.write_bytes(b"".join(blocks))
    out = tmp_path / "spb-out.pcapng"
    assert cli("annotate", src, "-o", out).exit_code == 0
    assert _selected(out, 1) == expected[0]
    assert "role=BU; from=MN; to=HA;" in _comments(out)[first]
    with open(out, "rb") as f:
        assert [bytes(p) for _, p in dpkt.pcapng.Reader(f)] == [p for _, p in ordered]


def test_custom_blocks_not_to_be_copied_are_left_out(cli, tmp_path, two_handovers):
    """pcapng draft 4.8: a Custom Block of type 0x40000BAD must not be copied by a tool
    that writes a changed file; 0x00000BAD may be.  Both sit after the first packet of
    the second handover; the closing line says what was left out."""
    s, expected = two_handovers
    ordered = sorted(s.packets)
    after = min(expected[1])
    pen = struct.pack("<I", 32473)  # RFC 5612's documentation enterprise number
    blocks = [capbuild.pcapng_shb(), capbuild.pcapng_idb(101, 9)]
    for i, (t, pkt) in enumerate(ordered, 1):
        body = struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(pkt), len(pkt))
        blocks.append(capbuild.pcapng_block(6, body + pkt))
        if i == after:
            blocks.append(capbuild.pcapng_block(0x00000BAD, pen + b"copy me!"))
            blocks.append(capbuild.pcapng_block(0x40000BAD, pen + b"dont copy me"))
    src = tmp_path / "custom.pcapng"
    src.write_bytes(b"".join(blocks))
    out = tmp_path / "custom-out.pcapng"
    res = cli("annotate", src, "-o", out)
    assert res.exit_code == 0
    assert f"{len(ordered) + 1} frames" in res.stderr
    assert "1 pcapng Custom Block of type 0x40000BAD (not to be copied) left out" in res.stderr
    data = out.read_bytes()
    assert b"copy me!" in data and b"dont copy me" not in data
    # in the copy, the packets after the copyable block are one frame later
    shifted = [{f + (f > after) for f in frames} for frames in expected]
    assert _selected(out, 1) == shifted[0] and _selected(out, 2) == shifted[1]
    kept = _tshark(out, "-Y", "not ipv6", "-T", "fields", "-e", "frame.number")
    assert kept == [[str(after + 1)]]  # the copyable Custom Block, the only non-IPv6 frame


def test_a_trace_is_refused(cli, tmp_path):
    from tests.support.cli import SAMPLES

    res = cli("annotate", SAMPLES / "standard.jsonl", "-o", tmp_path / "x.pcapng")
    assert res.exit_code == 3 and "not a capture" in res.stderr
    assert not (tmp_path / "x.pcapng").exists()


def test_vantage_as_role_or_as_analyze_gives_it(cli, tmp_path, two_handovers):
    s, expected = two_handovers
    src = s.write(tmp_path)
    for given in ("mn", f"{src.name}=mn"):
        out = tmp_path / "v.pcapng"
        assert cli("annotate", src, "--vantage", given, "-o", out).exit_code == 0
        assert _selected(out, 1) == expected[0]
    res = cli("annotate", src, "--vantage", "other.pcap=mn", "-o", tmp_path / "w.pcapng")
    assert res.exit_code == 2 and "names another file" in res.stderr
    assert cli("annotate", src, "--vantage", "moon", "-o", tmp_path / "w.pcapng").exit_code == 2


def test_episode_numbers_and_kinds_are_analyzes(cli, tmp_path):
    from tests.support.cli import SAMPLES

    src = SAMPLES / "mixed.pcap"
    out = tmp_path / "mixed.pcapng"
    assert cli("annotate", src, "-o", out).exit_code == 0
    rows = cli("analyze", src, "-f", "csv", "--columns", "episode,mn,kind").stdout.splitlines()[1:]
    assert len(rows) == 11
    comments = _comments(out)
    for row in rows:
        episode, mn, kind = row.split(",")
        mine = [c for c in comments.values() if f"episode={episode};" in c]
        assert mine and all(f"mn={mn}; episode={episode}; kind={kind};" in c for c in mine)
