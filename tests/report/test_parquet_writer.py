"""Parquet written by row groups (ebutool.report.parquet_writer, issue 12): for tables cut
into pieces anywhere, the file reads back equal (data and metadata) to the whole table
written at once; the whole table's content is checked against pyarrow's own conversion
of the table with its exact times built here from the drawn nanoseconds; and the pieces
are not held in memory."""

from __future__ import annotations

import gc
import io
import json
import tracemalloc

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebutool.core.exact_time import EXACT_NS, NS_PER_S, TIME_DECIMALS, exact_map, merged_attrs
from ebutool.report.parquet_writer import ParquetPieces, parquet_bytes

NS = st.integers(1_700_000_000 * 10**9, 1_800_000_000 * 10**9)


def _streamed(pieces: list[pd.DataFrame], provenance=None, attrs=None) -> pa.Table:
    w = ParquetPieces()
    for p in pieces:
        w.piece(p)
    return pq.read_table(io.BytesIO(b"".join(w.chunks(provenance, attrs))))


def _whole(df: pd.DataFrame, provenance=None) -> pa.Table:
    return pq.read_table(io.BytesIO(parquet_bytes(df, provenance)))


def _cut(df: pd.DataFrame, cuts: list[int]) -> list[pd.DataFrame]:
    edges = sorted({0, len(df), *(c % (len(df) + 1) for c in cuts)})
    pieces = []
    for a, b in zip(edges, edges[1:], strict=False):
        p = df.iloc[a:b].reset_index(drop=True)
        # each piece's own map, as analyze's pieces have (ebutool.analysis.rows)
        p.attrs = {EXACT_NS: exact_map(df.attrs["ns"][a:b]), TIME_DECIMALS: 9}
        pieces.append(p)
    return pieces


@st.composite
def tables(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    ns = draw(st.lists(NS, min_size=n, max_size=n, unique_by=lambda v: v / NS_PER_S))
    known = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    text = st.one_of(st.none(), st.sampled_from(["a", "é漢", ""]))
    df = pd.DataFrame(
        {
            "t_handover": pd.array([v / NS_PER_S for v in ns], dtype="float64"),
            "t_first_seen": pd.array(
                [np.nan if not k else v / NS_PER_S + 2e8 for v, k in zip(ns, known, strict=True)],
                dtype="float64",
            ),
            "rtt_ms": draw(st.lists(st.floats(0, 1e4), min_size=n, max_size=n)),
            "n": pd.array(
                draw(st.lists(st.one_of(st.none(), st.integers(0, 9)), min_size=n, max_size=n)),
                dtype="Int64",
            ),
            "cn": pd.Series(draw(st.lists(text, min_size=n, max_size=n)), dtype=object),
            "esp": pd.Series([None] * n, dtype=object),  # empty in every piece: null
            "flag": pd.Series(
                draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)),
                dtype=object,
            ),
            "raw": pd.Series(
                draw(st.lists(st.one_of(st.none(), st.binary(max_size=3)), min_size=n, max_size=n)),
                dtype=object,
            ),
            "ok": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        }
    )
    # the exact ns of the rows drawn "known" (the others' t_handover_ns is null)
    row_ns = [v if k else None for v, k in zip(ns, known, strict=True)]
    df.attrs = {EXACT_NS: exact_map(row_ns), TIME_DECIMALS: 9, "ns": row_ns}
    return df


def _expected(df: pd.DataFrame) -> pa.Table:
    """The whole table as pyarrow converts it, with t_handover's exact ns from the drawn
    integers (t_first_seen has none: no companion), bytes as hex."""
    out = df.copy()
    exact = {v / NS_PER_S: v for v in df.attrs["ns"] if v is not None}
    out["raw"] = pd.Series(
        [v.hex() if isinstance(v, bytes) else v for v in out["raw"]], dtype=object
    )
    out["t_handover_ns"] = pd.array([exact.get(v) for v in out["t_handover"]], dtype="Int64")
    if out["t_handover_ns"].isna().all():
        out = out.drop(columns="t_handover_ns")
    out.attrs = {}
    return pa.Table.from_pandas(out, preserve_index=False)


