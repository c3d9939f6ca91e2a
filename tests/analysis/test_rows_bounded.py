"""analyze's finished rows hold memory for the rows in memory only (issue 12): once rows
go to disk (``spill_at``), the strings they shared are let go, so what stays in memory
does not grow with the number of distinct MNs (one BU per home address, as
benchmarks/gen_hostile.py).  Counted, not timed: the interned strings held."""

from __future__ import annotations

from dataclasses import replace

from ebutool.analysis.rows import build_rows
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from tests.support.hostile import one_bu_per_mn

SPILL_AT = 50
CONFIG = replace(DEFAULT_CONFIG, max_state_entries=100)


def _held(n: int) -> tuple[int, int]:
    """(strings held for the rows in memory, rows in all) after ``n`` MNs."""
    rows = build_rows(one_bu_per_mn(n), CONFIG, Diagnostics(), spill_at=SPILL_AT)
    return len(rows._interned), len(rows)


def test_strings_held_stay_flat_when_mns_double():
    (small, n_small), (large, n_large) = _held(20 * SPILL_AT), _held(40 * SPILL_AT)
    assert n_small >= 20 * SPILL_AT and n_large >= 40 * SPILL_AT  # every MN has its row
    assert small <= 10 * SPILL_AT and large <= 10 * SPILL_AT, (small, large)
