"""The reconstruction's state per mobile node (issue 12): the tables are bounded by
``--max-state-entries`` MNs, so what each MN's state costs sets the analysis' peak on a
capture of distinct MNs (one BU each, as benchmarks/gen_hostile.py).  Counted with
tracemalloc: the memory the Reconstructor holds per MN it holds, not timed."""

from __future__ import annotations

import gc
import tracemalloc

from ebutool.analysis.episodes import Reconstructor
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from tests.support.hostile import one_bu_per_mn

MNS = 2_000
# What one BU per MN leaves (an MN, its handover, its CN episode, the BU's exchange and
# step, the address book's entries): 2,599 octets measured on 2026-12-03 (Python 3.11)
# with the per-MN classes slotted, the home tests' deque made at the first answer and the
# notes' and refreshes' sets at their first value (state.with_added); 3,463 with those
# four sets made empty, 4,434 before.
MAX_OCTETS_PER_MN = 2_800


def test_state_per_mn_is_small():
    gc.collect()
    tracemalloc.start()
    rc = Reconstructor(DEFAULT_CONFIG, Diagnostics())
    base = tracemalloc.get_traced_memory()[0]
    for rec in one_bu_per_mn(MNS):
        rc.feed(rec)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert len(rc.mns) == MNS
    assert held / MNS <= MAX_OCTETS_PER_MN, held / MNS
