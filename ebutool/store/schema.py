"""The record store's Parquet schema: Records (and HandoverEvents) <-> Arrow record batches.

One row per item of the message stream, in the input's order.  Columns are the fields of
:class:`ebutool.records.record.Record` except the decoded message: ``mh_wire`` (the
Mobility Header octets as captured) is kept and decoded again on reading
(:func:`ebutool.wire.mh.codec.decode_mh`, the decoder the capture readers use), so the
message, its options and the MACs computed on it are those of the capture.

A packet decrypted from ESP (``extract --esp-sa``) keeps its ESP facts in ``esp_spi``,
``esp_seq`` and ``esp_algorithm`` (null for a packet sent in clear; a part written before
these columns existed reads as all clear).

A HandoverEvent of a JSON trace is a row with ``msg`` = "handover": its ``mn`` in
``hoa``, ``coa`` in ``src``, ``prev_coa`` in ``rh2`` (``dst`` empty).

The file-level facts (path, content hash, first/last time, frame counts, diagnostics)
are JSON under the key :data:`META_KEY` of the Parquet key-value metadata
(:mod:`ebutool.store.writer`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from itertools import repeat, starmap
from typing import Any

import pyarrow as pa

from ebutool.records.record import HandoverEvent, Record
from ebutool.store.arrow_numpy import filled, numpy_of
from ebutool.store.layout import SCHEMA_VERSION
from ebutool.wire.mh.codec import decode_mh

__all__ = [
    "SCHEMA_VERSION",
    "META_KEY",
    "RECORD_SCHEMA",
    "PART",
    "to_batch",
    "from_batch",
    "from_table",
]

META_KEY = b"ebutool"  # Parquet key-value metadata: the part's facts as JSON
HANDOVER = "handover"  # msg of a HandoverEvent row
PART = "part"  # (in memory only) the index of a row's input, ebutool.store.grouped

STR = pa.string()
RECORD_SCHEMA = pa.schema(
    [
        ("frame", pa.int64()),
        ("ts_ns", pa.int64()),
        ("src", STR),
        ("dst", STR),
        ("msg", pa.dictionary(pa.int8(), STR)),
        ("hoa", STR),
        ("rh2", STR),
        ("tunnel_src", STR),
        ("tunnel_dst", STR),
        ("proto", pa.int16()),
        ("ip_len", pa.int32()),
        ("mh_wire", pa.binary()),
        ("checksum_ok", pa.bool_()),
        ("deregistration", pa.bool_()),
        ("rfc4866", pa.bool_()),
        # ESP facts of a packet decrypted with a given SA (``extract --esp-sa``), else null
        ("esp_spi", pa.int64()),
        ("esp_seq", pa.uint64()),
        ("esp_algorithm", pa.dictionary(pa.int8(), STR)),
    ]
)
NAMES = RECORD_SCHEMA.names
_MSG, _WIRE = NAMES.index("msg"), NAMES.index("mh_wire")
# Record's fields in order: the columns by name, and "mh" (decoded from mh_wire), "source"
RECORD_FIELDS = [f.name for f in fields(Record)]
ESP_COLUMNS = 3  # the last columns; parts written before them lack them (read as null)


def _row(item: Record | HandoverEvent) -> tuple:
    if isinstance(item, HandoverEvent):
        return (item.frame, item.ts_ns, item.coa, "", HANDOVER, item.mn, item.prev_coa)
    return (
        item.frame,
        item.ts_ns,
        item.src,
        item.dst,
        item.msg,
        item.hoa,
        item.rh2,
        item.tunnel_src,
        item.tunnel_dst,
        item.proto,
        item.ip_len,
        item.mh_wire,
        item.checksum_ok,
        item.deregistration,
        item.rfc4866,
        item.esp_spi,
        item.esp_seq,
        item.esp_algorithm,
    )


def to_batch(items: Iterable[Record | HandoverEvent]) -> pa.RecordBatch:
    """The rows of ``items`` as one record batch of :data:`RECORD_SCHEMA`."""
    cols: list[list[Any]] = [[] for _ in NAMES]
    width = len(NAMES)
    for item in items:
        row = _row(item)
        for i in range(width):
            cols[i].append(row[i] if i < len(row) else None)
    # A handover row has no data-packet fields: the flags are False, not unknown.
    for name in ("deregistration", "rfc4866"):
        col = cols[NAMES.index(name)]
        cols[NAMES.index(name)] = [bool(v) for v in col]
    return pa.record_batch(
        [pa.array(c, type=f.type) for c, f in zip(cols, RECORD_SCHEMA, strict=True)],
        schema=RECORD_SCHEMA,
    )


def from_batch(batch: pa.RecordBatch, source: str = "") -> Iterator[Record | HandoverEvent]:
    """The items of a record batch, each with ``source`` (the input's label)."""
    cols = [_pylist(batch.column(i)) for i in range(batch.num_columns)]
    if batch.num_columns == len(NAMES) - ESP_COLUMNS:  # a part written before the ESP facts
        cols += [[None] * batch.num_rows] * ESP_COLUMNS
    return _items(cols, repeat(source))


def _pylist(col: pa.Array) -> list:
    """``col.to_pylist()``, the same values, about 5x faster on a store's columns (the
    reading was a quarter of ``analyze STORE/``): integer and boolean columns without
    nulls through NumPy, text through a dictionary, so that each distinct address is one
    str object (made once, its hash computed once for the analysis' dict lookups)."""
    kind = col.type
    if pa.types.is_dictionary(kind):
        values = col.dictionary.to_pylist()
        values.append(None)  # (index -1 after fill_null: a null cell)
        return list(map(values.__getitem__, filled(col.indices, len(values) - 1).tolist()))
    if col.null_count == 0 and (pa.types.is_integer(kind) or pa.types.is_boolean(kind)):
        return numpy_of(col).tolist()
    if pa.types.is_string(kind):
        return _pylist(col.dictionary_encode())
    return col.to_pylist()


def from_table(table: pa.Table, sources: Sequence[str]) -> Iterator[Record | HandoverEvent]:
    """The items of a table of :data:`RECORD_SCHEMA` columns and a :data:`PART` column
    (the index in ``sources`` of the input's label of each row); the ESP columns of
    parts written before them are read as null."""
    have = set(table.column_names)
    cols = [
        _pylist(table.column(name).combine_chunks()) if name in have else [None] * table.num_rows
        for name in NAMES
    ]
    labels = list(sources)
    return _items(cols, map(labels.__getitem__, _pylist(table.column(PART).combine_chunks())))


def _items(cols: list[list], sources: Iterable[str]) -> Iterator[Record | HandoverEvent]:
    if HANDOVER not in cols[_MSG]:  # (a scan in C: rows of JSON traces only)
        # Records only (every store of captures): the columns zipped in Record's field
        # order and each row made by starmap, no Python code per row but the decoding
        # (bin 0 of the benchmark store: 57 bytecodes a row fewer, ~5% of its analysis).
        by_name = dict(zip(NAMES, cols, strict=True))
        by_name["mh"] = _messages(cols[_WIRE])
        by_name["source"] = sources
        return starmap(Record, zip(*[by_name[name] for name in RECORD_FIELDS], strict=False))
    return _mixed_items(cols, sources)


def _messages(wires: Iterable[bytes | None]) -> Iterator:
    """The decoded message of each row (None for a data packet)."""
    # The capture reader already diagnosed this message (its warnings are in the
    # part's metadata): the problems of decoding it again are the same ones, not new.
    for wire in wires:
        yield None if wire is None else decode_mh(wire, [])


def _mixed_items(cols: list[list], sources: Iterable[str]) -> Iterator[Record | HandoverEvent]:
    """:func:`_items` of rows that include HandoverEvents."""
    # (one tuple per row, unpacked in the loop)
    for (
        frame, ts, src, dst, msg, hoa, rh2, tsrc, tdst, proto, ip_len, wire, ok, dereg, rfc,
        spi, seq, algorithm, source,
    ) in zip(*cols, sources, strict=False):  # fmt: skip
        if msg == HANDOVER:
            yield HandoverEvent(ts, hoa, src, rh2, frame, source)
            continue
        mh = None if wire is None else decode_mh(wire, [])
        yield Record(
            frame, ts, src, dst, msg, hoa, rh2, tsrc, tdst, proto, ip_len, mh, wire, ok,
            dereg, rfc, source, spi, seq, algorithm,
        )  # fmt: skip
