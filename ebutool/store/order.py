"""A record store's records as one Arrow table in the order the single run reads them.

:func:`ordered_table` reads every part (only its records: a few percent of the
captures) and orders the rows exactly as :func:`ebutool.store.parts.store_records`
streams them: the parts' records merged by time, equal times in the parts' order (a
stable sort when every part is in time order, else the same :func:`heapq.merge`).  As
there, the parts' counts go to ``stats``, their reading diagnostics and their
backwards timestamps (``timestamp_out_of_order``, each part checked on its own) to
``diag``.  A :data:`~ebutool.store.schema.PART` column says whose input each row is.
The address columns come dictionary-encoded (:data:`ADDRESS_COLUMNS`): a store's
records repeat a few thousand addresses, and the split by mobile node numbers them
(ebutool.store.groups) and hands the groups' rows on (ebutool.store.grouped).
"""

from __future__ import annotations

import heapq
from operator import itemgetter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.store.arrow_numpy import arrow_of, numpy_of
from ebutool.store.parts import add_part_stats, part_diagnostics, store_parts
from ebutool.store.schema import PART, RECORD_SCHEMA

ADDRESS_COLUMNS = ("src", "dst", "hoa", "rh2", "tunnel_src", "tunnel_dst")


def _read_schema() -> pa.Schema:
    schema = RECORD_SCHEMA
    for name in ADDRESS_COLUMNS:
        at = schema.get_field_index(name)
        schema = schema.set(at, pa.field(name, pa.dictionary(pa.int32(), pa.string())))
    return schema


READ_SCHEMA = _read_schema()  # RECORD_SCHEMA, the addresses dictionary-encoded


def read_part(path: str) -> pa.Table:
    """A part's records in :data:`READ_SCHEMA` (no schema metadata).  Read as one Parquet
    file: ``pq.read_table`` goes through pyarrow's dataset layer, ~0.1 s more CPU on the
    8 parts of the 8 x 1 M-packet store in a fresh process (it imports pandas and
    builds a dataset per file: docs/performance.md, "the fork mapper").  A part of
    another schema (written before the ESP columns) is read by ``pq.read_table``, which
    gives the missing columns as nulls."""
    table = pq.ParquetFile(path, read_dictionary=ADDRESS_COLUMNS).read()
    if not table.schema.equals(READ_SCHEMA):  # (metadata not compared)
        return pq.read_table(path, schema=READ_SCHEMA)
    return table.replace_schema_metadata(None)


def _check_order(ts: np.ndarray, frames: pa.ChunkedArray, diag: Diagnostics) -> bool:
    """ebutool.analysis.episodes.check_order's warnings for one part; True when in order."""
    if len(ts) < 2 or bool(np.all(ts[1:] >= ts[:-1])):
        return True
    frame = frames.to_pylist()
    last_ts, last_frame = None, None
    for i, t in enumerate(ts.tolist()):
        if last_ts is not None and t < last_ts:
            diag.warn(
                "timestamp_out_of_order",
                f"frame {frame[i]}: timestamp {(last_ts - t) / 1e6:.3f} ms earlier than "
                f"frame {last_frame}",
                frame[i],
            )
        else:
            last_ts, last_frame = t, frame[i]
    return False


def ordered_table(
    store: str, diag: Diagnostics, stats: StreamStats | None = None
) -> tuple[pa.Table, list[str]]:
    """(every record of ``store`` in run order with a PART column, the parts' labels)."""
    parts = store_parts(store)
    several = len(parts) > 1
    tables, times, in_order = [], [], True
    for i, part in enumerate(parts):
        if stats is not None:
            add_part_stats(stats, part.meta)
        diag.merge(part_diagnostics(part.meta, part.label if several else ""))
        view = diag.for_source(part.label) if several else diag
        t = read_part(part.file)
        ts = numpy_of(t.column("ts_ns"))
        in_order &= _check_order(ts, t.column("frame"), view)
        tables.append(t.append_column(PART, arrow_of(np.full(len(t), i, dtype=np.int32))))
        times.append(ts)
    labels = [p.label for p in parts]
    if not tables:
        empty = READ_SCHEMA.empty_table()
        return empty.append_column(PART, arrow_of(np.empty(0, np.int32))), labels
    table = pa.concat_tables(tables)
    if in_order:
        ts = np.concatenate(times)
        if bool(np.all(ts[1:] >= ts[:-1])):
            # the parts one after another in time (a rotated capture): already in run
            # order, which the stable sort would keep; not copied by a take (every
            # column of every record: ~0.04 s of the pre-pass, most of it page faults)
            return table, labels
        order = np.argsort(ts, kind="stable")
    else:  # what heapq.merge makes of parts that are not in time order
        starts = np.cumsum([0] + [len(t) for t in times[:-1]])
        streams = [
            zip(t.tolist(), range(s, s + len(t)), strict=True)
            for t, s in zip(times, starts.tolist(), strict=True)
        ]
        order = np.fromiter(
            (i for _, i in heapq.merge(*streams, key=itemgetter(0))), dtype=np.int64
        )
    return table.take(arrow_of(order)), labels
