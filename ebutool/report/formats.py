"""Tabular output: one function per format, chosen by an enum (pip-audit style).

Conventions (docs/outputs.md "Numbers and missing values"): CSV has one header row, empty
cells for missing values and epoch times with fixed decimals at the inputs' resolution
(6, or 9 for nanosecond inputs: ebutool.core.exact_time); JSON is a list of objects and
NDJSON one object a line, with ``null`` for missing values, times and ``*_ms`` durations
rounded to that resolution (a nanosecond time as its exact 9-decimal text); Zeek is
Zeek's ASCII log (:mod:`ebutool.report.zeek`); Markdown is a pipe table with fixed
decimals that pastes into a paper; LaTeX is a booktabs tabular; ``table`` is for
terminals.  This module only renders; the CLI
(``ebutool.cli.options.write_table``) decides where output goes.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ebutool.core.errors import UsageError
from ebutool.core.exact_time import ms_decimals, ns_formatter, resolution
from ebutool.report.cells import P_VALUE_COLUMNS, cell, hex_bytes, p_value_text
from ebutool.report.csv_text import NA_TEXT, column_text, csv_text
from ebutool.report.output_format import (
    EPOCH_DECIMALS,
    TEXT_FORMATS,
    OutputFormat,
    RenderOptions,
    is_epoch_column,
)
from ebutool.report.zeek import render_zeek

__all__ = [
    "RENDERERS",
    "TEXT_FORMATS",
    "OutputFormat",
    "RenderOptions",
    "is_epoch_column",
    "render_bytes",
    "render_table",
]


def _json_places(name: object, attrs: Mapping) -> int | None:
    """Decimal places a JSON number of this column is rounded to: the inputs' resolution
    (``*_s`` seconds 6 or 9, ``*_ms`` 3 or 6: ebutool.core.exact_time).  An epoch time
    is rounded to the microsecond, the most a float of it holds; a nanosecond table's
    is written from its exact ns instead (:class:`RawNumber`)."""
    name = str(name)
    if is_epoch_column(name):
        return EPOCH_DECIMALS
    if name.endswith("_s"):
        return resolution(attrs)
    if name.endswith("_ms"):
        return ms_decimals(attrs)
    return None


class RawNumber(str):
    """A JSON number written as this text (an epoch time's 9 decimals from its exact ns,
    which no float holds: 2^-22 s apart near today's epoch)."""


def _records(df: pd.DataFrame) -> list[dict]:
    places = [_json_places(c, df.attrs) for c in df.columns]
    nine = {
        i: ns_formatter([cell(v) for v in df[c]], df.attrs)
        for i, c in enumerate(df.columns)
        if is_epoch_column(c)
    }
    out = []
    for row in df.itertuples(index=False):
        rec = {}
        for i, (name, p, v) in enumerate(zip(df.columns, places, row, strict=True)):
            v = cell(v)
            if isinstance(v, float) and math.isfinite(v):
                text = nine.get(i)
                v = RawNumber(text(v)) if text is not None else v if p is None else round(v, p)
            rec[str(name)] = v
        out.append(rec)
    return out


def _json_value(v: object) -> str:
    return str(v) if isinstance(v, RawNumber) else json.dumps(v)


def _json_text(records: list[dict], indent: bool) -> str:
    """``records`` as ``json.dumps(records, indent=1)`` (``indent``) or one compact object
    a line writes them, a :class:`RawNumber` as its text (cells are scalars: cell())."""
    if not any(isinstance(v, RawNumber) for rec in records for v in rec.values()):
        if indent:
            return json.dumps(records, indent=1) + "\n"
        return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    if indent:
        objs = [
            " {\n"
            + ",\n".join(f"  {json.dumps(k)}: {_json_value(v)}" for k, v in r.items())
            + "\n }"
            if r
            else " {}"
            for r in records
        ]
        return "[\n" + ",\n".join(objs) + "\n]\n"
    return "".join(
        "{" + ",".join(f"{json.dumps(k)}:{_json_value(v)}" for k, v in r.items()) + "}\n"
        for r in records
    )


def _fmt_value(v: object, decimals: int, p_value: bool = False) -> str:
    """One cell in fixed decimals; ``p_value``: a p-value column's (never "0.000")."""
    v = cell(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return p_value_text(v, decimals) if p_value else f"{v:.{decimals}f}"
    return str(v)


def markdown_cell(text: str) -> str:
    """``text`` as a cell of a markdown pipe table: ``\\`` and ``|`` escaped with a
    backslash, so a ``|`` (a file named ``a|b.pcap``) does not end the cell and shift
    the row's later columns, and GFM shows the text as it was."""
    return text.replace("\\", "\\\\").replace("|", "\\|")


def text_rows(df: pd.DataFrame, opts: RenderOptions, markdown: bool = False) -> list[list[str]]:
    """The cells of ``df`` as the fixed-decimal formats print them; ``markdown``: as
    cells of a pipe table (:func:`markdown_cell`)."""
    ms = max(opts.decimals, ms_decimals(df.attrs))  # a ns input's durations: 6 decimals
    places = [
        opts.time_decimals
        if is_epoch_column(c)
        else ms
        if str(c).endswith("_ms")
        else opts.decimals
        for c in df.columns
    ]
    epoch = {
        i: _epoch_format(df[c], df.attrs, opts.time_decimals)
        for i, c in enumerate(df.columns)
        if is_epoch_column(c)
    }
    pvalue = [c in P_VALUE_COLUMNS for c in df.columns]
    rows = [
        [
            epoch[i](cell(v))
            if i in epoch and isinstance(cell(v), float)
            else _fmt_value(v, p, pvalue[i])
            for i, (p, v) in enumerate(zip(places, row, strict=False))
        ]
        for row in df.itertuples(index=False)
    ]
    return [[markdown_cell(c) for c in row] for row in rows] if markdown else rows


def _epoch_format(values: pd.Series, attrs: dict, decimals: int):
    """How one epoch column's floats are printed (ebutool.core.exact_time)."""
    from ebutool.core.exact_time import epoch_formatter

    return epoch_formatter([cell(v) for v in values], attrs, decimals)


def _render_csv(df: pd.DataFrame, opts: RenderOptions) -> str:
    if len(df.columns):
        texts = [_csv_column(df, c, opts) for c in df.columns]
        if all(t is not None for t in texts):  # (the dtypes csv_text knows: module doc)
            return csv_text([str(c) for c in df.columns], texts)  # type: ignore[arg-type]
    return _render_csv_pandas(df, opts)


def _render_csv_pandas(df: pd.DataFrame, opts: RenderOptions) -> str:
    """The CSV by pandas' to_csv: a dtype csv_text does not know, and its tests' truth."""
    out = hex_bytes(df)
    for c in out.columns:
        # every float of an epoch column, whatever the column's dtype (an object column
        # after concatenating a file's table with an empty one still holds floats)
        if is_epoch_column(c) and not pd.api.types.is_integer_dtype(out[c]):
            text = _epoch_format(out[c], df.attrs, opts.time_decimals)
            out[c] = [
                text(cell(v)) if isinstance(cell(v), float) and cell(v) is not None else v
                for v in out[c]
            ]
    buf = io.StringIO()
    out.to_csv(buf, index=False, na_rep="", lineterminator="\n")
    return buf.getvalue()


def _csv_column(df: pd.DataFrame, name: object, opts: RenderOptions) -> list[str] | None:
    """One column's CSV cells (ebutool.report.csv_text), epoch times as ``_render_csv``'s
    pandas path prints them; None: a dtype only pandas writes."""
    from ebutool.core.exact_time import epoch_formatter

    values = df[name]
    if not is_epoch_column(name) or pd.api.types.is_integer_dtype(values):
        return column_text(values)
    if values.dtype == np.float64:  # (the floats taken once, no cell() per value)
        cells = [None if v != v else v for v in values.to_numpy().tolist()]
    elif values.dtype == object:
        cells = [cell(v) for v in values.tolist()]
        if not all(c is None or isinstance(c, float) for c in cells):
            return None  # (pandas would read the column again as numbers: its path decides)
    else:
        return None
    text = epoch_formatter(cells, df.attrs, opts.time_decimals)
    return [NA_TEXT if c is None else text(c) for c in cells]


def _render_json(df: pd.DataFrame, opts: RenderOptions) -> str:
    return _json_text(_records(df), indent=True)


def _render_ndjson(df: pd.DataFrame, opts: RenderOptions) -> str:
    return _json_text(_records(df), indent=False)


PIPE = "pipe"  # tabulate's markdown table format


def alignment(df: pd.DataFrame) -> list[str]:
    """Numbers right (decimal points line up: fixed decimals), text left, as in print."""
    return [
        "right"
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        else "left"
        for c in df.columns
    ]


def _tabulated(df: pd.DataFrame, opts: RenderOptions, tablefmt: str, align: bool) -> str:
    rows = text_rows(df, opts, markdown=tablefmt == PIPE)
    return tabulate_rows(rows, df, tablefmt, alignment(df) if align else None) + "\n"


def tabulate_rows(
    rows: list[list[str]], df: pd.DataFrame, tablefmt: str, colalign: list[str] | None
) -> str:
    """``rows`` (text cells) under ``df``'s column names as tabulate's ``tablefmt``,
    without a final newline.  For a markdown pipe table (:data:`PIPE`) the rows are
    already escaped (``text_rows(..., markdown=True)``); the column names are here."""
    from tabulate import tabulate

    headers = [str(c) for c in df.columns]
    return str(
        tabulate(
            rows,
            headers=[markdown_cell(h) for h in headers] if tablefmt == PIPE else headers,
            tablefmt=tablefmt,
            disable_numparse=True,
            colalign=colalign,
        )
    )


def _render_markdown(df: pd.DataFrame, opts: RenderOptions) -> str:
    return _tabulated(df, opts, PIPE, align=True)


def _render_latex(df: pd.DataFrame, opts: RenderOptions) -> str:
    return _tabulated(df, opts, "latex_booktabs", align=True)


def _render_table(df: pd.DataFrame, opts: RenderOptions) -> str:
    if df.empty:
        return "(no rows) columns: " + ", ".join(map(str, df.columns)) + "\n"
    return _tabulated(df, opts, "simple", align=False)


def _render_zeek(df: pd.DataFrame, opts: RenderOptions) -> str:
    return render_zeek(df, opts.name, opts.time_decimals)


RENDERERS: dict[OutputFormat, Callable[[pd.DataFrame, RenderOptions], str]] = {
    OutputFormat.table: _render_table,
    OutputFormat.csv: _render_csv,
    OutputFormat.json: _render_json,
    OutputFormat.ndjson: _render_ndjson,
    OutputFormat.zeek: _render_zeek,
    OutputFormat.markdown: _render_markdown,
    OutputFormat.latex: _render_latex,
}


def render_table(
    df: pd.DataFrame, fmt: OutputFormat, decimals: int = 3, *, name: str = "ebutool"
) -> str:
    """The text of ``df`` in a text format (every format but parquet); ``name`` is the
    table's name where a format states one (a Zeek log's ``#path``)."""
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.parquet:
        raise UsageError("parquet is a binary format: give -o PATH")
    return RENDERERS[fmt](df, RenderOptions(decimals=decimals, name=name))


def render_bytes(
    df: pd.DataFrame,
    fmt: OutputFormat,
    decimals: int = 3,
    *,
    name: str = "ebutool",
    provenance: Mapping[str, Any] | None = None,
) -> bytes:
    """``df`` in any format as octets (text formats UTF-8 encoded, parquet binary).
    Writing them anywhere is the caller's business (the CLI: stdout or ``-o PATH``).
    ``provenance`` (ebutool.report.provenance) goes into parquet's key-value metadata;
    the text formats have no place for it (the CLI writes it beside them)."""
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.parquet:
        from ebutool.report.parquet_writer import parquet_bytes

        return parquet_bytes(df, provenance)
    return render_table(df, fmt, decimals, name=name).encode("utf-8")
