"""timeline prints a nanosecond capture's times at its resolution, as decode does
(docs/outputs.md "Numbers and missing values"): the list's t_handover with its 9 exact
decimals (it printed 1704110401.000000 for ...000000123), the ladder's t0 with 9 and its
offsets in ms with 6 (it printed 3: 0.000 for a HoTI 0.000250 ms after t0).

Ground truth: samples/standard.pcap rewritten with struct into a nanosecond pcap (magic
0xa1b23c4d), each packet 123 ns later, and the k-th of packets sharing a microsecond
another 250k ns (so they keep their order, offsets get sub-microsecond parts, and their
epoch floats differ: floats near 1.7e9 s are 238 ns apart), its times read back with
struct by frame number."""

from __future__ import annotations

import csv
import io
import re
import struct
from collections import Counter
from pathlib import Path

import pytest

from tests.support.cli import SAMPLES, run_cli
from tests.support.splitcap import pcap_records

NS = 10**9
NS_MAGIC = b"\x4d\x3c\xb2\xa1"  # 0xa1b23c4d little-endian: nanosecond pcap
EXTRA_NS = 123
SAME_US_STEP_NS = 250  # more than the 238 ns between two floats near 1.7e9 s


def _nano(tmp_path: Path) -> tuple[Path, dict[int, int]]:
    """The sample as a nanosecond pcap (module doc); {frame: ns}."""
    head, recs = pcap_records((SAMPLES / "standard.pcap").read_bytes())
    out, times, seen = [NS_MAGIC + head[4:]], {}, Counter()
    for i, r in enumerate(recs):
        sec, usec = struct.unpack_from("<II", r)
        extra = EXTRA_NS + SAME_US_STEP_NS * seen[sec, usec]
        assert extra < 1000  # below a microsecond
        seen[sec, usec] += 1
        frac = usec * 1000 + extra
        out.append(struct.pack("<II", sec, frac) + r[8:])
        times[i + 1] = sec * NS + frac
    path = tmp_path / "nano.pcap"
    path.write_bytes(b"".join(out))
    return path, times


def _ns(text: str) -> int:
    sec, frac = text.split(".")
    assert len(frac) == 9, text
    return int(sec) * NS + int(frac)


def _run(*args) -> str:
    res = run_cli("timeline", *args, "-q")
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.mark.parametrize("fmt", ["csv", "text"])
def test_list_keeps_the_nanoseconds(tmp_path, fmt):
    nano, times = _nano(tmp_path)
    out = _run(nano, *(["-f", "csv"] if fmt == "csv" else []))
    if fmt == "csv":
        cells = [r["t_handover"] for r in csv.DictReader(io.StringIO(out))]
    else:
        cells = re.findall(r"\b\d{10}\.\d+\b", out)
    assert len(cells) == 3
    got = [_ns(c) for c in cells]
    assert all(t in times.values() and t % 1000 != 0 for t in got)


def _offset_text(ns: int, t0: int) -> str:
    """An offset in ms with 6 decimals, exactly (integer arithmetic)."""
    d = ns - t0
    sign, d = ("-" if d < 0 else ""), abs(d)
    return f"{sign}{d // 10**6}.{d % 10**6:06d}"


def test_ladder_text_t0_and_offsets(tmp_path):
    nano, times = _nano(tmp_path)
    out = _run(nano, "--episode", "1")
    t0_text = re.search(r"t0 = (\S+) s", out).group(1)
    t0 = _ns(t0_text)
    assert t0 in times.values()
    rows = re.findall(r"^\s*(-?\d+\.\d+)\s+(\d+)\s+\|", out, re.M)
    assert len(rows) >= 5
    for offset, frame in rows:
        assert offset == _offset_text(times[int(frame)], t0), (offset, frame)
    assert any((times[int(f)] - t0) % 1000 for _, f in rows)  # sub-microsecond offsets shown


def test_ladder_table_times_and_offsets(tmp_path):
    nano, times = _nano(tmp_path)
    rows = list(csv.DictReader(io.StringIO(_run(nano, "--episode", "1", "-f", "csv"))))
    marker = next(r for r in rows if r["msg"] == "handover")
    t0 = _ns(marker["time"])
    messages = [r for r in rows if r["frame"]]
    assert len(messages) >= 5
    for r in messages:
        assert _ns(r["time"]) == times[int(r["frame"])]
        assert r["t_ms"] == _offset_text(times[int(r["frame"])], t0)


def test_microsecond_ladder_keeps_its_decimals():
    out = _run(SAMPLES / "standard.pcap", "--episode", "1")
    assert "t0 = 1704110401.000000 s" in out
    assert re.search(r"^\s+24\.000\s+106 ", out, re.M)
