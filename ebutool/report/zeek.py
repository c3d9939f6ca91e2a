"""Zeek's ASCII log format (what ``zeek-cut``, zat and Zeek's own readers parse).

The header names the separators, the path, the fields and their types; there is no
``#open``/``#close`` line (they hold the time of writing, so the output would differ
from run to run).  ``ts``, the log's time, is the table's ``t_handover`` (episodes) or
``time`` (messages), typed ``time``; epoch seconds are ``time``, other floats (``*_ms``)
``double``, integers ``count`` (``int`` if one is negative), booleans ``bool`` (T/F),
addresses ``addr``, ``;``-separated codes ``set[string]``, the rest ``string``.  A
missing value is the unset field ``-``; an empty string or set is ``(empty)``.  Types
come from the episode column table (ebutool.analysis.columns) where a column is in it,
else from the column's values.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from ebutool.report.cells import cell
from ebutool.report.output_format import is_epoch_column

if TYPE_CHECKING:
    import pandas as pd

    from ebutool.core.diagnostics import Diagnostics

SEPARATOR = "\t"
SET_SEPARATOR = ","
EMPTY_FIELD = "(empty)"
UNSET_FIELD = "-"
TS_SOURCES = ("t_handover", "time")  # the column that becomes ``ts``, first found


def _units() -> dict[str, str]:
    from ebutool.analysis.columns import COLUMNS

    return {c.name: c.unit for c in COLUMNS}


def _is_addr(values: list[object]) -> bool:
    if not values or not all(isinstance(v, str) for v in values):
        return False
    try:
        for v in values:
            ipaddress.ip_address(str(v))
    except ValueError:
        return False
    return True


def _kind(series: pd.Series) -> str:
    """``floating``, ``integer``, ``boolean`` or something else: by the dtype, and for an
    object column (e.g. several files' tables put together) by the values it holds."""
    import pandas as pd

    types = pd.api.types
    if types.is_bool_dtype(series):
        return "boolean"
    if types.is_integer_dtype(series):
        return "integer"
    if types.is_float_dtype(series):
        return "floating"
    kind = types.infer_dtype(series, skipna=True)
    return "floating" if kind in ("mixed-integer-float", "decimal") else kind


def zeek_type(name: str, series: pd.Series, unit: str | None) -> str:
    """The Zeek type of one column (module doc)."""
    kind = _kind(series)
    numeric = kind in ("floating", "integer")
    if name == "ts" or (is_epoch_column(name) and numeric):
        return "time"
    if kind == "boolean":
        return "bool"
    if kind == "integer":
        return "int" if (series.dropna() < 0).any() else "count"
    if numeric:
        return "double"
    if unit == "codes":
        return "set[string]"
    if unit == "address" or _is_addr([v for v in series if v is not None and v == v]):
        return "addr"
    return "string"


def escape(text: str, in_set: bool = False) -> str:
    """A string as Zeek writes it: separators, backslash and non-printables as \\xNN;
    a value that reads as unset or empty escaped too."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == SEPARATOR or (in_set and ch == SET_SEPARATOR) or not ch.isprintable():
            out.append("".join(f"\\x{b:02x}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    s = "".join(out)
    if s == UNSET_FIELD:
        return "\\x2d"
    if s == EMPTY_FIELD:
        return "\\x28empty)"
    return s


def _value(v: object, ztype: str, time_text) -> str:
    v = cell(v)
    if v is None:
        return UNSET_FIELD
    if ztype == "time":
        return time_text(float(v))  # type: ignore[arg-type]
    if ztype == "bool":
        return "T" if v else "F"
    if ztype == "double":
        return repr(float(v))  # type: ignore[arg-type]
    if ztype == "set[string]":
        items = [escape(x, in_set=True) for x in str(v).split(";") if x]
        return SET_SEPARATOR.join(items) if items else EMPTY_FIELD
    text = str(v)
    return escape(text) if text else EMPTY_FIELD


def _with_ts(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its time column renamed ``ts`` and moved first (module doc)."""
    if "ts" in df.columns:
        return df
    for name in TS_SOURCES:
        if name in df.columns:
            rest = [c for c in df.columns if c != name]
            return df[[name, *rest]].rename(columns={name: "ts"})
    return df


def zeek_types(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """``df`` with its ``ts`` column first, its field names and their Zeek types."""
    df = _with_ts(df)
    units = _units()
    names = [str(c) for c in df.columns]
    types = [zeek_type(n, df[c], units.get(n)) for n, c in zip(names, df.columns, strict=True)]
    return df, names, types


def zeek_header(path: str, names: list[str], types: list[str]) -> list[str]:
    """The header lines of a log named ``path`` with these fields."""
    return [
        "#separator " + "".join(f"\\x{ord(ch):02x}" for ch in SEPARATOR),
        f"#set_separator{SEPARATOR}{SET_SEPARATOR}",
        f"#empty_field{SEPARATOR}{EMPTY_FIELD}",
        f"#unset_field{SEPARATOR}{UNSET_FIELD}",
        f"#path{SEPARATOR}{escape(path)}",
        SEPARATOR.join(["#fields", *names]),
        SEPARATOR.join(["#types", *types]),
    ]


def zeek_lines(df: pd.DataFrame, types: list[str], time_decimals: int) -> list[str]:
    """One log line per row of ``df`` (as :func:`zeek_types` returns it); a ``time`` at
    the table's resolution, as CSV prints it (ebutool.core.exact_time: 9 decimals from
    the exact ns of a nanosecond input)."""
    from ebutool.core.exact_time import epoch_formatter

    texts = [
        epoch_formatter([cell(v) for v in df[c]], df.attrs, time_decimals) if t == "time" else None
        for c, t in zip(df.columns, types, strict=True)
    ]
    return [
        SEPARATOR.join(_value(v, t, f) for v, t, f in zip(row, types, texts, strict=True))
        for row in df.itertuples(index=False)
    ]


def render_zeek(df: pd.DataFrame, path: str, time_decimals: int = 6) -> str:
    """``df`` as a Zeek ASCII log named ``path`` (module doc)."""
    df, names, types = zeek_types(df)
    lines = [*zeek_header(path, names, types), *zeek_lines(df, types, time_decimals)]
    return "\n".join(lines) + "\n"


WEIRD_COLUMNS = ["ts", "source", "frame", "name", "addl", "notice", "peer"]


def weird_frame(diag: Diagnostics) -> pd.DataFrame:
    """The per-packet diagnoses as a Zeek ``weird`` log's rows: one per kept diagnosis
    (``name`` = its code, ``addl`` = its message, ``frame`` its frame number), then one
    per code with more than were kept, saying how many more.  ``ts`` is unset: a
    diagnosis records its frame number, not its time."""
    import pandas as pd

    rows: list[list[object]] = [
        [None, d.source or None, d.frame, d.code, d.message, False, "ebutool"] for d in diag.kept
    ]
    kept: dict[str, int] = {}
    for d in diag.kept:
        kept[d.code] = kept.get(d.code, 0) + 1
    for code, n in sorted(diag.counts.items()):
        more = n - kept.get(code, 0)
        if more > 0:
            text = f"{more} more {code} not listed (the first {kept.get(code, 0)} are)"
            rows.append([None, None, None, code, text, False, "ebutool"])
    df = pd.DataFrame(rows, columns=WEIRD_COLUMNS)
    df["ts"] = df["ts"].astype("float64")
    df["frame"] = df["frame"].astype("Int64")
    df["notice"] = df["notice"].astype("boolean")
    return df


def render_weird(diag: Diagnostics) -> str:
    """The per-packet diagnoses as a Zeek ``weird`` log (:func:`weird_frame`)."""
    return render_zeek(weird_frame(diag), "weird")
