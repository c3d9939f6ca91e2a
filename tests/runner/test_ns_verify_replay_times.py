"""verify's and replay's tables print a nanosecond capture's times with their 9 exact
decimals, as decode and analyze do (docs/outputs.md "Numbers and missing values"): they
printed 1704110401.024000 for a CoT captured at ...024000123 (no exact ns in the table).

Ground truth: the sample rewritten with struct into a nanosecond pcap 123 ns later
(tests.runner.test_several_streamed.nanosecond_copy), its times read back with struct."""

from __future__ import annotations

import csv
import io
import struct

import pytest

from tests.runner.test_several_streamed import nanosecond_copy, pcap_records
from tests.support.cli import SAMPLES, run_cli

NS = 10**9


def _times(path) -> set[int]:
    _, recs = pcap_records(path.read_bytes())
    return {sec * NS + frac for sec, frac in (struct.unpack_from("<II", r) for r in recs)}


def _ns(text: str) -> int:
    sec, frac = text.split(".")
    assert len(frac) == 9, text
    return int(sec) * NS + int(frac)


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


@pytest.mark.parametrize("several", [False, True])
def test_verify_times_keep_their_nanoseconds(tmp_path, several):
    nano = nanosecond_copy(SAMPLES / "standard.pcap", tmp_path / "nano.pcap", 123)
    out = tmp_path / "v.csv"
    more = [SAMPLES / "mixed.pcap"] if several else []
    res = run_cli("verify", nano, *more, "-f", "csv", "-o", out, "-q")
    assert res.exit_code == 0, res.output
    mine = [r for r in _rows(out) if r.get("source", "nano.pcap") == "nano.pcap"]
    assert mine
    assert all(_ns(r["time"]) in _times(nano) for r in mine)


@pytest.mark.parametrize("several", [False, True])
def test_replay_tables_keep_their_nanoseconds(tmp_path, several):
    nano = nanosecond_copy(SAMPLES / "early-optimistic.pcap", tmp_path / "nano.pcap", 123)
    exposure, decisions = tmp_path / "e.csv", tmp_path / "d.csv"
    more = [SAMPLES / "mixed.pcap"] if several else []
    args = ["-f", "csv", "-o", exposure, "--decisions", decisions, "-q"]
    res = run_cli("replay", nano, *more, *args)
    assert res.exit_code in (0, 1), res.output
    times = _times(nano)
    mine = [r for r in _rows(exposure) if r.get("source", "nano.pcap") == "nano.pcap"]
    assert mine
    for r in mine:
        assert _ns(r["tentative_start"]) in times and _ns(r["tentative_end"]) % 1000 == 123
    rows = [r for r in _rows(decisions) if r.get("source", "nano.pcap") == "nano.pcap"]
    assert rows
    for r in rows:
        assert _ns(r["time"]) in times and _ns(r["cn_time"]) % 1000 == 123
