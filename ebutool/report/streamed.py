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
from typing import TYPE_CHECKING

from ebutool.report.formats import render_table
from ebutool.report.output_format import STREAMED_FORMATS, OutputFormat

if TYPE_CHECKING:
    import pandas as pd


def render_pieces(
    tables: Iterable[pd.DataFrame], fmt: OutputFormat, decimals: int = 3, *, name: str = "ebutool"
) -> Iterator[bytes]:
    """The octets of the concatenation of ``tables`` in ``fmt`` (a STREAMED_FORMATS one),
    piece by piece; at least the first table is needed (it gives an empty table's form)."""
    r = PieceRenderer(fmt, decimals, name=name)
    for df in tables:
        data = r.piece(df)
        if data is not None:
            yield data
    end = r.end()
    if end:
        yield end


class PieceRenderer:
    """:func:`render_pieces` fed one piece at a time (several tables written side by
    side, as replay's exposure, divergences and decisions)."""

    def __init__(self, fmt: OutputFormat, decimals: int = 3, *, name: str = "ebutool") -> None:
        self.fmt = OutputFormat(fmt)
        if self.fmt not in STREAMED_FORMATS:
            raise ValueError(f"{self.fmt.value} is not rendered piece by piece")
        self.decimals, self.name = decimals, name
        self.first, self.rows = True, False

    def piece(self, df: pd.DataFrame) -> bytes | None:
        """The octets of the next piece (None: nothing to write for it)."""
        fmt = self.fmt
        if not self.first and df.empty:
            return None
        text = render_table(df, fmt, self.decimals, name=self.name)
        if fmt is OutputFormat.csv and not self.first:
            text = text.split("\n", 1)[1]  # the header once
        elif fmt is OutputFormat.json:
            if df.empty:  # the first piece, empty: "[]" unless rows follow
                self.first = False
                return None
            inner = text[2:-3]  # json.dumps(list, indent=1) + "\n": "[\n" ... "\n]\n"
            text = ("[\n" if not self.rows else ",\n") + inner
            self.rows = True
        self.first = False
        return text.encode("utf-8")

    def end(self) -> bytes:
        """The octets that close the table (json's bracket)."""
        if self.fmt is OutputFormat.json:
            return b"\n]\n" if self.rows else b"[]\n"
        return b""

    def chunks(self) -> Iterator[bytes]:
        """What is left to write after the last piece (as SpilledRenderer.chunks)."""
        end = self.end()
        if end:
            yield end
