"""Binding facts past a bound go to sorted runs on disk (issue 12): what extract holds for
them does not grow with the number of distinct (care-of, home address) pairs, and the
table is the same as when everything is held (ground truth: a plain count of the BUs)."""

from __future__ import annotations

import gc
import os
import random
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ebutool.store import extract
from ebutool.store import facts as store_facts
from ebutool.store import runs as store_runs
from ebutool.store.facts import BindingFacts
from tests.store.test_facts_memory import _bus
from tests.support.cli import SAMPLES

SPILL = 1_000
CHUNK = 500


def _held(n: int, tmp_path) -> tuple[int, int]:
    """Most bytes held by the facts of ``n`` MNs' BUs, of Arrow and of the Python heap,
    while they were added and their table was given out a row group at a time."""
    with BindingFacts("x.pcap", spill_rows=SPILL, spill_dir=str(tmp_path)) as warm:
        for k in range(0, 3 * SPILL, CHUNK):  # imports and first runs not counted
            warm.add(list(_bus(CHUNK, start=k)))
        for _ in warm.batches():
            pass
    gc.collect()  # other tests' garbage freed now, not while counting
    gc.disable()
    try:
        tracemalloc.start()
        base, arrow = tracemalloc.get_traced_memory()[0], pa.total_allocated_bytes()
        most = [0, 0]

        def sample() -> None:
            most[0] = max(most[0], pa.total_allocated_bytes() - arrow)
            most[1] = max(most[1], tracemalloc.get_traced_memory()[0] - base)

        rows = 0
        with BindingFacts("x.pcap", spill_rows=SPILL, spill_dir=str(tmp_path)) as facts:
            for k in range(0, n, CHUNK):
                batch = list(_bus(CHUNK, start=k))
                facts.add(batch)
                del batch
                sample()
            for table in facts.batches():
                rows += table.num_rows
                sample()
                del table
        tracemalloc.stop()
    finally:
        gc.enable()
    assert rows == n
    return most[0], most[1]


def test_facts_held_stay_flat_when_pairs_double(tmp_path, monkeypatch):
    # what the merges hold at a time: a batch of each of at most MAX_FAN_IN runs, and the
    # row group being written (at the real sizes, 64 x 8,192 and 65,536 rows)
    monkeypatch.setattr(store_runs, "MAX_FAN_IN", 8)
    monkeypatch.setattr(store_runs, "RUN_BATCH_ROWS", 100)
    monkeypatch.setattr(store_facts, "ROW_GROUP_ROWS", 1_000)
    n = 20 * SPILL
    (arrow_n, heap_n), (arrow_2n, heap_2n) = _held(n, tmp_path), _held(2 * n, tmp_path)
    # held all in memory, the facts take ~65 bytes of Arrow a pair: 1.3 MB more at 2n
    assert arrow_2n - arrow_n < 10 * n, (arrow_n, arrow_2n)
    assert arrow_2n < 200 * SPILL, arrow_2n
    assert heap_n < 1 << 20 and heap_2n < 1 << 20, (heap_n, heap_2n)  # transient keys only
    assert os.listdir(tmp_path) == []  # the runs are gone


def _truth(records) -> list[tuple]:
    counts: dict[tuple[str, str], list[int]] = {}
    for rec in records:
        e = counts.setdefault((rec.src, rec.hoa), [rec.ts_ns, rec.ts_ns, 0])
        e[0], e[1], e[2] = min(e[0], rec.ts_ns), max(e[1], rec.ts_ns), e[2] + 1
    return sorted(((v[0], k[0], k[1], v[1], v[2]) for k, v in counts.items()))


@pytest.mark.parametrize(
    "spill, fan_in, run_batch", [(10**9, 64, 8192), (50, 64, 8192), (40, 3, 7)]
)
def test_spilled_facts_are_the_count_of_the_updates(
    tmp_path, monkeypatch, spill, fan_in, run_batch
):
    monkeypatch.setattr(store_runs, "MAX_FAN_IN", fan_in)
    monkeypatch.setattr(store_runs, "RUN_BATCH_ROWS", run_batch)
    monkeypatch.setattr(store_facts, "ROW_GROUP_ROWS", 128)
    records = list(_bus(700, repeat=3))  # each pair in several batches, runs and merges
    random.Random(7).shuffle(records)
    for rec in records[:100]:
        rec.ts_ns = records[-1].ts_ns  # equal first times: ordered by the addresses
    with BindingFacts("x.pcap", merge_parts=3, spill_rows=spill, spill_dir=str(tmp_path)) as f:
        for k in range(0, len(records), 61):
            f.add(records[k : k + 61])
        spilled = f.runs is not None
        got = f.table().to_pylist()
    assert spilled == (spill < 700)
    assert [
        (r["first_ts_ns"], r["coa"], r["hoa"], r["last_ts_ns"], r["n_updates"]) for r in got
    ] == _truth(records)
    assert {r["path"] for r in got} == {"x.pcap"}
    assert os.listdir(tmp_path) == []


def test_runs_are_removed_when_extraction_fails(tmp_path):
    with pytest.raises(RuntimeError):
        with BindingFacts("x.pcap", spill_rows=10, spill_dir=str(tmp_path)) as f:
            f.add(list(_bus(100)))
            assert f.runs is not None and os.listdir(tmp_path)
            raise RuntimeError("stop")
    assert os.listdir(tmp_path) == []


def test_a_store_s_facts_do_not_depend_on_spilling(tmp_path, monkeypatch):
    extract([SAMPLES / "mixed.pcap"], tmp_path / "held")
    monkeypatch.setattr(store_facts, "SPILL_ROWS", 2)
    extract([SAMPLES / "mixed.pcap"], tmp_path / "spilled")
    (a,), (b,) = ((tmp_path / s / "bindings").glob("*.parquet") for s in ("held", "spilled"))
    assert pq.read_table(a).num_rows > 2
    assert pq.read_table(a).equals(pq.read_table(b))
    assert [p.name for p in (tmp_path / "spilled" / "bindings").iterdir()] == [b.name]
