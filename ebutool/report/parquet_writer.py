"""Parquet written by row groups: pieces of one table, one row group each (issue 12).

A Parquet file's schema is written before its first row group, but the whole table's
schema depends on every row: an object column that is empty (``None``) in the first
piece is typed by the pieces that hold values (``null`` only when none does), and
pandas' metadata names its type likewise (``empty`` only when every piece is empty).
So :class:`ParquetPieces` keeps each piece in a temporary file (``$TMPDIR``, removed at
the end, as ebutool.report.spilled does for the padded text formats) while it learns
the schema, then writes the pieces one by one as row groups: memory holds one piece,
not the table.  The result reads back (``pyarrow.parquet.read_table``) equal, data and
metadata, to the whole table written at once (:func:`parquet_bytes`).  When the pieces
disagree on what the whole table would be (a column int in one piece and float in
another, two different non-empty types), they are put together and written whole:
exact, not bounded.

Exact times (ebutool.core.exact_time): a table's ``exact_ns`` map (float seconds -> ns)
holds one entry per time value, so it is not written into the metadata (where a
streamed file would have to hold it whole).  Instead each float epoch column of which
at least one value has its exact ns gets an int64 companion column ``<column>_ns``
after the table's columns: the integer nanoseconds since the epoch the row's float was
made from, null where they are not known (or where two different ns share one float
in the map).  The other attrs (``time_decimals``, ``vantage``, ...) stay in the
``PANDAS_ATTRS`` metadata and pandas' own, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from ebutool.core.errors import UsageError
from ebutool.core.exact_time import EXACT_NS
from ebutool.report.cells import hex_bytes
from ebutool.report.output_format import is_epoch_column
from ebutool.report.piece_spill import PieceSpill

NS_SUFFIX = "_ns"  # the exact-time companion of an epoch column: t_handover -> t_handover_ns
ATTRS_KEY = b"PANDAS_ATTRS"  # pandas' to_parquet keeps a table's attrs under this key
EMPTY = "empty"  # pandas' type of an object column holding no value


def _pa():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError("--format parquet needs pyarrow: pip install 'ebutool[parquet]'") from None
    return pa, pq


def exact_columns(df: pd.DataFrame) -> dict[str, pd.Series]:
    """{companion name: int64 ns per row} of ``df``'s float epoch columns (module doc);
    a column none of whose values has its exact ns gives an all-null companion."""
    exact: Mapping[float, int] = df.attrs.get(EXACT_NS) or {}
    out = {}
    for c in df.columns:
        name = f"{c}{NS_SUFFIX}"
        if not is_epoch_column(c) or not pd.api.types.is_float_dtype(df[c]) or name in df:
            continue  # (a column of that name already: the table's own, kept as it is)
        ns = [_ns(exact, v) for v in df[c].tolist()]
        out[name] = pd.Series(ns, index=df.index, dtype="Int64")
    return out


def _ns(exact: Mapping[float, int], v: float) -> int | None:
    ns = exact.get(v) if v == v else None
    return ns if ns is not None and ns >= 0 else None


def plain_frame(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str], set[str]]:
    """``df`` as Parquet holds it: bytes as hex text, the exact-time companions after
    its columns (all of them: which are kept is known at the end), no attrs; with the
    companions' names and those holding at least one value."""
    out = hex_bytes(df)
    companions = exact_columns(df)
    for name, ns in companions.items():
        out[name] = ns
    out.attrs = {}
    return out, list(companions), {c for c, ns in companions.items() if ns.notna().any()}


def written_attrs(attrs: Mapping) -> dict[str, Any]:
    """The attrs that go into the metadata: all but the exact-time map (module doc), by
    name (a streamed table's attrs are gathered in another order than a whole one's)."""
    return {str(k): attrs[k] for k in sorted(attrs, key=str) if k != EXACT_NS}


