"""A table's CSV text as pandas writes it, without pandas' per-column machinery.

``DataFrame.to_csv(index=False, na_rep="", lineterminator="\\n")`` formats each block
of columns (NumPy ``astype(str)`` of floats, masks for missing values) and then hands
the rows to Python's :mod:`csv` writer.  For the dtypes of ebutool's tables the text is
the same when each column is made a list of strings here and the rows are given to the
same writer: a float64 as its shortest ``repr`` (what NumPy's ``str`` of a float64
prints), an integer, boolean or text cell by ``str``, bytes as hex (ebutool.report.cells),
a missing value (None, NaN, pd.NA, NaT) as an empty cell.  On the 5,561 episodes of
the 8 x 1 M-packet store: 0.085 s against 0.159 s for ``to_csv`` (2026-12-04).  A
column of another dtype (datetimes, categoricals, ...) returns None: the caller then
uses ``to_csv`` itself.  tests/report/test_csv_text.py checks the two agree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ebutool.report.cells import cell

NA_TEXT = ""  # a missing value's cell (to_csv's na_rep)
LINE_END = "\n"  # ebutool's CSV lines end so on every platform


def cell_text(v: object) -> str:
    """One cell of an object, nullable-integer, boolean or string column: text as it
    is, anything else as ebutool.report.cells.cell makes it (missing -> empty, bytes ->
    hex, NumPy scalars -> Python) and then ``str``."""
    if isinstance(v, str):  # (most cells: no call)
        return v
    c = cell(v)
    return NA_TEXT if c is None else c if isinstance(c, str) else str(c)


def column_text(values: pd.Series) -> list[str] | None:
    """The cells of one column as to_csv writes them; None for a dtype not handled."""
    kind = values.dtype
    if kind == np.float64:
        return [NA_TEXT if x != x else repr(x) for x in values.to_numpy().tolist()]
    if kind == np.int64 or kind == np.bool_:
        return list(map(str, values.to_numpy().tolist()))
    if kind == np.dtype(object) or isinstance(
        kind, pd.Int64Dtype | pd.BooleanDtype | pd.StringDtype
    ):
        return list(map(cell_text, values.tolist()))
    return None


def csv_text(header: Sequence[str], columns: Sequence[list[str]]) -> str:
    """The CSV of ``columns`` (each a list of cell texts) under ``header``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=LINE_END)  # (quoting as to_csv's: minimal)
    writer.writerow(header)
    writer.writerows(zip(*columns, strict=True))
    return buf.getvalue()
