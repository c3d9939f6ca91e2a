"""Tables written as they are made: consecutive pieces of one table rendered one by one.

    for data in render_pieces(tables, OutputFormat.csv):   # tables: an iterator of DataFrames
        out.write(data)

For the formats whose rendering is a concatenation of per-row text (csv, json, ndjson;
:data:`STREAMED_FORMATS`) the octets are exactly those of
:func:`ebutool.report.render_bytes` of the whole table (the pieces concatenated), so a
command can write a table of any size while holding one piece: csv keeps the first
piece's header only, json opens the list once and joins the pieces' objects with the
separator ``json.dumps(indent=1)`` puts between list items.  The pieces must have the
same columns and dtypes (each column's cells formatted as in the whole table).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pandas as pd

from ebutool.report.formats import render_table
from ebutool.report.output_format import OutputFormat

STREAMED_FORMATS = (OutputFormat.csv, OutputFormat.json, OutputFormat.ndjson)


def render_pieces(
    tables: Iterable[pd.DataFrame], fmt: OutputFormat, decimals: int = 3, *, name: str = "ebutool"
) -> Iterator[bytes]:
    """The octets of the concatenation of ``tables`` in ``fmt`` (a STREAMED_FORMATS one),
    piece by piece; at least the first table is needed (it gives an empty table's form)."""
    fmt = OutputFormat(fmt)
    if fmt not in STREAMED_FORMATS:
        raise ValueError(f"{fmt.value} is not rendered piece by piece")
    first, rows = True, False
    for df in tables:
        if not first and df.empty:
            continue
        text = render_table(df, fmt, decimals, name=name)
        if fmt is OutputFormat.csv and not first:
            text = text.split("\n", 1)[1]  # the header once
        elif fmt is OutputFormat.json:
            if df.empty:  # the first piece, empty: "[]" unless rows follow
                first = False
                continue
            inner = text[2:-3]  # json.dumps(list, indent=1) + "\n": "[\n" ... "\n]\n"
            text = ("[\n" if not rows else ",\n") + inner
            rows = True
        first = False
        yield text.encode("utf-8")
    if fmt is OutputFormat.json:
        yield b"\n]\n" if rows else b"[]\n"
