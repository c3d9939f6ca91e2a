"""Tables whose text depends on every row, written in pieces through a spill on disk.

The terminal table, Markdown and LaTeX pad every column to its widest cell, and a Zeek
log's ``#types`` line depends on every value of a column: their text cannot be written
while the first rows are made.  :class:`SpilledRenderer` keeps each piece in a
temporary file (``$TMPDIR``, removed at the end) and what the whole table's text
depends on (each column's widest cell; each column's Zeek type), then renders the
pieces one by one with those: memory holds one piece, not the table (issue 12).

The octets are those of :func:`ebutool.report.render_table` of the concatenated pieces.
For the padded formats each piece is rendered with one more row holding every column's
widest cell (so tabulate pads it exactly as the whole table), and that row's line, and
the header or footer lines that belong to the first or last piece only, are cut.  When
what the whole table depends on cannot be told from the pieces (a column numeric in
one piece and text in another, pieces whose Zeek types differ, a cell holding a line
break or a terminal escape code), the pieces are put together and rendered whole, as
before: exact, not bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from ebutool.report.formats import PIPE, alignment, render_table, tabulate_rows, text_rows
from ebutool.report.output_format import SPILLED_FORMATS, OutputFormat, RenderOptions
from ebutool.report.piece_spill import PieceSpill
from ebutool.report.zeek import zeek_header, zeek_lines, zeek_types

if TYPE_CHECKING:
    import pandas as pd

# format -> (tabulate's table format, explicit alignment, header lines, footer lines):
# the lines of a rendering that come once per table, not once per piece
PADDED = {
    OutputFormat.table: ("simple", False, 2, 0),
    OutputFormat.markdown: (PIPE, True, 2, 0),
    OutputFormat.latex: ("latex_booktabs", True, 4, 2),
}


class SpilledRenderer:
    """Pieces of one table in a SPILLED_FORMATS format: :meth:`piece` each, then the
    octets from :meth:`chunks` (module doc)."""

    def __init__(self, fmt: OutputFormat, decimals: int = 3, *, name: str = "ebutool") -> None:
        self.fmt = OutputFormat(fmt)
        if self.fmt not in SPILLED_FORMATS:
            raise ValueError(f"{self.fmt.value} is not rendered through a spill")
        self.opts = RenderOptions(decimals=decimals, name=name)
        self._spill = PieceSpill("ebutool-table-")
        self._empty: pd.DataFrame | None = None  # the first piece's form (an empty table)
        self._widest: list[str] | None = None
        self._align: list[str] | None = None
        self._types: list[str] | None = None
        self.whole = False  # True: rendered whole (module doc)
        self._markdown = self.fmt is OutputFormat.markdown  # cells escaped (formats.text_rows)

    def piece(self, df: pd.DataFrame) -> None:
        """Keep the next piece (nothing is written until :meth:`chunks`)."""
        if self._empty is None:
            self._empty = df.iloc[:0].copy()  # (a slice would keep the piece alive)
        if df.empty:
            return
        if not self.whole:
            self._learn(df)
        self._spill.keep(df)

    def _learn(self, df: pd.DataFrame) -> None:
        if self.fmt is OutputFormat.zeek:
            types = zeek_types(df)[2]
            self.whole = self._types is not None and types != self._types
            self._types = types
            return
        align = alignment(df)
        columns = list(zip(*text_rows(df, self.opts, self._markdown), strict=True))
        if self._align is not None and align != self._align:
            self.whole = True
            return
        joined = ["".join(col) for col in columns]
        if any(c in j for j in joined for c in "\n\r\x1b"):  # (multi-line, ANSI codes)
            self.whole = True
            return
        self._align = align
        before = self._widest or [""] * len(df.columns)
        self._widest = [_widest([w, *col]) for w, col in zip(before, columns, strict=True)]

    def chunks(self) -> Iterator[bytes]:
        """The octets of the whole table, piece by piece; the spill is removed after."""
        try:
            if not len(self._spill) or self.whole:
                yield self._whole().encode("utf-8")
            elif self.fmt is OutputFormat.zeek:
                yield from self._zeek()
            else:
                yield from self._padded()
        finally:
            self._spill.cleanup()

    def _whole(self) -> str:
        df = self._spill.whole(self._empty)
        return render_table(df, self.fmt, self.opts.decimals, name=self.opts.name)

    def _zeek(self) -> Iterator[bytes]:
        for i, df in enumerate(self._spill.read()):
            zdf, names, types = zeek_types(df)
            head = zeek_header(self.opts.name, names, types) if i == 0 else []
            lines = [*head, *zeek_lines(zdf, types, self.opts.time_decimals)]
            yield ("\n".join(lines) + "\n").encode("utf-8")

    def _padded(self) -> Iterator[bytes]:
        tablefmt, explicit, head, foot = PADDED[self.fmt]
        widest = self._widest or []
        last = len(self._spill) - 1
        for i, df in enumerate(self._spill.read()):
            rows = [*text_rows(df, self.opts, self._markdown), widest]
            text = tabulate_rows(rows, df, tablefmt, self._align if explicit else None)
            lines = text.split("\n")  # (tabulate's text has no final newline)
            body = lines[head : len(lines) - foot - 1]  # less the widest cells' row
            tail = lines[len(lines) - foot :] if i == last else []
            out = (lines[:head] if i == 0 else []) + body + tail
            if out:
                yield ("\n".join(out) + "\n").encode("utf-8")


def _widest(cells: list[str]) -> str:
    """The widest of ``cells`` as tabulate measures them: stripped of surrounding white
    space, a wide character counting twice (by length when every cell is printable
    ASCII, the common case)."""
    stripped = list(map(str.strip, cells))
    text = "".join(stripped)
    if text.isascii() and text.isprintable():
        return max(stripped, key=len)
    from tabulate import _visible_width

    return max(stripped, key=_visible_width)
