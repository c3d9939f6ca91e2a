"""Binding facts: which care-of address spoke for which home address, and when.

Each (Early) Binding Update that registers a care-of address (not a deregistration) says
"care-of address C is home address H's from time T"; a part's facts are one row per
(C, H) with the first and last time seen and the number of updates.  They let a query
(or a split of the analysis by mobile node) tie a care-of address to its mobile node
without reading the records: :func:`binding_facts` puts a store's facts together.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from ebutool.records.record import Record

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
UPDATES = ("BU", "EBU")


MERGE_PARTS = 16  # per-batch partial tables kept before they are merged into one


class BindingFacts:
    """Collects the facts of one input's records (module doc).  Each batch of records is
    aggregated at once into a compact Arrow table (not a Python dict entry per pair: one
    BU per distinct home address made that grow by about 0.5 KB a mobile node, issue 12),
    and the partial tables are merged every :data:`MERGE_PARTS` batches."""

    def __init__(self, path: str, merge_parts: int = MERGE_PARTS):
        self.path = path
        self.merge_parts = merge_parts
        self.parts: list[pa.Table] = []

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
        self.parts.append(_aggregate([batch]))
        if len(self.parts) >= self.merge_parts:
            self.parts = [_aggregate(self.parts)]

    def table(self) -> pa.Table:
        """One row per (care-of, home address), by first time seen, then the addresses."""
        if not self.parts:
            return FACTS_SCHEMA.empty_table()
        merged = self.parts[0] if len(self.parts) == 1 else _aggregate(self.parts)
        self.parts = []
        merged = merged.sort_by(
            [("first_ts_ns", "ascending"), ("coa", "ascending"), ("hoa", "ascending")]
        )
        path = pa.array([self.path] * merged.num_rows, pa.string())
        return pa.Table.from_arrays([*merged.columns, path], schema=FACTS_SCHEMA)


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
