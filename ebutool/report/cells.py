"""One table cell as a plain Python value, shared by the renderers."""

from __future__ import annotations

import math

import pandas as pd

# The columns that hold p-values (the summary's columns of unit "probability": p_value,
# p_holm).  A p-value is never 0: where fixed decimals would print one as 0
# (1.66e-12 as 0.000), the text formats and the HTML report print "< 0.001" instead
# (:func:`p_value_text`); CSV, JSON, NDJSON, Zeek and parquet keep the exact value.
P_VALUE_COLUMNS = frozenset({"p_value", "p_holm"})


def p_value_text(p: float, decimals: int) -> str:
    """``p`` with ``decimals`` fixed decimals, or ``< 0.001`` (at 3 decimals) when it is
    below the smallest value those decimals show: never a p-value of 0."""
    floor = 10.0**-decimals
    return f"< {floor:.{decimals}f}" if p < floor else f"{p:.{decimals}f}"


def cell(v: object) -> object:
    """A JSON-able scalar: NaN/NA -> None, bytes -> hex, numpy -> Python."""
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).hex()
    item = getattr(v, "item", None)
    if callable(item):
        v = item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v


#: What ``pandas.api.types.infer_dtype`` (C, one pass) says of an object column that
#: cannot hold a bytes cell: such a column is not scanned in Python (an object column
#: of text is most of a report's columns).  "mixed" is not here: it may hold bytes.
NO_BYTES = frozenset(
    {"string", "empty", "floating", "integer", "mixed-integer-float", "boolean", "decimal"}
)


def hex_bytes(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with bytes cells as hex text."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype != object:
            continue
        if pd.api.types.infer_dtype(out[c], skipna=True) in NO_BYTES:
            continue
        # (a plain loop that stops at the first bytes cell: Series.map of a lambda over
        # every cell of every object column was ~0.03 s of the CSV of 5,561 rows)
        if any(isinstance(v, bytes | bytearray) for v in out[c].to_numpy()):
            hexed = [bytes(v).hex() if isinstance(v, bytes | bytearray) else v for v in out[c]]
            # (object, as before: Series.map would infer pandas' str dtype and make None NaN)
            out[c] = pd.Series(hexed, index=out.index, dtype=object)
    return out
