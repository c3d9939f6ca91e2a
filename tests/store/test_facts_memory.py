"""Binding facts of one BU per distinct home address (issue 12): what extract holds per
(care-of, home address) pair is a compact Arrow row, not a Python dict entry, and the
table is the one a plain count of the BUs gives (ground truth built here)."""

from __future__ import annotations

import tracemalloc

import pyarrow as pa

from ebutool.records.record import Record
from ebutool.store.facts import BindingFacts
from ebutool.wire.mh.messages import BindingUpdate

CHUNK = 1000
MAX_BYTES_PER_PAIR = 150  # Arrow: ~70; the dict of before: ~400


def _bus(n: int, repeat: int = 1, start: int = 0):
    for i in range(start, start + n):
        for r in range(repeat):
            yield Record(
                frame=i,
                ts_ns=(i + r * n) * 1_000_000,
                src=f"2001:db8:2::{i + 1:x}",
                dst="2001:db8:3::1",
                msg="BU",
                hoa=f"2001:db8:1::{i + 1:x}",
                mh=BindingUpdate(sequence=i & 0xFFFF, lifetime=100),
            )


def _held_per_pair(n: int) -> float:
    """Bytes held (Python heap and Arrow) per pair after ``n`` MNs' BUs were added."""
    warm = BindingFacts("x.pcap")  # imports (numpy, compute) not counted
    for k in range(3):
        warm.add(list(_bus(10, start=k * 10)))
    warm.table()
    facts = BindingFacts("x.pcap")
    tracemalloc.start()
    base, arrow = tracemalloc.get_traced_memory()[0], pa.total_allocated_bytes()
    for k in range(0, n, CHUNK):
        facts.add(list(_bus(CHUNK, start=k)))
    held = tracemalloc.get_traced_memory()[0] - base + pa.total_allocated_bytes() - arrow
    tracemalloc.stop()
    assert facts.table().num_rows == n
    return held / n


def test_facts_held_per_pair_small_when_mns_double():
    small, large = _held_per_pair(10_000), _held_per_pair(20_000)
    assert small < MAX_BYTES_PER_PAIR, small
    assert large < MAX_BYTES_PER_PAIR, large


def test_facts_table_is_the_count_of_the_updates():
    records = list(_bus(300, repeat=3))  # each pair in several batches and merges
    truth: dict[tuple[str, str], list[int]] = {}
    for rec in records:
        e = truth.setdefault((rec.src, rec.hoa), [rec.ts_ns, rec.ts_ns, 0])
        e[0], e[1], e[2] = min(e[0], rec.ts_ns), max(e[1], rec.ts_ns), e[2] + 1
    facts = BindingFacts("x.pcap", merge_parts=2)
    for k in range(0, len(records), 70):
        facts.add(records[k : k + 70])
    got = facts.table().to_pylist()
    want = sorted(truth.items(), key=lambda kv: (kv[1][0], kv[0]))
    assert [(r["coa"], r["hoa"]) for r in got] == [k for k, _ in want]
    assert [[r["first_ts_ns"], r["last_ts_ns"], r["n_updates"]] for r in got] == [
        v for _, v in want
    ]
    assert {r["path"] for r in got} == {"x.pcap"}
