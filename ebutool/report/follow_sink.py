"""Rows written as they come (``analyze --follow``): one header, then each row flushed.

Only the formats that are a sequence of lines can grow row by row: ``csv`` (one
header line), ``ndjson`` (no header) and ``zeek`` (its ``#`` header lines).  Each
batch of rows is rendered by the same renderer as a whole table
(:func:`ebutool.report.formats.render_bytes`), so a followed row reads exactly like the
batch table's row; only the first batch keeps the header.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

from ebutool.core.errors import UsageError
from ebutool.report.output_format import OutputFormat

if TYPE_CHECKING:
    import pandas as pd

FOLLOW_FORMATS = (OutputFormat.csv, OutputFormat.ndjson, OutputFormat.zeek)


def check_follow_format(fmt: OutputFormat) -> None:
    """A usage error for a format that cannot be written row by row."""
    if OutputFormat(fmt) not in FOLLOW_FORMATS:
        names = ", ".join(f.value for f in FOLLOW_FORMATS)
        raise UsageError(
            f"--follow writes rows as episodes close: --format {OutputFormat(fmt).value} "
            f"cannot grow row by row; use one of {names}"
        )


def _body(data: bytes, fmt: OutputFormat) -> bytes:
    """The rows of a rendered table without its header."""
    if fmt is OutputFormat.csv:
        return data.split(b"\n", 1)[1] if b"\n" in data else b""
    if fmt is OutputFormat.zeek:
        lines = data.splitlines(keepends=True)
        return b"".join(line for line in lines if not line.startswith(b"#"))
    return data


class FollowSink:
    """Writes tables of rows to ``stream`` as they come, flushed after each; ``columns``:
    the --columns names (None: all), ``name``: the table's name (a Zeek log's #path)."""

    def __init__(
        self,
        stream: BinaryIO,
        fmt: OutputFormat,
        columns: list[str] | None = None,
        name: str = "ebutool",
    ) -> None:
        check_follow_format(fmt)
        self.stream = stream
        self.fmt = OutputFormat(fmt)
        self.columns = columns
        self.name = name
        self.rows = 0
        self._header = False

    def write(self, df: pd.DataFrame) -> None:
        """Write ``df``'s rows (the header first, once; an empty ``df`` writes just the
        header if none was written yet)."""
        from ebutool.report.formats import render_bytes
        from ebutool.report.select import select_columns

        df = select_columns(df, self.columns)
        data = render_bytes(df, self.fmt, name=self.name)
        if self._header:
            data = _body(data, self.fmt)
        self._header = True
        self.rows += len(df)
        if data:
            self.stream.write(data)
        self.stream.flush()
