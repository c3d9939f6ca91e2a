"""Issue 12 (complexity tests): doubling the count of distinct mobile nodes, distinct
correspondents, care-of tests (CoTI/CoT) or JSON trace lines at most about doubles the
work of ``analyze`` (trace lines: of reading them).

Work is an operation count, the lines of ebutool's code executed (``sys.settrace``; as
tests/capture/test_complexity.py), which does not depend on the machine's load.  Inputs
are raw bytes (tests/support/rfc_packets) or JSON lines written here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ebutool.analysis import analyze
from ebutool.core.diagnostics import Diagnostics
from ebutool.stream.reader import read_records
from tests.support import rfc_packets as R
from tests.support.capbuild import LINKTYPE_RAW, pcap_bytes

MAX_RATIO = 2.5
T0 = 1_700_000_000_000_000_000
MN, COA, HA, CN = "2001:db8:1::1", "2001:db8:2::1", "2001:db8:1::ff", "2001:db8:3::1"


def _pcap(packets: list[bytes]) -> bytes:
    return pcap_bytes([(T0 + i * 1_000_000, p) for i, p in enumerate(packets)], LINKTYPE_RAW)


def distinct_mns(n: int) -> bytes:
    """One BU (to a CN) per home address."""
    return _pcap(
        [
            R.mh_packet(
                f"2001:db8:2::{i:x}", CN, 5, R.bu_body(i, 0x8000, 100), hoa=f"2001:db8:1::{i:x}"
            )
            for i in range(1, n + 1)
        ]
    )


def distinct_cns(n: int) -> bytes:
    """One MN: a BU to each of n correspondents."""
    return _pcap(
        [
            R.mh_packet(COA, f"2001:db8:3::{i:x}", 5, R.bu_body(i, 0x8000, 100), hoa=MN)
            for i in range(1, n + 1)
        ]
    )


def care_of_tests(n: int) -> bytes:
    """One MN registers with its HA (mapping its care-of address), then n care-of tests
    (distinct cookies) with one CN, each answered."""
    home_bu = R.mh_packet(COA, HA, 5, R.bu_body(1, 0x8000 | 0x4000, 100), hoa=MN)
    out = [home_bu]
    for i in range(n):
        cookie = i.to_bytes(8, "big")
        out.append(R.mh_packet(COA, CN, 2, R.hoti_body(cookie)))
        out.append(R.mh_packet(CN, COA, 4, R.hot_body(1, cookie, bytes(8))))
    return _pcap(out)


def trace_lines(n: int) -> bytes:
    head = {"type": "header", "format": "ebutool-trace", "version": 1, "source": "t"}
    lines = [json.dumps(head)]
    for i in range(n):
        pkt = {
            "type": "packet",
            "time_ns": T0 + i * 1000,
            "frame": i + 1,
            "msg": "data",
            "src": COA,
            "dst": CN,
            "hoa": MN,
            "proto": 17,
            "ip_len": 92,
        }
        lines.append(json.dumps(pkt, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def run_analyze(path: Path) -> int:
    """Rows of analyze with a CN (the home registration's row is left out)."""
    df = analyze(path, diag=Diagnostics())
    return int(df["cn"].notna().sum())


def run_read(path: Path) -> int:
    return sum(1 for _ in read_records(path, Diagnostics()))


def lines_executed(fn, path: Path) -> int:
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def first(frame, event, arg):
        return local if "/ebutool/" in frame.f_code.co_filename else None

    old = sys.gettrace()
    sys.settrace(first)
    try:
        fn(path)
    finally:
        sys.settrace(old)
    return count


# name: (builder, n, what runs, file suffix, the count ``what`` returns at n)
CASES = {
    "mobile_nodes": (distinct_mns, 300, run_analyze, "pcap", lambda n: n),
    "correspondents": (distinct_cns, 300, run_analyze, "pcap", lambda n: n),
    "care_of_tests": (care_of_tests, 300, run_analyze, "pcap", lambda n: 1),  # the CN episode
    "trace_lines": (trace_lines, 2000, run_read, "jsonl", lambda n: n),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_doubling_costs_at_most_about_double(case, tmp_path):
    build, n, fn, suffix, expected = CASES[case]
    small, large = tmp_path / f"small.{suffix}", tmp_path / f"large.{suffix}"
    small.write_bytes(build(n))
    large.write_bytes(build(2 * n))
    fn(small)  # imports and first calls out of the count
    assert fn(small) == expected(n) and fn(large) == expected(2 * n)  # really read
    ratio = lines_executed(fn, large) / lines_executed(fn, small)
    assert ratio <= MAX_RATIO, f"{case}: doubling costs {ratio:.2f}x"
