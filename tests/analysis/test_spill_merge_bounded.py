"""The merge of analyze's spilled runs holds a few rows per run, not whole runs (issue
12): with one run per ``spill_at`` rows, what each run's reader holds is multiplied by
the number of runs, which grows with the episodes.  Counted, not timed: the memory
allocated and still held (tracemalloc) once the first piece is out, for N and 2N
episodes of the hostile input (one BU per home address: one row each)."""

from __future__ import annotations

import gc
import tracemalloc
from dataclasses import replace

from ebutool.analysis.rows import build_rows
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from tests.support.hostile import one_bu_per_mn

SPILL_AT = 500  # rows per run
RUNS = 10  # runs of the smaller input; the larger has twice as many
PIECE = 100  # rows per piece taken
CONFIG = replace(DEFAULT_CONFIG, max_state_entries=100)
# A held row is ~1-1.5 KB of Python objects (its tuple, a float per latency column, its
# own copies of the addresses).  Holding whole runs costs that per episode; a reader
# holding a tenth of its run or less, ~150 octets.
GROWTH_PER_EPISODE = 400


def _held_at_first_piece(n: int) -> int:
    """Octets allocated by the merge and still held when its first piece is out."""
    rows = build_rows(one_bu_per_mn(n), CONFIG, Diagnostics(), spill_at=SPILL_AT)
    assert len(rows) == n and rows.spill is not None and len(rows.spill.runs) >= n // SPILL_AT
    gc.collect()
    tracemalloc.start()
    try:
        pieces = rows.pieces(rows=PIECE)
        first = next(pieces)
        assert len(first) == PIECE
        del first
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    pieces.close()
    return held


def test_merge_memory_does_not_grow_with_runs():
    n = RUNS * SPILL_AT
    small, large = _held_at_first_piece(n), _held_at_first_piece(2 * n)
    per_episode = (large - small) / n
    assert per_episode < GROWTH_PER_EPISODE, (small, large, per_episode)
