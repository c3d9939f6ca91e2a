"""Tabular output: one function per format, chosen by an enum (pip-audit style).

Conventions (README "Output"): CSV has one header row and empty cells for missing
values; JSON is a list of objects with ``null`` for missing values; Markdown is a
pipe table with fixed decimals that pastes into a paper; LaTeX is a booktabs
tabular; ``table`` is for terminals.  This module only renders; the CLI
(``ebutool.cli.options.write_table``) decides where output goes.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from enum import StrEnum

import pandas as pd

from ebutool.core.errors import UsageError


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"
    latex = "latex"
    parquet = "parquet"


TEXT_FORMATS = [f for f in OutputFormat if f is not OutputFormat.parquet]


def _cell(v):
    """A JSON-able scalar: NaN/NA -> None, bytes -> hex, numpy -> Python."""
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    if hasattr(v, "item"):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


def _records(df: pd.DataFrame) -> list[dict]:
    return [
        {k: _cell(v) for k, v in zip(df.columns, row, strict=False)}
        for row in df.itertuples(index=False)
    ]


def _fmt_value(v, decimals: int) -> str:
    v = _cell(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.{decimals}f}"
    return str(v)


def is_epoch_column(name: str) -> bool:
    """Columns holding epoch seconds keep microseconds in text formats: ``time``,
    ``t_*`` and ``*_time``/``*_start``/``*_end`` (durations carry a unit suffix)."""
    name = str(name)
    return name == "time" or name.startswith("t_") or name.endswith(("_time", "_start", "_end"))


def _text_rows(df: pd.DataFrame, decimals: int) -> list[list[str]]:
    places = [6 if is_epoch_column(c) else decimals for c in df.columns]
    return [
        [_fmt_value(v, p) for p, v in zip(places, row, strict=False)]
        for row in df.itertuples(index=False)
    ]


def _render_csv(df: pd.DataFrame, decimals: int) -> str:
    buf = io.StringIO()
    out = df.copy()
    for c in out.columns:
        if out[c].map(lambda v: isinstance(v, (bytes, bytearray))).any():
            out[c] = out[c].map(
                lambda v: bytes(v).hex() if isinstance(v, (bytes, bytearray)) else v
            )
    out.to_csv(buf, index=False, na_rep="", lineterminator="\n")
    return buf.getvalue()


def _render_json(df: pd.DataFrame, decimals: int) -> str:
    return json.dumps(_records(df), indent=1) + "\n"


def _alignment(df: pd.DataFrame) -> list[str]:
    """Numbers right (decimal points line up: fixed decimals), text left, as in print."""
    return [
        "right"
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        else "left"
        for c in df.columns
    ]


def _render_markdown(df: pd.DataFrame, decimals: int) -> str:
    from tabulate import tabulate

    return (
        tabulate(
            _text_rows(df, decimals),
            headers=list(df.columns),
            tablefmt="pipe",
            disable_numparse=True,
            colalign=_alignment(df),
        )
        + "\n"
    )


def _render_latex(df: pd.DataFrame, decimals: int) -> str:
    from tabulate import tabulate

    return (
        tabulate(
            _text_rows(df, decimals),
            headers=list(df.columns),
            tablefmt="latex_booktabs",
            disable_numparse=True,
            colalign=_alignment(df),
        )
        + "\n"
    )


def _render_table(df: pd.DataFrame, decimals: int) -> str:
    from tabulate import tabulate

    if df.empty:
        return "(no rows) columns: " + ", ".join(map(str, df.columns)) + "\n"
    return (
        tabulate(
            _text_rows(df, decimals),
            headers=list(df.columns),
            tablefmt="simple",
            disable_numparse=True,
        )
        + "\n"
    )


RENDERERS: dict[OutputFormat, Callable[[pd.DataFrame, int], str]] = {
    OutputFormat.table: _render_table,
    OutputFormat.csv: _render_csv,
    OutputFormat.json: _render_json,
    OutputFormat.markdown: _render_markdown,
    OutputFormat.latex: _render_latex,
}


def render_table(df: pd.DataFrame, fmt: OutputFormat, decimals: int = 3) -> str:
    """The text of ``df`` in a text format (every format but parquet)."""
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.parquet:
        raise UsageError("parquet is a binary format: give -o PATH")
    return RENDERERS[fmt](df, decimals)


def render_bytes(df: pd.DataFrame, fmt: OutputFormat, decimals: int = 3) -> bytes:
    """``df`` in any format as octets (text formats UTF-8 encoded, parquet binary).
    Writing them anywhere is the caller's business (the CLI: stdout or ``-o PATH``)."""
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.parquet:
        return _parquet_bytes(df)
    return render_table(df, fmt, decimals).encode("utf-8")


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise UsageError("--format parquet needs pyarrow: pip install 'ebutool[parquet]'") from None
    conv = df.copy()
    for c in conv.columns:
        if conv[c].map(lambda v: isinstance(v, (bytes, bytearray))).any():
            conv[c] = conv[c].map(
                lambda v: bytes(v).hex() if isinstance(v, (bytes, bytearray)) else v
            )
    buf = io.BytesIO()
    conv.to_parquet(buf, index=False)
    return buf.getvalue()
