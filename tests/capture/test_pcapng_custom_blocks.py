"""Frame numbers after pcapng blocks that are not packets: they are tshark's
frame.number, so Custom Blocks (0x00000BAD, 0x40000BAD), which Wireshark shows as
frames, count, and name resolution, statistics, decryption secrets and unknown blocks
do not.  Captures packed by hand (tests/capture/pcapng_raw.py)."""

from __future__ import annotations

import shutil
import struct
import subprocess

import pytest

from ebutool.capture import open_frames
from ebutool.core.diagnostics import Diagnostics
from ebutool.stream.reader import capture_records
from tests.capture.pcapng_raw import block, epb, idb, shb
from tests.support.cli import SAMPLES

LINKTYPE_IPV6 = 229  # the samples' link type
PEN_EXAMPLE = 32473  # RFC 5612's documentation enterprise number
COUNTED = [  # (block, does tshark show it as a frame)
    (block(0x00000BAD, struct.pack("<I", PEN_EXAMPLE) + b"copyable"), True),
    (block(0x40000BAD, struct.pack("<I", PEN_EXAMPLE) + b"do not copy"), True),
    (block(4, struct.pack("<HH", 0, 0)), False),  # name resolution: end of records only
    (block(5, struct.pack("<III", 0, 0, 0)), False),  # interface statistics
    (block(0x0A, struct.pack("<II", 0x544C534B, 4) + b"keys"), False),  # decryption secrets
    (block(0x77, b"unknown"), False),
]


def _sample_packets() -> list[tuple[int, bytes]]:
    data = (SAMPLES / "mixed.pcap").read_bytes()  # little-endian, microseconds
    pos, out = 24, []
    while pos < len(data):
        sec, usec, caplen, _ = struct.unpack_from("<IIII", data, pos)
        out.append((sec * 1_000_000 + usec, data[pos + 16 : pos + 16 + caplen]))
        pos += 16 + caplen
    return out


def _capture(tmp_path, extras: list[tuple[bytes, bool]]):
    """A pcapng of mixed.pcap's packets with ``extras`` in turn after every 7th packet,
    and the frame number each packet has (by construction)."""
    parts, numbers, n = [shb(), idb(LINKTYPE_IPV6)], [], 0
    for i, (ts, pkt) in enumerate(_sample_packets()):
        parts.append(epb(0, ts, pkt))
        n += 1
        numbers.append(n)
        if i % 7 == 3:
            extra, counted = extras[(i // 7) % len(extras)]
            parts.append(extra)
            n += counted
    path = tmp_path / "blocks.pcapng"
    path.write_bytes(b"".join(parts))
    return path, numbers


@pytest.mark.parametrize("which", range(len(COUNTED)))
def test_frame_numbers_after_non_packet_blocks(tmp_path, which):
    path, numbers = _capture(tmp_path, [COUNTED[which]])
    frames = list(open_frames(str(path), Diagnostics()))
    assert [f.frame for f in frames] == numbers
    # the fast path (analyze's) numbers its records the same
    records = list(capture_records(str(path), Diagnostics()))
    assert len(records) > 50
    assert {r.frame for r in records} <= set(numbers)
    by_data = {f.frame: f for f in frames}
    assert all(by_data[r.frame].ts_ns == r.ts_ns for r in records)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_frame_numbers_are_tsharks(tmp_path):
    path, numbers = _capture(tmp_path, COUNTED)
    shown = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "mipv6", "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    records = list(capture_records(str(path), Diagnostics()))
    assert len(shown) > 50
    assert sorted(r.frame for r in records if r.mh is not None) == [int(x) for x in shown]
