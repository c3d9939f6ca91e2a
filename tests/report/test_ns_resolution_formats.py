"""Every text format prints a nanosecond input's times and durations at its resolution
(docs/outputs.md "Numbers and missing values"): epoch times with 9 decimals from their
exact ns (JSON and NDJSON too: a JSON number is text, no float holds the ns), ``*_ms``
durations with 6 decimals (JSON, table, markdown, latex), Zeek's ``time`` as CSV's.
A microsecond input keeps 6 and 3.

Ground truth: the sample's packets rewritten with struct into a nanosecond pcap, packet
i ``123 + i`` ns later (order kept, durations gain sub-microsecond parts), the times read
back with struct, not by ebutool."""

from __future__ import annotations

import csv
import io
import json
import re
import struct
from pathlib import Path

import pytest

from ebutool.report.formats import RawNumber, _json_text
from tests.runner.test_several_streamed import pcap_records
from tests.support.cli import SAMPLES, run_cli

NS = 10**9


def _shifted_ns_copy(src: Path, dst: Path) -> set[int]:
    """``src`` (a little-endian us pcap) as a ns pcap, packet i 123 + i ns later; the
    packets' times in ns."""
    head, recs = pcap_records(src.read_bytes())
    out, times = [b"\x4d\x3c\xb2\xa1" + head[4:]], set()
    for i, r in enumerate(recs):
        sec, usec = struct.unpack_from("<II", r)
        frac = usec * 1000 + 123 + i
        times.add(sec * NS + frac)
        out.append(struct.pack("<II", sec, frac) + r[8:])
    dst.write_bytes(b"".join(out))
    return times


@pytest.fixture(scope="module")
def nano(tmp_path_factory) -> tuple[Path, set[int]]:
    path = tmp_path_factory.mktemp("ns") / "nano.pcap"
    return path, _shifted_ns_copy(SAMPLES / "standard.pcap", path)


def _out(*args) -> str:
    res = run_cli("analyze", *args, "-q")
    assert res.exit_code == 0, res.output
    return res.stdout


def _ns(text: str) -> int:
    sec, frac = text.split(".")
    assert len(frac) == 9, text
    return int(sec) * NS + int(frac)


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_epoch_times_keep_their_nanoseconds(nano, fmt):
    path, times = nano
    text = _out(path, "-f", fmt)
    shown = re.findall(r'"t_handover": ?([0-9.]+)', text)
    assert len(shown) == 3
    assert all(_ns(t) in times for t in shown)  # (before: 1704110401.0, the us float)
    rows = json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines()]
    assert [r["t_handover"] for r in rows] == [float(t) for t in shown]  # still a number


def test_json_durations_keep_their_nanoseconds(nano):
    path, times = nano
    rows = json.loads(_out(path, "-f", "json"))
    diffs = {b - a for a in times for b in times if 0 < b - a < 10**9}
    rtt = [r["rtt_ha_ms"] for r in rows]
    assert all(round(v * 10**6) in diffs for v in rtt), rtt  # two packets' times apart
    assert any(round(v * 1000, 6) % 1 for v in rtt), rtt  # (before: 40.0, to the us)


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex"])
def test_fixed_decimal_durations_have_six_decimals_for_a_ns_input(nano, fmt):
    path, _ = nano
    text = _out(path, "-f", fmt, "-c", "rtt_ha_ms,episode")
    cells = re.findall(r"\b\d+\.(\d+)\b", text)
    assert cells and all(len(c) == 6 for c in cells), text  # (before: 40.003)
    rows = json.loads(_out(path, "-f", "json", "-c", "rtt_ha_ms"))
    for r in rows:
        assert f"{r['rtt_ha_ms']:.6f}" in text


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex"])
def test_a_us_input_keeps_three_decimals(fmt):
    text = _out(SAMPLES / "standard.pcap", "-f", fmt, "-c", "rtt_ha_ms,episode")
    cells = re.findall(r"\b\d+\.(\d+)\b", text)
    assert cells and all(len(c) == 3 for c in cells), text


def test_zeek_time_is_csvs(nano):
    path, times = nano
    zeek = [line.split("\t")[0] for line in _out(path, "-f", "zeek").splitlines()]
    rows = list(csv.DictReader(io.StringIO(_out(path, "-f", "csv"))))
    ts = [t for t in zeek if not t.startswith("#")]
    assert ts == [r["t_handover"] for r in rows]  # (before: 1704110401.000000)
    assert all(_ns(t) in times for t in ts)


def test_raw_numbers_are_laid_out_as_json_dumps_lays_out_floats():
    recs = [{"a": 1.5, "b": "x|y", "c": None, "d": True}, {"a": 2.25, "b": "é", "c": 3, "d": False}]
    raw = [{**r, "a": RawNumber(repr(r["a"]))} for r in recs]
    assert _json_text(raw, indent=True) == json.dumps(recs, indent=1) + "\n"
    compact = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in recs)
    assert _json_text(raw, indent=False) == compact


@pytest.mark.parametrize("fmt", ["markdown", "zeek"])
def test_a_spilled_table_rendered_whole_keeps_its_nanoseconds(fmt):
    """Pieces whose columns differ in type are rendered whole (ebutool.report.spilled):
    pd.concat dropped their exact ns (each piece has its own map), and the table printed
    1704110401.000000 for 1704110401.000000123."""
    import pandas as pd

    from ebutool.core.exact_time import EXACT_NS, TIME_DECIMALS, exact_map
    from ebutool.report.spilled import SpilledRenderer

    first, second = 1704110401 * NS + 123, 1704110402 * NS + 456
    renderer = SpilledRenderer(fmt, name="t")
    for ns, x in ((first, 1), (second, "text")):  # a number, then text: types differ
        piece = pd.DataFrame({"time": [ns / NS], "x": [x]})
        piece.attrs = {EXACT_NS: exact_map([ns]), TIME_DECIMALS: 9}
        renderer.piece(piece)
    text = b"".join(renderer.chunks()).decode()
    assert renderer.whole
    assert "1704110401.000000123" in text and "1704110402.000000456" in text, text
