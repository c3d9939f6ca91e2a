"""Binding facts: which care-of address spoke for which home address, and when.

Each (Early) Binding Update that registers a care-of address (not a deregistration) says
"care-of address C is home address H's from time T"; a part's facts are one row per
(C, H) with the first and last time seen and the number of updates.  They let a query
(or a split of the analysis by mobile node) tie a care-of address to its mobile node
without reading the records: :func:`binding_facts` puts a store's facts together.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator

import pyarrow as pa

from ebutool.core.names import readable_name
from ebutool.records.record import Record
from ebutool.store.leftovers import facts_prefix
from ebutool.store.runs import Runs

FACTS_SCHEMA = pa.schema(
    [
        ("coa", pa.string()),
        ("hoa", pa.string()),
        ("first_ts_ns", pa.int64()),
        ("last_ts_ns", pa.int64()),
        ("n_updates", pa.int64()),
        ("path", pa.string()),
    ]
)
PAIRS_SCHEMA = pa.schema(list(FACTS_SCHEMA)[:-1])  # held while collecting: no path yet
UPDATES = ("BU", "EBU")


MERGE_PARTS = 16  # per-batch partial tables kept before they are merged into one
SPILL_ROWS = 1 << 17  # pairs held in memory before they go to a sorted run on disk
ROW_GROUP_ROWS = 65_536  # facts written at a time (a Parquet row group)
PAIR_ORDER = [("coa", "ascending"), ("hoa", "ascending")]
TIME_ORDER = [("first_ts_ns", "ascending"), *PAIR_ORDER]


class BindingFacts:
    """Collects the facts of one input's records (module doc).  Each batch of records is
    aggregated at once into a compact Arrow table (not a Python dict entry per pair: one
    BU per distinct home address made that grow by about 0.5 KB a mobile node, issue 12),
    and the partial tables are merged every :data:`MERGE_PARTS` batches.  Once more than
    :data:`SPILL_ROWS` pairs are held, they are written to a sorted run in a temporary
    directory under ``spill_dir`` (ebutool.store.runs) and :meth:`batches` merges the
    runs, so memory does not grow with the number of distinct pairs (issue 12).  A
    context manager: the temporary runs go when it is closed."""

    def __init__(
        self,
        path: str,
        merge_parts: int = MERGE_PARTS,
        spill_rows: int | None = None,
        spill_dir: str | None = None,
    ):
        self.path = readable_name(path)  # (Arrow strings are UTF-8: a name not UTF-8 escaped)
        self.merge_parts = merge_parts
        self.spill_rows = SPILL_ROWS if spill_rows is None else spill_rows
        self.spill_dir = spill_dir
        self.parts: list[pa.Table] = []
        self.held = 0  # rows of self.parts
        self.runs: Runs | None = None

    def __enter__(self) -> BindingFacts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.runs is not None:
            self.runs.close()
            self.runs = None

    def add(self, items: Iterable) -> None:
        coas: list[str] = []
        hoas: list[str] = []
        times: list[int] = []
        for rec in items:
            if not isinstance(rec, Record) or rec.msg not in UPDATES or rec.deregistration:
                continue
            coas.append(rec.care_of_address or rec.src)
            hoas.append(rec.home_address or rec.src)
            times.append(rec.ts_ns)
        if not times:
            return
        batch = pa.table(
            {
                "coa": pa.array(coas, pa.string()),
                "hoa": pa.array(hoas, pa.string()),
                "first_ts_ns": pa.array(times, pa.int64()),
                "last_ts_ns": pa.array(times, pa.int64()),
                "n_updates": pa.array([1] * len(times), pa.int64()),
            }
        )
        self._hold(_aggregate([batch]))
        if len(self.parts) >= self.merge_parts or self.held >= self.spill_rows:
            merged = self.parts[0] if len(self.parts) == 1 else _aggregate(self.parts)
            self.parts, self.held = [], 0
            if merged.num_rows >= self.spill_rows // 2:  # merging did not make it small
                self._spill(merged)
            else:
                self._hold(merged)

    def _hold(self, table: pa.Table) -> None:
        self.parts.append(table)
        self.held += table.num_rows

    def _spill(self, table: pa.Table) -> None:
        if self.runs is None:
            folder = self.spill_dir or tempfile.gettempdir()
            self.runs = Runs(folder, PAIR_ORDER, prefix=facts_prefix())
        self.runs.add(table)

    def batches(self) -> Iterator[pa.Table]:
        """The facts table (:meth:`table`) a row group at a time, for a writer."""
        if self.runs is None:  # all in memory: sorted at once
            merged = _aggregate(self.parts) if self.parts else PAIRS_SCHEMA.empty_table()
            yield from _slices(merged.sort_by(TIME_ORDER), self.path)
            return
        self._spill(_aggregate(self.parts) if self.parts else PAIRS_SCHEMA.empty_table())
        self.parts, self.held = [], 0
        yield from _by_time(self.runs, self.spill_rows, self.path)

    def table(self) -> pa.Table:
        """One row per (care-of, home address), by first time seen, then the addresses."""
        tables = list(self.batches())
        return pa.concat_tables(tables) if tables else FACTS_SCHEMA.empty_table()


def _by_time(by_pair: Runs, spill_rows: int, path: str) -> Iterator[pa.Table]:
    """The pairs of the runs ``by_pair`` (each sorted by pair) reduced across runs, then
    sorted by time through runs of their own: the facts in :meth:`BindingFacts.table`'s
    order, with memory for :data:`SPILL_ROWS` pairs and a batch a run."""
    with Runs(by_pair.dir, TIME_ORDER, prefix=".time-") as by_time:
        held: list[pa.Table] = []
        rows = 0
        for block in by_pair.merged(lambda t: _aggregate([t])):
            held.append(block)
            rows += block.num_rows
            if rows >= spill_rows:
                by_time.add(pa.concat_tables(held).sort_by(TIME_ORDER))
                held, rows = [], 0
        if held:
            by_time.add(pa.concat_tables(held).sort_by(TIME_ORDER))
        del held
        pending = FACTS_SCHEMA.empty_table()
        for block in by_time.merged():
            pending = pa.concat_tables([pending, *_slices(block, path)])
            while pending.num_rows >= ROW_GROUP_ROWS:
                yield pending.slice(0, ROW_GROUP_ROWS)
                pending = pending.slice(ROW_GROUP_ROWS)
        if pending.num_rows:
            yield pending


def _slices(table: pa.Table, path: str) -> Iterator[pa.Table]:
    """``table`` (the facts without their path) with the path column, in row groups."""
    for start in range(0, max(table.num_rows, 1), ROW_GROUP_ROWS):
        part = table.slice(start, ROW_GROUP_ROWS)
        column = pa.array([path] * part.num_rows, pa.string())
        yield pa.Table.from_arrays([*part.columns, column], schema=FACTS_SCHEMA)


def _aggregate(parts: list[pa.Table]) -> pa.Table:
    """The rows of ``parts`` (emptied: their memory goes as soon as they are sorted) with
    those of the same (coa, hoa) as one: earliest first, latest last, updates summed.
    By sorting and reducing runs, not Arrow's hash group_by: that one took 280 MB for a
    million distinct string pairs, the sort a copy of the table and a few int arrays."""
    import numpy as np
    import pyarrow.compute as pc

    table = pa.concat_tables(parts)
    parts.clear()
    table = table.sort_by([("coa", "ascending"), ("hoa", "ascending")]).combine_chunks()
    if table.num_rows < 2:
        return table
    coa, hoa = table["coa"].chunk(0), table["hoa"].chunk(0)
    changed = pc.or_(pc.not_equal(coa[1:], coa[:-1]), pc.not_equal(hoa[1:], hoa[:-1])).to_numpy(
        zero_copy_only=False
    )
    starts = np.concatenate([[0], np.flatnonzero(changed) + 1])
    if len(starts) == table.num_rows:  # every pair once (one BU per mobile node): as it is
        return table
    runs = pa.array(starts)

    def reduce(column: str, ufunc) -> pa.Array:
        return pa.array(ufunc.reduceat(table[column].to_numpy(), starts), pa.int64())

    return pa.table(
        {
            "coa": coa.take(runs),
            "hoa": hoa.take(runs),
            "first_ts_ns": reduce("first_ts_ns", np.minimum),
            "last_ts_ns": reduce("last_ts_ns", np.maximum),
            "n_updates": reduce("n_updates", np.add),
        }
    )


def binding_facts(store: str):
    """The store's binding facts as a pandas DataFrame: one row per care-of address and
    home address, from the first to the last time any input saw it."""
    import os

    import pyarrow.parquet as pq

    from ebutool.store.layout import BINDINGS

    folder = os.path.join(store, BINDINGS)
    from ebutool.store.layout import part_files

    # Facts of complete parts only (an interrupted run writes them before its part).
    files = [os.path.join(folder, os.path.basename(p)) for p in part_files(store)]
    files = [f for f in files if os.path.exists(f)]
    tables = [pq.read_table(f) for f in files] or [FACTS_SCHEMA.empty_table()]
    df = pa.concat_tables(tables).to_pandas()
    out = df.groupby(["coa", "hoa"], as_index=False, sort=False).agg(
        first_ts_ns=("first_ts_ns", "min"),
        last_ts_ns=("last_ts_ns", "max"),
        n_updates=("n_updates", "sum"),
    )
    return out.sort_values(["first_ts_ns", "coa", "hoa"], ignore_index=True)
