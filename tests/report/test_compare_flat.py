"""compare's kept table and its statistics stay flat in episodes (issue 12): the table
holds 8 octets per float cell and a small code per text cell (no per-row Python object
or per-row copy of a text), and the statistics (the summary per kind x mode, the
exclusion counts) add a few octets per episode at their peak, not a copy of the table.

The episodes are synthetic pieces in analyze's dtypes (text columns ``str`` or
``object``, ``complete`` boolean, latencies float64), drawn at random here; what they
may cost is counted from the column list, not from the code under test."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pandas as pd

from ebutool.analysis.summary import exclusion_counts, summarize
from ebutool.report.compare import STATISTICS_COLUMNS, compare_table
from ebutool.runner.lean import LeanColumns

PIECE = 10_000  # rows per piece, as analyze_pieces makes them
FLOATS = [c for c in STATISTICS_COLUMNS if c.endswith("_ms")]
TEXTS = {
    "kind": ("standard", "early", "early_fallback", "home_only"),
    "mode": ("conservative", "optimistic", "unknown", None),
    "quality": ("ok", "state_evicted", "capture_began_mid_procedure", None),
    "diagnosis": ("", "ha_bu_unanswered", "tentative_binding_expired;cot_late", None),
    "vantage": ("mn", "ha", None),
}
STATS_PER_ROW = 64  # octets the statistics may add per episode at their peak
# Like the 1M-BU capture, no episode of quality ok: the bootstrap of counted ones has a
# fixed working set (claim_stats._CHUNK_CELLS, 16 MB) that would hide what grows per row.
OK_ROWS = 0


def _piece(rng: np.random.Generator, start: int, n: int, ok_rows: int) -> pd.DataFrame:
    """Rows ``start``..``start + n - 1``; of quality ``ok`` only among the first ``ok_rows``."""
    cols: dict[str, object] = {}
    for c, values in TEXTS.items():
        picked = [values[i] for i in rng.integers(0, len(values), n)]
        if c == "quality":
            picked = [q if start + i < ok_rows else "state_evicted" for i, q in enumerate(picked)]
        cols[c] = pd.array(picked, dtype=object if c in ("mode", "vantage") else "str")
    cols["complete"] = pd.array(rng.integers(0, 3, n) > 0, dtype="boolean")
    for c in FLOATS:
        v = rng.gamma(2.0, 50.0, n)
        v[rng.random(n) < 0.2] = np.nan
        cols[c] = v
    cols["mn"] = pd.array([f"2001:db8:1::{i:x}" for i in range(start, start + n)], dtype="str")
    return pd.DataFrame(cols, index=pd.RangeIndex(start, start + n))


def _kept(rows: int, ok_rows: int = OK_ROWS) -> pd.DataFrame:
    """The table compare keeps of ``rows`` synthetic episodes (``mn`` not kept)."""
    rng = np.random.default_rng(rows)
    kept = LeanColumns(STATISTICS_COLUMNS)
    for start in range(0, rows, PIECE):
        kept.add(_piece(rng, start, min(PIECE, rows - start), ok_rows))
    df = kept.frame()
    df.insert(0, "file", pd.Categorical.from_codes(np.zeros(rows, np.int8), ["a.pcap"]))
    return df


def test_kept_table_is_floats_and_small_codes():
    rows = 50_000
    df = _kept(rows)
    assert len(df) == rows and "mn" not in df.columns
    others = len(df.columns) - len(FLOATS)
    budget = rows * (8 * len(FLOATS) + 2 * others) + 100_000  # + the distinct texts
    assert df.memory_usage(deep=True, index=False).sum() <= budget
    assert not [c for c in df.columns if df[c].dtype == object or df[c].dtype == "str"]


def _statistics_peak(df: pd.DataFrame) -> int:
    """Octets tracemalloc sees allocated at most, above what was, while compare's
    statistics run over ``df``."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        compare_table(df, "file")
        exclusion_counts(df)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_statistics_add_a_few_octets_per_episode():
    small, large = _kept(50_000), _kept(100_000)
    _statistics_peak(small)  # imports and caches out of the count
    grown = _statistics_peak(large) - _statistics_peak(small)
    assert grown <= STATS_PER_ROW * (len(large) - len(small)), grown / (len(large) - len(small))


def test_kept_table_gives_the_full_tables_statistics():
    """The coded table summarises as the pieces themselves concatenated would."""
    rng = np.random.default_rng(7)
    pieces = [_piece(rng, s, 300, ok_rows=1_500) for s in range(0, 1_500, 300)]
    kept = LeanColumns(STATISTICS_COLUMNS)
    for p in pieces:
        kept.add(p)
    table, full = kept.frame(), pd.concat(pieces, ignore_index=True)
    pd.testing.assert_frame_equal(summarize(table), summarize(full))
    assert exclusion_counts(table) == exclusion_counts(full)
