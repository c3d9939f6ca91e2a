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


class BindingFacts:
    """Collects the facts of one input's records (module doc)."""

    def __init__(self, path: str):
        self.path = path
        self.seen: dict[tuple[str, str], list[int]] = {}

    def add(self, items: Iterable) -> None:
        for rec in items:
            if not isinstance(rec, Record) or rec.msg not in UPDATES or rec.deregistration:
                continue
            coa = rec.care_of_address or rec.src
            hoa = rec.home_address or rec.src
            entry = self.seen.get((coa, hoa))
            if entry is None:
                self.seen[(coa, hoa)] = [rec.ts_ns, rec.ts_ns, 1]
            else:
                entry[0] = min(entry[0], rec.ts_ns)
                entry[1] = max(entry[1], rec.ts_ns)
                entry[2] += 1

    def table(self) -> pa.Table:
        rows = sorted(self.seen.items(), key=lambda kv: (kv[1][0], kv[0]))
        return pa.table(
            [
                [k[0] for k, _ in rows],
                [k[1] for k, _ in rows],
                [v[0] for _, v in rows],
                [v[1] for _, v in rows],
                [v[2] for _, v in rows],
                [self.path] * len(rows),
            ],
            schema=FACTS_SCHEMA,
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
