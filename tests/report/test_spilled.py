"""Padded and typed formats written in pieces through a spill (ebutool.report.spilled,
issue 12): the octets of the whole table rendered at once (render_table, the renderer
every other command uses), for tables cut into pieces anywhere; and the pieces are not
held in memory."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ebutool.report import OutputFormat, render_table
from ebutool.report.spilled import SPILLED_FORMATS, SpilledRenderer
from tests.support.cli import SAMPLES, run_cli

TOKENS = [*"ab Z-_:;|&%$#{}\\^~é漢\t\x01", "\n", "\x1b[1m"]  # (line break, ANSI code)
TEXT = st.lists(st.sampled_from(TOKENS), max_size=8).map("".join)


def _spilled(pieces: list[pd.DataFrame], fmt: OutputFormat) -> str:
    r = SpilledRenderer(fmt, 3, name="t")
    for p in pieces:
        r.piece(p)
    return b"".join(r.chunks()).decode("utf-8")


def _cut(df: pd.DataFrame, cuts: list[int]) -> list[pd.DataFrame]:
    edges = sorted({0, len(df), *(c % (len(df) + 1) for c in cuts)})
    return [df.iloc[a:b].reset_index(drop=True) for a, b in zip(edges, edges[1:], strict=False)]


@st.composite
def tables(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 30))
    floats = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))
    return pd.DataFrame(
        {
            "t_handover": pd.array(
                draw(st.lists(st.floats(1.7e9, 1.8e9), min_size=n, max_size=n)), dtype="float64"
            ),
            "rtt_ms": pd.array(
                [
                    np.nan if v is None else v
                    for v in draw(st.lists(floats, min_size=n, max_size=n))
                ],
                dtype="float64",
            ),
            "count": draw(st.lists(st.integers(-5, 10**6), min_size=n, max_size=n)),
            "mn": draw(
                st.lists(
                    st.sampled_from(["2001:db8::1", "2001:db8::a:b:c"]), min_size=n, max_size=n
                )
            ),
            "note": draw(st.lists(st.one_of(st.none(), TEXT), min_size=n, max_size=n)),
            "ok": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        }
    )


@pytest.mark.parametrize("fmt", SPILLED_FORMATS)
@settings(max_examples=40, deadline=None)
@given(df=tables(), cuts=st.lists(st.integers(0, 40), max_size=5))
def test_pieces_give_the_whole_tables_octets(fmt, df, cuts):
    pieces = _cut(df, cuts)
    assert _spilled(pieces, fmt) == render_table(df, fmt, 3, name="t")


@pytest.mark.parametrize("fmt", SPILLED_FORMATS)
def test_a_column_numeric_in_one_piece_and_text_in_another(fmt):
    """The whole table's column is text (object): alignment and Zeek type follow it."""
    a = pd.DataFrame({"x_ms": [1.5, 22.25], "y": ["a", "b"]})
    b = pd.DataFrame({"x_ms": ["n/a", "-"], "y": ["c", "dd"]})
    whole = pd.concat([a, b], ignore_index=True)
    assert _spilled([a, b], fmt) == render_table(whole, fmt, 3, name="t")


@pytest.mark.parametrize("fmt", SPILLED_FORMATS)
def test_empty_tables(fmt):
    empty = pd.DataFrame({"t_handover": pd.array([], dtype="float64"), "kind": []})
    assert _spilled([empty], fmt) == render_table(empty, fmt, 3, name="t")
    one = pd.DataFrame({"t_handover": [1.7e9], "kind": ["early"]})
    assert _spilled([empty, one, empty.copy()], fmt) == render_table(one, fmt, 3, name="t")


def test_the_pieces_are_not_held_in_memory():
    """Fed 30 pieces of ~0.8 MB, the renderer holds less than two of them."""
    rng = np.random.default_rng(1)
    piece_bytes = 20_000 * 5 * 8
    r = SpilledRenderer(OutputFormat.zeek, 3, name="t")
    tracemalloc.start()
    try:
        for _ in range(30):
            df = pd.DataFrame(rng.random((20_000, 5)), columns=[f"c{i}_ms" for i in range(5)])
            r.piece(df)
            del df
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 2 * piece_bytes, held
    assert sum(1 for _ in r.chunks()) == 30


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex", "zeek"])
def test_cli_analyze_writes_these_formats_in_pieces(fmt, monkeypatch, tmp_path):
    """analyze of one input in these formats goes through the spill (the same octets
    as a whole table: the sample runs of the other tests)."""
    made = []
    real = SpilledRenderer.__init__

    def spy(self, *a, **k):
        made.append(a[0])
        real(self, *a, **k)

    monkeypatch.setattr(SpilledRenderer, "__init__", spy)
    out = tmp_path / "o.txt"
    res = run_cli("analyze", str(SAMPLES / "mixed.pcap"), "-f", fmt, "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    assert made == [OutputFormat(fmt)]
    assert out.read_text()
