"""Third-party malformed and edge-case captures through ``python -m ebutool decode``
(issue 2, criterion 5).  See ``../shared/captures/README.md`` for their provenance.

Ground truth: frame counts and IPv6/MH octets are read with dpkt and a few lines of
hand parsing, checksums recomputed with an independent RFC 1071 implementation.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dpkt
import pytest

from tests.support.strategies import ref_checksum

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT.parent / "shared" / "captures"
pytestmark = pytest.mark.skipif(not CAPTURES.is_dir(), reason=f"{CAPTURES} not present")

FUZZED = (
    (
        ["tcpdump/ipv6-mobility-header-oobr.pcap"]
        + sorted(
            f"tcpdump/{p.name}" for p in (CAPTURES / "tcpdump").glob("mobility_opt_asan*.pcap")
        )
        + ["zeek/ipv6-mobility-dst-opts.pcap"]
    )
    if CAPTURES.is_dir()
    else []
)


def run_decode(name: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ebutool", "decode", str(CAPTURES / name), "--format", "csv"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@functools.cache
def results() -> dict[str, subprocess.CompletedProcess]:
    names = FUZZED + ["tcpdump/ipv6_mobility_1.pcap"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(names, pool.map(run_decode, names), strict=False))


def decode_in_process(name: str):
    """The library path behind the command, for the well-formed captures: the CLI path is
    covered above and spawning a process per file is slow."""
    from ebutool.core.diagnostics import Diagnostics
    from ebutool.report.message_table import decode_frame
    from ebutool.stream.reader import read_records

    diag = Diagnostics()
    return decode_frame(read_records(CAPTURES / name, diag)), diag


def rows(proc) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(proc.stdout)))


def frames_of(name: str) -> list[tuple[int, bytes, int]]:
    """(frame number, frame octets, IPv6 offset) by dpkt, independent of ebutool."""
    with open(CAPTURES / name, "rb") as fh:
        reader = dpkt.pcap.Reader(fh)
        offset = {1: 14, 229: 0, 101: 0}[reader.datalink() & 0xFFFF]
        return [(i, buf, offset) for i, (_, buf) in enumerate(reader, 1)]


@pytest.mark.parametrize("name", FUZZED)
def test_fuzzed_capture_is_survived_and_diagnosed(name):
    proc = results()[name]
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    decoded = {int(r["frame"]) for r in rows(proc)}
    warned = {int(n) for n in re.findall(r"^ebutool:\s+\w+: frame (\d+):", proc.stderr, re.M)}
    frames = frames_of(name)
    assert frames
    for frame, _, _ in frames:
        assert frame in decoded or frame in warned, (
            f"{name} frame {frame} neither decoded nor diagnosed"
        )
    # the summary counts every frame read
    assert f"frames {len(frames)}," in proc.stderr


def test_fuzzed_tcpdump_messages_are_flagged_truncated():
    """Every Mobility Header in tcpdump's fuzzed files claims more octets than were
    captured: a decoded row must say truncated, and its checksum cannot be checked."""
    for name in FUZZED:
        if not name.startswith("tcpdump/"):
            continue
        for r in rows(results()[name]):
            assert r["truncated"] == "True" and r["checksum_ok"] == "", (name, r["frame"])


def test_zeek_malformed_destination_options_named():
    proc = results()["zeek/ipv6-mobility-dst-opts.pcap"]
    assert rows(proc) == []
    assert re.search(r"malformed_dst_option: frame 1:", proc.stderr)
    assert re.search(r"truncated_ext_header: frame 2:", proc.stderr)
    assert re.search(r"malformed_hao: frame 3:", proc.stderr)


def _mh_octets(name):
    out = {}
    for frame, buf, off in frames_of(name):
        ip = buf[off:]
        assert ip[6] == 135  # these captures carry the MH right after IPv6
        plen = struct.unpack("!H", ip[4:6])[0]
        out[frame] = (ip[8:24], ip[24:40], ip[40 : 40 + plen])
    return out


def test_tcpdump_ipv6_mobility_1_all_messages_bad_checksum():
    name = "tcpdump/ipv6_mobility_1.pcap"
    proc = results()[name]
    assert proc.returncode == 0
    got = rows(proc)
    assert [int(r["frame"]) for r in got] == list(range(1, 17))
    types = sorted(int(r["mh_type"]) for r in got)
    # capture README: types 0-4 once each, 5 six times, 6 four times, 7 once
    assert types == [0, 1, 2, 3, 4] + [5] * 6 + [6] * 4 + [7]
    mh = _mh_octets(name)
    for r in got:
        src, dst, octets = mh[int(r["frame"])]
        assert octets[4:6] == b"\x00\x00"
        assert ref_checksum(octets, src, dst) != 0  # so 0x0000 is indeed wrong
        assert r["checksum"] == "0000" and r["checksum_ok"] == "False"
        assert r["truncated"] == "False"
    assert "bad_mh_checksum 16" in proc.stderr


@pytest.mark.parametrize(
    "name, ok",
    [
        ("zeek/mip6-bad-mh-chksum.pcap", "False"),
        ("zeek/mip6-good-mh-chksum.pcap", "True"),
        ("zeek/mip6_brr.pcap", "True"),
        ("zeek/mip6_hoti.pcap", "True"),
        ("zeek/mip6_coti.pcap", "True"),
        ("zeek/mip6_hot.pcap", "True"),
        ("zeek/mip6_cot.pcap", "True"),
        ("zeek/mip6_bu.pcap", "True"),
        ("zeek/mip6_back.pcap", "True"),
        ("zeek/mip6_be.pcap", "True"),
    ],
)
def test_zeek_checksums(name, ok):
    df, diag = decode_in_process(name)
    assert len(df) == 1
    ((src, dst, octets),) = _mh_octets(name).values()
    independent = ref_checksum(octets, src, dst) == struct.unpack("!H", octets[4:6])[0]
    assert str(independent) == ok
    assert str(bool(df.iloc[0]["checksum_ok"])) == ok
    assert (diag.counts["bad_mh_checksum"] == 1) == (ok == "False")
