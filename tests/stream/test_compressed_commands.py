"""Compressed inputs in every command that reads captures (issue 15 item 1), and read as a
stream: never whole into memory.

Ground truth: each command's output on the plain sample; the compressed forms are made
here with the standard library and ``zstandard``, under the plain file's own name (the
outputs name their inputs), so only the content differs."""

from __future__ import annotations

import gzip
import tracemalloc

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records
from tests.stream.test_compressed import COMPRESSORS
from tests.support.capbuild import LINKTYPE_IPV6, pcap_bytes
from tests.support.cli import SAMPLES, run_cli

SAMPLE = "mixed.pcap"
KEYS = SAMPLES / "mixed.keys.json"

# command -> (arguments after the input, the compression it is fed)
COMMANDS = {
    "verify": (["--keys", KEYS, "-f", "csv"], "gzip"),
    "replay": (["-f", "csv"], "bzip2"),
    "compare": (["-f", "csv"], "xz"),
    "timeline": (["--episode", "1"], "zstd"),
    "convert": (["-o", "-"], "gzip"),
    "annotate": (["-o", "-"], "zstd"),
    "decode": (["-f", "csv"], "xz"),
    "analyze": (["-f", "csv", "--summary"], "bzip2"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_reads_compressed_captures(tmp_path, command):
    args, packing = COMMANDS[command]
    plain_dir, packed_dir = tmp_path / "plain", tmp_path / "packed"
    plain_dir.mkdir()
    packed_dir.mkdir()
    data = (SAMPLES / SAMPLE).read_bytes()
    (plain_dir / SAMPLE).write_bytes(data)
    (packed_dir / SAMPLE).write_bytes(COMPRESSORS[packing](data))
    plain = run_cli(command, plain_dir / SAMPLE, *args)
    packed = run_cli(command, packed_dir / SAMPLE, *args)
    assert plain.exit_code == packed.exit_code == 0, packed.output
    want, got = plain.stdout_bytes, packed.stdout_bytes
    if command == "convert":  # the trace header names the input's path
        want, got = want.split(b"\n", 1)[1], got.split(b"\n", 1)[1]
    assert len(want) > 100 and got == want


def test_a_compressed_capture_is_never_whole_in_memory(tmp_path):
    """~50 MB of capture in a small gzip file: reading it allocates a bounded amount
    (buffers of about 1 MiB; ~5.5 MB measured), far below the decompressed size."""
    udp = bytes.fromhex("60000000") + (1360).to_bytes(2, "big") + bytes([17, 64])
    udp += bytes(15) + b"\x01" + bytes(15) + b"\x02" + bytes(1360)  # ::1 -> ::2, UDP
    frames = [(10**18 + i * 1000, udp) for i in range(36_000)]
    raw = pcap_bytes(frames, LINKTYPE_IPV6, nanosecond=True)
    path = tmp_path / "big.pcap.gz"
    path.write_bytes(gzip.compress(raw, compresslevel=1))
    size = len(raw)
    del raw, frames
    stats = StreamStats()
    tracemalloc.start()
    try:
        for _ in read_records(path, Diagnostics(), stats):
            pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 50e6
    assert peak < 16e6, f"peak {peak / 1e6:.1f} MB for {size / 1e6:.1f} MB"
