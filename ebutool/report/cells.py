"""One table cell as a plain Python value, shared by the renderers."""

from __future__ import annotations

import math

import pandas as pd


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
