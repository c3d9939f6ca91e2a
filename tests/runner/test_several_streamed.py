"""analyze of several inputs written in pieces (issue 12; ebutool.runner.files_streamed):
the octets of the whole table that ebutool.runner.analyze_inputs.analyze_files builds (the
library's ebutool.analyze, rendered at once), for every format that one input streams;
a microsecond and a nanosecond capture in both orders, an unreadable input among good
ones, ``-j 2``; and memory that does not grow with the number of inputs."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ebutool
from ebutool.core.exact_time import EXACT_NS, TIME_DECIMALS, exact_map
from ebutool.report import OutputFormat, render_bytes, render_table
from ebutool.report.parquet_writer import ParquetPieces
from ebutool.report.spilled import SPILLED_FORMATS, SpilledRenderer
from ebutool.report.streamed import STREAMED_FORMATS, render_pieces
from ebutool.runner.analyze_inputs import _put_together
from ebutool.runner.files_streamed import Spilled, StreamedTable
from tests.support.cli import SAMPLES, run_cli
from tests.support.splitcap import pcap_records, split_pcap

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "benchmarks" / "gen_hostile.py"
TEXT = [*STREAMED_FORMATS, *SPILLED_FORMATS]
MNS = ["2001:db8:1::100", "2001:db8:1::200"]
CNS = ["2001:db8:c1::1", "2001:db8:c2::1"]


# --- the pieces of several files against _put_together (the whole-table code) --------------


@st.composite
def files(draw) -> list[pd.DataFrame]:
    """Per-file episode tables (episode 1, 2, ... each), of 6 or 9 decimals."""
    out = []
    for i in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, 12))
        nano = draw(st.booleans())
        # distinct microseconds over all files, so no two times share a float (exact_time's
        # AMBIGUOUS: a whole column falls back to 6 decimals, a piece for itself only)
        first = (1_700_000_000 + 100 * i) * 10**6  # (each file its own 100 s)
        us = draw(st.lists(st.integers(first, first + 99 * 10**6),
                           min_size=n, max_size=n, unique=True))  # fmt: skip
        frac = draw(st.lists(st.integers(0, 100), min_size=n, max_size=n))
        times = [u * 1000 + (f if nano else 0) for u, f in zip(us, frac, strict=True)]
        missing = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        df = pd.DataFrame(
            {
                "mn": pd.Series(draw(st.lists(st.sampled_from(MNS), min_size=n, max_size=n)),
                                dtype=object),
                "cn": pd.Series(draw(st.lists(st.sampled_from(CNS), min_size=n, max_size=n)),
                                dtype=object),
                "t_handover": pd.Series(
                    [np.nan if m else t / 10**9 for t, m in zip(times, missing, strict=True)],
                    dtype="float64",
                ),
                "kind": pd.Series(["early"] * n, dtype=object),
                "source": pd.Series(["own.pcap"] * n, dtype=object),
                "episode": pd.Series(range(1, n + 1), dtype="Int64"),
            }
        )  # fmt: skip
        df.attrs[EXACT_NS] = exact_map(t for t, m in zip(times, missing, strict=True) if not m)
        df.attrs[TIME_DECIMALS] = 9 if nano else 6
        df.attrs["vantage"] = []
        out.append(df)
    return out


def _spilled(root: Path, df: pd.DataFrame, cuts: list[int], label: str) -> Spilled:
    edges = sorted({0, len(df), *(c % (len(df) + 1) for c in cuts)})
    pieces = []
    for a, b in zip(edges, edges[1:] or [0], strict=False):
        piece = df.iloc[a:b].reset_index(drop=True)
        ns = df.attrs[EXACT_NS]
        piece.attrs = {TIME_DECIMALS: df.attrs[TIME_DECIMALS], EXACT_NS: exact_map(
            ns[t] for t in piece["t_handover"] if t == t)}  # fmt: skip
        pieces.append(piece)
    table = Spilled.into(str(root), pieces)
    table.attrs = {TIME_DECIMALS: df.attrs[TIME_DECIMALS], "vantage": []}
    table.label = label
    return table


def _written(pieces, fmt: OutputFormat, attrs) -> bytes:
    if fmt in STREAMED_FORMATS:
        return b"".join(render_pieces(pieces, fmt, name="t"))
    if fmt is OutputFormat.parquet:
        w = ParquetPieces()
    else:
        w = SpilledRenderer(fmt, name="t")
    for df in pieces:
        w.piece(df)
    return b"".join(w.chunks(None, attrs) if isinstance(w, ParquetPieces) else w.chunks())


@pytest.mark.parametrize("fmt", [*TEXT, OutputFormat.parquet])
@settings(max_examples=30, deadline=None)
@given(
    frames=files(),
    cuts=st.lists(st.integers(0, 13), max_size=4),
    mn=st.sampled_from([None, *MNS]),
    cn=st.sampled_from([None, CNS[0]]),
)
def test_pieces_of_several_files_give_the_whole_tables_octets(
    fmt, frames, cuts, mn, cn, tmp_path_factory
):
    import tempfile

    labels = [f"f{i}.pcap" for i in range(len(frames))]
    whole = _put_together([f.copy() for f in frames], labels, mn, cn, [])
    root = tempfile.TemporaryDirectory(dir=tmp_path_factory.mktemp("spill"))
    tables = [
        _spilled(Path(root.name), f, cuts, label) for f, label in zip(frames, labels, strict=True)
    ]
    made = StreamedTable(tables, root, mn, cn, [])
    got = _written(made.pieces(), fmt, made.attrs)
    if fmt is OutputFormat.parquet:
        back, want = (
            pq.read_table(io.BytesIO(got)),
            pq.read_table(io.BytesIO(render_bytes(whole, fmt))),
        )
        assert back.equals(want)
        assert back.schema.metadata[b"PANDAS_ATTRS"] == want.schema.metadata[b"PANDAS_ATTRS"]
    else:
        assert got.decode("utf-8") == render_table(whole, fmt, name="t")
    assert not Path(root.name).exists()  # the spill removed


# --- the command line ----------------------------------------------------------------------


def nanosecond_copy(src: Path, dst: Path, plus_ns: int = 0) -> Path:
    """``src`` (a little-endian microsecond pcap) as a nanosecond pcap, each time
    ``plus_ns`` later (tests/analysis/test_nanosecond_handover.py uses 123)."""
    head, recs = pcap_records(src.read_bytes())
    out = [b"\x4d\x3c\xb2\xa1" + head[4:]]
    for r in recs:
        sec, usec = struct.unpack_from("<II", r)
        out.append(struct.pack("<II", sec, usec * 1000 + plus_ns) + r[8:])
    dst.write_bytes(b"".join(out))
    return dst


def _cli_bytes(tmp_path: Path, fmt: OutputFormat, *args) -> tuple[bytes, str, int]:
    out = tmp_path / f"out.{fmt.value}"
    res = run_cli("analyze", *args, "-f", fmt.value, "-o", out, "-q")
    return out.read_bytes(), res.stderr, res.exit_code


def _same(got: bytes, want: pd.DataFrame, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.parquet:
        back = pq.read_table(io.BytesIO(got))
        assert back.equals(pq.read_table(io.BytesIO(render_bytes(want, fmt))))
    else:
        assert got == render_bytes(want, fmt, name="ebutool_episodes")


@pytest.mark.parametrize("fmt", [*TEXT, OutputFormat.parquet])
@pytest.mark.parametrize("nano_first", [True, False])
def test_micro_and_nano_inputs_in_both_orders(tmp_path, spilled, fmt, nano_first):
    nano = nanosecond_copy(SAMPLES / "standard.pcap", tmp_path / "nano.pcap")
    paths = [nano, SAMPLES / "mixed.pcap"]
    paths = paths if nano_first else paths[::-1]
    got, err, status = _cli_bytes(tmp_path, fmt, *paths)
    assert status == 0, err
    assert len(spilled) == 2  # each file's pieces spilled
    whole = ebutool.analyze(*paths)
    assert whole.attrs[TIME_DECIMALS] == 9 and len(whole) > 10
    _same(got, whole, fmt)
    if fmt is OutputFormat.csv:  # nine decimals for both
        assert b".000000000," in got and b".500000000," in got


@pytest.mark.parametrize("fmt", [OutputFormat.csv, OutputFormat.table, OutputFormat.parquet])
def test_an_unreadable_input_among_good_ones(tmp_path, fmt):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"junk, not a capture")
    good = [SAMPLES / "mixed.pcap", SAMPLES / "early-optimistic.pcap"]
    got, err, status = _cli_bytes(tmp_path, fmt, good[0], bad, good[1])
    assert status == 3 and "unreadable_input: bad.pcap" in err
    _same(got, ebutool.analyze(*good), fmt)  # the others' rows, numbered over them


@pytest.mark.parametrize("fmt", [OutputFormat.csv, OutputFormat.zeek, OutputFormat.json])
def test_jobs_two_equals_jobs_one(tmp_path, fmt):
    nano = nanosecond_copy(SAMPLES / "standard.pcap", tmp_path / "nano.pcap")
    paths = [SAMPLES / "mixed.pcap", nano, SAMPLES / "early-conservative.pcap"]
    one = run_cli("analyze", *paths, "-f", fmt.value)
    two = run_cli("analyze", "-j", "2", *paths, "-f", fmt.value)
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert one.stdout.encode() == render_bytes(
        ebutool.analyze(*paths), fmt, name="ebutool_episodes"
    )


def test_mn_filter_and_clashing_names(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    paths = [a / "x.pcap", b / "x.pcap"]
    paths[0].write_bytes((SAMPLES / "mixed.pcap").read_bytes())
    paths[1].write_bytes((SAMPLES / "standard.pcap").read_bytes())
    for extra in ([], ["--mn", "2001:db8:1::100"]):
        got, err, status = _cli_bytes(tmp_path, OutputFormat.csv, *paths, *extra)
        mn = extra[1] if extra else None
        assert status == 0, err
        assert got == render_bytes(ebutool.analyze(*paths, mn=mn), OutputFormat.csv)


@pytest.mark.parametrize("how", ["rotated", "merge"])
def test_nanosecond_pieces_merged_by_time_keep_nine_decimals(tmp_path, spilled, how):
    """A rotated capture's pieces (or --merge) analysed as one: nine decimals when they
    are nanosecond captures (6 before: the merged table lost its resolution)."""
    nano = nanosecond_copy(SAMPLES / "standard.pcap", tmp_path / "nano.pcap")
    parts = split_pcap(nano, tmp_path / "parts", 3)
    extra = ["--merge"] if how == "merge" else []
    got, err, status = _cli_bytes(tmp_path, OutputFormat.csv, *parts, *extra)
    assert status == 0, err
    whole = ebutool.analyze(*parts, merge=how == "merge")
    assert whole.attrs[TIME_DECIMALS] == 9
    assert got == render_bytes(whole, OutputFormat.csv)
    assert b".500000000," in got and spilled


# --- memory ----------------------------------------------------------------------------------

PEAK = """
import gc, sys, tracemalloc
from tests.support.cli import run_cli
paths = sys.argv[2:]
run_cli("analyze", paths[0], "-f", "csv", "-o", sys.argv[1], "-q")  # imports out of the count
gc.collect()
tracemalloc.start()
res = run_cli("analyze", *paths, "--no-merge", "-f", "csv", "-o", sys.argv[1], "-q")
assert res.exit_code == 0, res.output
print(tracemalloc.get_traced_memory()[1])
"""


def _peak(tmp_path: Path, paths: list[Path]) -> int:
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(tmp_path / "o.csv"), *map(str, paths)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    return int(out.stdout.split()[-1])


def test_peak_memory_does_not_grow_with_the_inputs(tmp_path):
    """Twice the inputs (2,000 episodes each), about the same peak: the table is not
    built (it was: ~1.3 MB more per input)."""
    paths = []
    for i in range(4):
        p = tmp_path / f"h{i}.pcap"
        subprocess.run([sys.executable, str(GEN), "--bus", "2000", "--out", str(p)], check=True)
        paths.append(p)
    two, four = _peak(tmp_path, paths[:2]), _peak(tmp_path, paths)
    assert four - two < 1_000_000, (two, four)


# --- decode and verify -------------------------------------------------------------------------


def _without_messages(tmp_path: Path) -> Path:
    """The first three packets of mixed.pcap: no Mobility Header message (an empty
    decode table, whose object columns count in the whole table's dtypes)."""
    head, recs = pcap_records((SAMPLES / "mixed.pcap").read_bytes())
    out = tmp_path / "none.pcap"
    out.write_bytes(head + b"".join(recs[:3]))
    return out


@pytest.mark.parametrize("fmt", [*TEXT, OutputFormat.parquet])
@pytest.mark.parametrize("command", ["decode", "verify"])
def test_decode_and_verify_of_several_inputs_in_pieces(tmp_path, spilled, command, fmt):
    from ebutool.runner.decode_inputs import decode_files
    from ebutool.runner.verify_inputs import verify_files

    nano = nanosecond_copy(SAMPLES / "standard.pcap", tmp_path / "nano.pcap")
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"junk, not a capture")
    none = _without_messages(tmp_path)
    whole_of = decode_files if command == "decode" else verify_files
    for paths in ([SAMPLES / "mixed.pcap", nano, bad], [none, nano], [nano, none]):
        out = tmp_path / f"out.{fmt.value}"
        spilled.clear()
        res = run_cli(command, *paths, "-f", fmt.value, "-o", out, "-q")
        assert res.exit_code == (3 if bad in paths else 0), res.stderr
        assert len(spilled) == len(paths)  # each file read into the spill
        want = whole_of([str(p) for p in paths])
        name = f"ebutool_{command}"
        if fmt is OutputFormat.parquet:
            _same(out.read_bytes(), want, fmt)
        else:
            assert out.read_bytes() == render_bytes(want, fmt, name=name)