class ParquetPieces:
    """Pieces of one table in Parquet: :meth:`piece` each, then the octets from
    :meth:`chunks` (module doc)."""

    def __init__(self) -> None:
        self._spill = PieceSpill("ebutool-parquet-")
        self._empty: pd.DataFrame | None = None  # the first piece, empty (its form)
        self._fields: list | None = None  # the whole table's arrow fields so far
        self._meta: dict | None = None  # pandas' metadata of the first piece
        self._types: list[str] = []  # each column's pandas type so far
        self._companions: list[str] = []  # the exact-time companion columns
        self._known: set[str] = set()  # those with at least one ns
        self.attrs: dict[str, Any] = {}  # the last piece's (its time resolution is the finest)
        self.whole = False  # True: written whole (module doc)

    def piece(self, df: pd.DataFrame) -> None:
        """Keep the next piece (nothing is written until :meth:`chunks`)."""
        self.attrs = written_attrs(df.attrs)
        frame, self._companions, known = plain_frame(df)
        if self._empty is None:
            self._empty = frame.iloc[:0].copy()
        if df.empty:
            return
        self._known |= known
        if not self.whole:
            self._learn(frame)
        self._spill.keep(frame)

    def _learn(self, frame: pd.DataFrame) -> None:
        pa, _ = _pa()
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
        except (pa.ArrowException, TypeError, ValueError):
            self.whole = True  # (the whole table's conversion says what is wrong)
            return
        meta = json.loads(table.schema.metadata[b"pandas"])
        types = [c["pandas_type"] for c in meta["columns"]]
        if self._fields is None:
            self._fields, self._meta, self._types = list(table.schema), meta, types
            return
        if _rest(meta) != _rest(self._meta):  # (a dtype the concatenation would change)
            self.whole = True
            return
        fields = []
        for i, (old, new) in enumerate(zip(self._fields, table.schema, strict=True)):
            field = _unified(old, new, pa)
            kind = _unified_type(self._types[i], types[i])
            if field is None or kind is None:
                self.whole = True
                return
            fields.append(field)
            self._types[i] = kind
        self._fields = fields

    def chunks(
        self, provenance: Mapping[str, Any] | None = None, attrs: Mapping[str, Any] | None = None
    ) -> Iterator[bytes]:
        """The octets of the whole table, a row group (one piece) at a time; the spill
        is removed after.  ``provenance`` goes into the key-value metadata; ``attrs``
        are the whole table's that its pieces do not carry (analyze's vantage decisions)."""
        self.attrs = written_attrs({**self.attrs, **(attrs or {})})
        try:
            if not len(self._spill) or self.whole:
                yield self._whole(provenance)
            else:
                yield from self._groups(provenance)
        finally:
            self._spill.cleanup()

    def _gone(self) -> set[str]:
        """The companions that no piece has a value in (not written)."""
        return set(self._companions) - self._known

    def _whole(self, provenance: Mapping[str, Any] | None) -> bytes:
        frame = self._spill.whole(self._empty)
        return write_frame(frame.drop(columns=list(self._gone())), self.attrs, provenance)

    def _groups(self, provenance: Mapping[str, Any] | None) -> Iterator[bytes]:
        pa, pq = _pa()
        assert self._fields is not None and self._meta is not None
        gone = self._gone()
        keep = [i for i, f in enumerate(self._fields) if f.name not in gone]
        meta = dict(self._meta)
        meta["columns"] = [dict(meta["columns"][i], pandas_type=self._types[i]) for i in keep]
        meta["attributes"] = self.attrs
        schema = pa.schema([self._fields[i] for i in keep]).with_metadata(
            file_metadata(json.dumps(meta).encode("utf-8"), self.attrs, provenance)
        )
        sink = _Drain()
        with pq.ParquetWriter(sink, schema, compression="snappy") as writer:
            for frame in self._spill.read():
                table = pa.Table.from_pandas(
                    frame.drop(columns=list(gone)), schema=schema, preserve_index=False
                )
                writer.write_table(table)
                yield sink.take()
        yield sink.take()


def _rest(meta: dict | None) -> list:
    """pandas' metadata of each column less its inferred type (numpy dtype, categories)."""
    return [{k: v for k, v in c.items() if k != "pandas_type"} for c in (meta or {})["columns"]]


def _unified(old, new, pa):
    """The field of a column typed ``old`` so far and ``new`` in the next piece (None:
    the whole table's type cannot be told from the pieces)."""
    if old.type == new.type:
        return old if old.nullable or not new.nullable else new
    if pa.types.is_null(old.type):
        return new
    if pa.types.is_null(new.type):
        return old
    return None


def _unified_type(old: str, new: str) -> str | None:
    if old == new or new == EMPTY:
        return old
    return new if old == EMPTY else None


def file_metadata(
    pandas_meta: bytes, attrs: Mapping[str, Any], provenance: Mapping[str, Any] | None
) -> dict[bytes, bytes]:
    """The key-value metadata of an ebutool Parquet file: pandas' own, the attrs (as
    pandas' to_parquet keeps them) and the provenance (ebutool.report.provenance)."""
    from ebutool.report.provenance import PARQUET_KEY, provenance_json

    meta = {b"pandas": pandas_meta}
    if attrs:
        meta[ATTRS_KEY] = json.dumps(attrs).encode("utf-8")
    if provenance is not None:
        meta[PARQUET_KEY.encode()] = provenance_json(provenance)
    return meta


def write_frame(
    frame: pd.DataFrame, attrs: Mapping[str, Any], provenance: Mapping[str, Any] | None
) -> bytes:
    """The Parquet octets of one plain frame (:func:`plain_frame`) written at once."""
    import io

    pa, pq = _pa()
    frame = frame.copy(deep=False)
    frame.attrs = dict(attrs)  # type: ignore[assignment]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = file_metadata(table.schema.metadata[b"pandas"], attrs, provenance)
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), buf, compression="snappy")
    return buf.getvalue()


def parquet_bytes(df: pd.DataFrame, provenance: Mapping[str, Any] | None = None) -> bytes:
    """``df`` as Parquet, written at once (one table; module doc)."""
    frame, companions, known = plain_frame(df)
    frame = frame.drop(columns=[c for c in companions if c not in known])
    return write_frame(frame, written_attrs(df.attrs), provenance)


class _Drain:
    """A write-only file that hands its octets on (:meth:`take`) instead of keeping them."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0
        self.closed = False

    def write(self, data) -> int:
        data = bytes(data)
        self._parts.append(data)
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out
