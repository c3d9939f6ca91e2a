"""Some columns of a table read in pieces, held at a few octets per row (compare, issue 12).

``ebutool compare`` summarises a handful of analyze's ~46 columns.  :class:`LeanColumns`
keeps only those while the pieces stream by (ebutool.analysis.analyze_pieces):

* floats as arrays of 8 octets per row, one per column, that the table takes as they
  are (:class:`_Floats`);
* text and other repeating cells (kind, mode, quality, diagnosis, vantage) as integer
  codes into the distinct values seen so far, one octet per row while there are fewer
  than 127 of them: the table holds them as pandas categoricals (same values, same
  missing cells; no per-row copy of a diagnosis text, which Arrow strings would make);
* addresses (one value per node: codes would not share anything) and the other typed
  columns (``boolean``, ``Int64``) as copies of the pieces' own arrays.

The table is built once at the end, column by column: no concatenation of pieces as
DataFrames, whose copies would triple the peak.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

ADDRESS_COLUMNS = ("mn", "ha", "cn", "prev_coa", "coa")  # as many values as nodes: not coded


def _codes_dtype(categories: int) -> type[np.signedinteger]:
    """The narrowest integer type for codes 0..categories-1 and -1 (missing)."""
    for t in (np.int8, np.int16, np.int32):
        if categories <= np.iinfo(t).max:
            return t
    return np.int64


class _Coded:
    """One column's cells as codes into the distinct values, in order of first sight."""

    def __init__(self) -> None:
        self.values: list = []
        self._code: dict = {}
        self.parts: list[np.ndarray] = []

    def add(self, cells: pd.Series) -> None:
        import pandas as pd

        local, uniques = pd.factorize(cells, use_na_sentinel=True)
        known = [self._code.setdefault(v, len(self._code)) for v in uniques]
        self.values = list(self._code)
        lut = np.array([*known, -1], dtype=_codes_dtype(len(self.values)))
        self.parts.append(lut[local])  # local -1 (missing) picks the last entry: -1

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def array(self) -> pd.Categorical:
        import pandas as pd

        codes = np.concatenate(self.parts) if self.parts else np.array([], dtype=np.int8)
        self.parts = []
        categories = pd.Index(self.values, dtype=object)
        return pd.Categorical.from_codes(codes.astype(_codes_dtype(len(categories))), categories)


class _Floats:
    """One float column in one array that doubles when full: at the end the table takes
    a view of it, so the cells are never copied into a second array of the same size
    (a concatenation of 10,000-row parts would hold both, and leave the parts' freed
    memory scattered where it is not given back)."""

    def __init__(self) -> None:
        self.buffer = np.empty(FIRST_ROWS, dtype=np.float64)
        self.rows = 0

    def add(self, cells: pd.Series) -> None:
        need = self.rows + len(cells)
        if need > len(self.buffer):
            bigger = np.empty(max(need, 2 * len(self.buffer)), dtype=np.float64)
            bigger[: self.rows] = self.buffer[: self.rows]
            self.buffer = bigger  # (untouched pages of the unused end cost no memory)
        self.buffer[self.rows : need] = cells.to_numpy(dtype=np.float64)
        self.rows = need

    def __len__(self) -> int:
        return self.rows

    def array(self) -> np.ndarray:
        return self.buffer[: self.rows]


FIRST_ROWS = 1 << 14  # a float column's first array (128 KiB)


class LeanColumns:
    """``columns`` of consecutive pieces of one table (module doc)."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.wanted = set(columns)
        self.dtypes: dict[str, Any] | None = None
        self.cells: dict[str, Any] = {}

    def add(self, piece: pd.DataFrame) -> None:
        if self.dtypes is None:
            kept = [c for c in piece.columns if c in self.wanted]
            self.dtypes = {c: piece[c].dtype for c in kept}
            self.cells = {c: self._holder(c) for c in kept}
        for c, cells in self.cells.items():
            if isinstance(cells, list):
                cells.append(piece[c].array.copy())
            else:
                cells.add(piece[c])

    def _holder(self, column: str) -> _Coded | _Floats | list:
        dtype = (self.dtypes or {})[column]
        if dtype == np.float64:
            return _Floats()
        return _Coded() if self._coded(column) else []

    def _coded(self, column: str) -> bool:
        from pandas.api.types import is_object_dtype, is_string_dtype

        dtype = (self.dtypes or {})[column]
        text = is_object_dtype(dtype) or is_string_dtype(dtype)
        return text and column not in ADDRESS_COLUMNS

    def frame(self) -> pd.DataFrame:
        """The table (its columns in the pieces' order); the cells are let go as it is built."""
        import pandas as pd

        out = pd.DataFrame(index=pd.RangeIndex(self._rows()))
        for c, dtype in (self.dtypes or {}).items():
            cells = self.cells.pop(c)
            if isinstance(cells, list):
                column = type(cells[0])._concat_same_type(cells) if cells else pd.array([], dtype)
            else:
                column = cells.array()
            out[c] = pd.Series(column, index=out.index, copy=False)  # (setitem would copy)
        return out

    def _rows(self) -> int:
        if not self.dtypes:
            return 0
        cells = self.cells[next(iter(self.dtypes))]
        return sum(len(a) for a in cells) if isinstance(cells, list) else len(cells)


def kept_columns(
    pieces: Iterable[pd.DataFrame], columns: Sequence[str], vantage: Any
) -> pd.DataFrame:
    """``columns`` of every piece of one analysis as one table, its vantage decisions
    (``df.attrs["vantage"]``) in its attrs.  Called once the analysis is done (its pieces
    wait to be read): its freed blocks are given back before the kept columns grow."""
    from ebutool.core.gc_tuning import give_back_freed_memory

    give_back_freed_memory()
    kept = LeanColumns(columns)
    for piece in pieces:
        kept.add(piece)
    out = kept.frame()
    out.attrs["vantage"] = vantage
    return out
