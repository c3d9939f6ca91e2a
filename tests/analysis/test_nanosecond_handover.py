"""An episode's ``t_handover`` keeps its nanoseconds (docs/outputs.md, exact times): the
float is made as the exact-ns map's keys are (int / int, correctly rounded), so a
nanosecond capture whose times are not whole microseconds prints nine decimals, and a
table of several inputs never shows one file's digits for another's time.

Ground truth: the sample's times, rewritten with struct into a nanosecond pcap 123 ns
later (tests.runner.test_several_streamed.nanosecond_copy), not ebutool's writer."""

from __future__ import annotations

import csv
import io
import struct

import ebutool
from ebutool.core.exact_time import EXACT_NS, epoch_formatter
from tests.runner.test_several_streamed import nanosecond_copy, pcap_records
from tests.support.cli import SAMPLES, run_cli

PLUS_NS = 123


def _times_ns(path) -> set[int]:
    _, recs = pcap_records(path.read_bytes())
    return {sec * 10**9 + frac for sec, frac in (struct.unpack_from("<II", r) for r in recs)}


def _column(out: bytes, name: str) -> list[str]:
    return [row[name] for row in csv.DictReader(io.StringIO(out.decode()))]


def test_t_handover_of_a_nanosecond_capture_has_its_nine_decimals(tmp_path):
    nano = nanosecond_copy(SAMPLES / "standard.pcap", tmp_path / "nano.pcap", PLUS_NS)
    captured = _times_ns(nano)
    out = tmp_path / "a.csv"
    res = run_cli("analyze", nano, "-f", "csv", "-o", out, "-q")
    assert res.exit_code == 0, res.output
    shown = _column(out.read_bytes(), "t_handover")
    assert shown
    for text in shown:
        sec, frac = text.split(".")
        assert len(frac) == 9, text
        assert int(sec) * 10**9 + int(frac) in captured  # a packet's own time, to the ns


def test_library_table_maps_every_t_handover_to_its_ns(tmp_path):
    nano = nanosecond_copy(SAMPLES / "standard.pcap", tmp_path / "nano.pcap", PLUS_NS)
    df = ebutool.analyze(str(nano))
    exact = df.attrs[EXACT_NS]
    assert len(df) and all(exact.get(v, -1) % 1000 == PLUS_NS for v in df["t_handover"])


def test_several_inputs_never_borrow_another_files_digits(tmp_path):
    nano = nanosecond_copy(SAMPLES / "standard.pcap", tmp_path / "nano.pcap", PLUS_NS)
    df = ebutool.analyze(str(nano), str(SAMPLES / "mixed.pcap"))  # the whole-table path
    fmt = epoch_formatter(df["t_handover"], df.attrs, 6)
    mine = df[df["source"].str.endswith("nano.pcap")]["t_handover"]
    assert len(mine)
    captured = _times_ns(nano)
    for v in mine:
        sec, frac = fmt(v).split(".")
        if len(frac) == 9:  # nine decimals only when they are this file's own
            assert int(sec) * 10**9 + int(frac) in captured, fmt(v)
        else:
            assert fmt(v) == f"{v:.6f}"