@settings(max_examples=60, deadline=None)
@given(df=tables(), cuts=st.lists(st.integers(0, 30), max_size=6))
def test_pieces_read_back_as_the_whole_table(df, cuts):
    pieces = _cut(df, cuts)
    whole = df.copy()
    whole.attrs = merged_attrs(pieces)
    prov = {"provenance_format": 1, "x": [1, None]}
    got = _streamed(pieces, prov)
    assert got.equals(_whole(whole, prov), check_metadata=True)
    assert got.equals(_expected(df), check_metadata=False)
    meta = got.schema.metadata
    assert json.loads(meta[b"PANDAS_ATTRS"]) == {TIME_DECIMALS: 9}  # no exact_ns map
    assert json.loads(meta[b"ebutool.provenance"]) == prov


def test_a_column_empty_in_the_first_piece_is_typed_by_the_later_ones():
    a = pd.DataFrame({"cn": pd.Series([None, None], dtype=object), "x": [1, 2]})
    b = pd.DataFrame({"cn": pd.Series(["2001:db8::1"], dtype=object), "x": [3]})
    got = _streamed([a, b])
    assert got.schema.field("cn").type == pa.string()
    assert got.equals(_whole(pd.concat([a, b], ignore_index=True)), check_metadata=True)
    meta = json.loads(got.schema.metadata[b"pandas"])
    assert [c["pandas_type"] for c in meta["columns"]] == ["unicode", "int64"]


def test_int_in_one_piece_and_float_in_another_is_written_whole():
    a = pd.DataFrame({"x_ms": [1, 2], "y": ["a", "b"]})
    b = pd.DataFrame({"x_ms": [1.5], "y": ["c"]})
    w = ParquetPieces()
    for p in (a, b):
        w.piece(p)
    assert w.whole
    got = pq.read_table(io.BytesIO(b"".join(w.chunks())))
    whole = pd.concat([a, b], ignore_index=True)
    assert got.schema.field("x_ms").type == pa.float64()
    assert got.equals(_whole(whole), check_metadata=True)


def test_empty_tables():
    empty = pd.DataFrame({"t_handover": pd.array([], dtype="float64"), "kind": []})
    assert _streamed([empty]).equals(_whole(empty), check_metadata=True)
    one = pd.DataFrame({"t_handover": [1.7e9], "kind": ["early"]})
    assert _streamed([empty, one, empty.copy()]).equals(_whole(one), check_metadata=True)


def test_one_row_group_per_piece_and_no_piece_held(monkeypatch):
    """Fed 30 pieces of ~0.8 MB, the writer holds less than two of them, and writes each
    as its own row group, one at a time."""
    rng = np.random.default_rng(1)
    piece_bytes = 20_000 * 5 * 8
    written = []
    real = pq.ParquetWriter.write_table

    def spy(self, table, *a, **k):
        written.append(table.num_rows)
        real(self, table, *a, **k)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", spy)
    w = ParquetPieces()
    tracemalloc.start()
    try:
        for _ in range(30):
            df = pd.DataFrame(rng.random((20_000, 5)), columns=[f"c{i}_ms" for i in range(5)])
            w.piece(df)
            del df
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 2 * piece_bytes, held
    chunks = list(w.chunks())
    data = b"".join(chunks)
    assert written == [20_000] * 30
    assert sum(1 for c in chunks if c) >= 30  # each row group's octets handed on as written
    assert pq.ParquetFile(io.BytesIO(data)).num_row_groups == 30


def test_files_written_before_still_read(tmp_path):
    """A file of the old writer (the exact_ns map in PANDAS_ATTRS) reads as before."""
    from ebutool.report.provenance import PARQUET_KEY, read_parquet_provenance

    df = pd.DataFrame({"t_handover": [1.7e9 + 0.5]})
    table = pa.Table.from_pandas(df, preserve_index=False)
    attrs = {EXACT_NS: {"1700000000.5": 1_700_000_000_500_000_001}, TIME_DECIMALS: 9}
    meta = {
        **table.schema.metadata,
        b"PANDAS_ATTRS": json.dumps(attrs).encode(),
        PARQUET_KEY.encode(): b'{"provenance_format": 1}',
    }
    path = tmp_path / "old.parquet"
    pq.write_table(table.replace_schema_metadata(meta), path)
    back = pd.read_parquet(path)
    assert back.attrs[EXACT_NS] == attrs[EXACT_NS]
    assert read_parquet_provenance(str(path)) == {"provenance_format": 1}


