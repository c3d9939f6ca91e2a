"""Replay's state is bounded by --max-state-entries (issue 12): the MNs it holds, and its
memory, stay flat when the number of distinct MNs doubles beyond the bound; within the
bound the whole input is one batch; beyond it no update is lost (each evicted MN is a
counted state_evicted warning and its rows are still made).

The inputs are built here: one BU per distinct home address (the hostile capture of
benchmarks/gen_hostile.py), as Records, so the expected counts are those of the loop.
"""

from __future__ import annotations

import gc
import tracemalloc
from dataclasses import replace

from ebutool.cn_replay import replay_batches, replay_records
from ebutool.cn_replay.per_mn import Collector, batches
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from tests.support.hostile import one_bu_per_mn

LIMIT = 100


def _held(n: int) -> tuple[int, int, int]:
    """(most MNs held at once, largest batch, updates in all batches) for ``n`` MNs."""
    diag = Diagnostics()
    col = Collector(diag, LIMIT)
    sizes = [len(tr.sent) for tr in batches(one_bu_per_mn(n), None, diag, "injected", LIMIT, col)]
    return col.peak_groups, max(sizes), sum(sizes)


def test_mns_held_stay_flat_when_mns_double_beyond_the_bound():
    small, large = _held(4 * LIMIT), _held(8 * LIMIT)
    assert small[0] <= LIMIT and large[0] <= LIMIT
    assert small[1] <= LIMIT and large[1] <= LIMIT
    assert (small[2], large[2]) == (4 * LIMIT, 8 * LIMIT)  # every update replayed once


def test_within_the_bound_one_batch():
    diag = Diagnostics()
    traces = list(batches(one_bu_per_mn(LIMIT), None, diag, "injected", LIMIT))
    assert len(traces) == 1 and len(traces[0].sent) == LIMIT
    assert diag.counts.get("state_evicted", 0) == 0


def test_beyond_the_bound_every_update_has_its_row_and_evictions_are_counted():
    n = 5 * LIMIT
    config = replace(DEFAULT_CONFIG, max_state_entries=LIMIT)
    diag = Diagnostics()
    parts = list(replay_batches(one_bu_per_mn(n), config=config, diag=diag))
    last = len(parts[-1].decisions)
    assert sum(len(p.decisions) for p in parts) == n
    assert sum(p.summary["updates"] for p in parts) == n
    assert diag.counts["state_evicted"] == n - last  # one per MN replayed before the end
    whole = replay_records(one_bu_per_mn(n), config=config, diag=Diagnostics())
    assert list(whole.decisions["frame"]) == [
        f for p in parts for f in p.decisions["frame"]
    ]  # the library's table: the batches one after the other
    assert whole.summary["updates"] == n


def _peak(n: int) -> int:
    config = replace(DEFAULT_CONFIG, max_state_entries=LIMIT)
    # (the collector's counts start from zero: when it frees cyclic garbage during the run,
    # and so the peak, no longer depends on what the tests before this one allocated;
    # one run of the whole suite measured 364 kB against 281 kB, alone the ratio is ~1.0)
    gc.collect()
    tracemalloc.start()
    try:
        for _ in replay_batches(
            one_bu_per_mn(n), config=config, diag=Diagnostics(), decisions=False
        ):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_when_mns_double_beyond_the_bound():
    _peak(LIMIT)  # (imports and caches warmed)
    small, large = _peak(6 * LIMIT), _peak(12 * LIMIT)
    assert large < 1.25 * small, (small, large)


def test_merged_summary_keeps_the_policies_of_at_most_the_bound_of_cns():
    from ebutool.cn_replay import merge_summaries

    def part(cns):
        return {
            "updates": len(cns),
            "basis": {"trace": len(cns)},
            "actions": {},
            "divergences_by_kind": {},
            "cn_policies": dict.fromkeys(cns, "early"),
            "cn_policies_observed": {},
        }

    out = merge_summaries([part(["a", "b"]), part(["b", "c", "d"])], limit=3)
    assert out["updates"] == 5 and out["basis"] == {"trace": 5}
    assert list(out["cn_policies"]) == ["a", "b", "c"]
    assert list(merge_summaries([part(["a"]), part(["b", "c"])])["cn_policies"]) == ["a", "b", "c"]


def _hostile(tmp_path, n: int):
    """benchmarks/gen_hostile.py's capture (raw bytes, independent of ebutool)."""
    import subprocess
    import sys
    from pathlib import Path

    gen = Path(__file__).resolve().parents[2] / "benchmarks" / "gen_hostile.py"
    cap = tmp_path / "hostile.pcap"
    subprocess.run([sys.executable, str(gen), "--bus", str(n), "--out", str(cap)], check=True)
    return cap


def test_cli_streams_every_decision_beyond_the_bound(tmp_path):
    import csv
    import json

    from tests.support.cli import run_cli

    n = 3 * LIMIT
    cap = _hostile(tmp_path, n)
    for bound, fmt in ((LIMIT, "csv"), (LIMIT, "json"), (10 * LIMIT, "csv")):
        dec = tmp_path / f"dec.{fmt}"
        args = ["replay", cap, "-f", fmt, "-o", tmp_path / "exp", "--decisions", dec]
        r = run_cli(*args, "--max-state-entries", bound)
        assert r.exit_code == 0, r.output
        text = dec.read_text()
        rows = list(csv.DictReader(text.splitlines())) if fmt == "csv" else json.loads(text)
        frames = [int(row["frame"]) for row in rows]
        assert sorted(frames) == list(range(1, n + 1))  # every BU once
        if bound > n:  # within the bound: capture order, no eviction
            assert frames == list(range(1, n + 1)) and "state_evicted" not in r.output
        else:
            assert "state_evicted" in r.output