@pytest.mark.parametrize("bad", [[1, "a"]])
def test_a_column_arrow_cannot_convert_fails_as_the_whole_table_does(bad):
    df = pd.DataFrame({"x": pd.Series(bad, dtype=object)})
    with pytest.raises(pa.ArrowException):
        parquet_bytes(df)
    w = ParquetPieces()
    w.piece(df)
    with pytest.raises(pa.ArrowException):
        b"".join(w.chunks())


@pytest.fixture
def made(monkeypatch) -> list[ParquetPieces]:
    """Every ParquetPieces made while the test runs (a spy on its constructor)."""
    made: list[ParquetPieces] = []
    real = ParquetPieces.__init__

    def spy(self):
        made.append(self)
        real(self)

    monkeypatch.setattr(ParquetPieces, "__init__", spy)
    return made


@pytest.mark.parametrize("sample", ["mixed", "standard", "early-optimistic"])
def test_cli_analyze_parquet_in_pieces_is_the_whole_table(sample, made, tmp_path):
    """analyze -f parquet of one input goes through ParquetPieces, and reads back as the
    whole table (analyze_files) written at once, with the same provenance, which is
    also the --provenance file's."""
    from ebutool.analysis.claim_stats import ClaimSettings
    from ebutool.report.provenance import build_provenance
    from ebutool.runner.analyze_inputs import analyze_files
    from tests.support.cli import SAMPLES, run_cli

    path = str(SAMPLES / f"{sample}.pcap")
    out, side = tmp_path / "e.parquet", tmp_path / "e.json"
    res = run_cli("analyze", path, "-f", "parquet", "-o", out, "--provenance", side, "-q")
    assert res.exit_code == 0, res.output
    assert len(made) == 1
    got = pq.read_table(out)
    prov = json.loads(got.schema.metadata[b"ebutool.provenance"])
    assert json.loads(side.read_text()) == prov
    df = analyze_files([path], 1)
    want = build_provenance(
        [path],
        episodes=df,
        command="analyze",
        command_line=prov["command_line"],
        settings=ClaimSettings(),
    )
    assert prov == want
    assert got.equals(_whole(df, want), check_metadata=True)


@pytest.mark.parametrize("command", ["analyze", "decode"])
def test_a_nanosecond_capture_keeps_its_exact_times(command, tmp_path):
    """The _ns companions hold the captured integers (ground truth: the timestamps written
    into the capture), which the float columns cannot."""
    from tests.core.test_exact_time import _capture
    from tests.support.cli import run_cli

    path, pk = _capture(tmp_path, "pcap")
    out = tmp_path / "o.parquet"
    res = run_cli(command, path, "-f", "parquet", "-o", out, "-q")
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(out)
    column = "t_handover" if command == "analyze" else "time"
    assert len(df) and df[f"{column}_ns"].notna().all()
    captured = [t for t, _ in pk]
    if command == "decode":
        assert df["time_ns"].tolist() == [captured[f - 1] for f in df["frame"]]
    else:
        assert set(df["t_handover_ns"]) <= set(captured)
    assert (df[f"{column}_ns"] % 1000 == 789).all()  # (the float would not keep these)
    assert df.attrs[TIME_DECIMALS] == 9


@pytest.mark.parametrize("command", ["decode", "verify", "timeline", "replay"])
def test_cli_other_commands_parquet_in_pieces(command, made, tmp_path):
    """decode, verify, timeline (its list) and replay write -f parquet of one input by
    row groups too (ParquetPieces); decode's and verify's files read back as their
    library table written whole, with the run's provenance in the metadata."""
    from ebutool.oracle.keys import load_keys_file
    from ebutool.runner.decode_inputs import decode_files
    from ebutool.runner.verify_inputs import verify_files
    from tests.support.cli import SAMPLES, run_cli

    path, keys = str(SAMPLES / "mixed.pcap"), str(SAMPLES / "mixed.keys.json")
    out = tmp_path / "o.parquet"
    extra = ["--keys", keys] if command == "verify" else []
    res = run_cli(command, path, *extra, "-f", "parquet", "-o", out, "-q")
    assert res.exit_code in (0, 1), res.output
    assert len(made) == 1
    got = pq.read_table(out)
    assert got.num_rows > 0
    if command == "decode":
        df = decode_files([path], 1)
    elif command == "verify":
        df = verify_files([path], 1, keys=load_keys_file(keys))
    else:
        return
    assert json.loads(got.schema.metadata[b"ebutool.provenance"])["command"] == command
    assert got.equals(_whole(df))
