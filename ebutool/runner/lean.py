"""Some columns of a table read in pieces, held at a few words per row (compare, issue 12).

``ebutool compare`` summarises a handful of analyze's ~46 columns.  :class:`LeanColumns`
keeps only those while the pieces stream by (ebutool.analysis.analyze_pieces): floats as
arrays of 8 octets per row, other cells as references to one shared object per distinct
value (kind, quality, diagnosis repeat; addresses are not shared: one per MN), and the
table is built once at the end, column by column, each in the dtype of the first piece:
no concatenation of pieces, whose copies would triple the peak.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

ADDRESS_COLUMNS = ("mn", "ha", "cn", "prev_coa", "coa")  # as many values as nodes: not shared


class LeanColumns:
    """``columns`` of consecutive pieces of one table (module doc)."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.wanted = set(columns)
        self.dtypes: dict[str, Any] | None = None
        self.cells: dict[str, list] = {}
        self._shared: dict[str, str] = {}

    def add(self, piece: pd.DataFrame) -> None:
        if self.dtypes is None:
            kept = [c for c in piece.columns if c in self.wanted]
            self.dtypes = {c: piece[c].dtype for c in kept}
            self.cells = {c: [] for c in kept}
        for c, dtype in self.dtypes.items():
            if dtype == np.float64:
                self.cells[c].append(piece[c].to_numpy(dtype=np.float64, copy=True))
            else:
                self.cells[c].extend(self._share(c, piece[c]))

    def _share(self, column: str, values: Iterable) -> Iterable:
        if column in ADDRESS_COLUMNS:
            return values
        shared = self._shared
        return (shared.setdefault(v, v) if isinstance(v, str) else v for v in values)

    def frame(self) -> pd.DataFrame:
        """The table (its columns in the pieces' order); the cells are let go as it is built."""
        out = pd.DataFrame(index=pd.RangeIndex(self._rows()))
        for c, dtype in (self.dtypes or {}).items():
            cells = self.cells.pop(c)
            if dtype == np.float64:
                out[c] = np.concatenate(cells) if cells else np.array([], dtype=np.float64)
            else:
                out[c] = pd.array(cells, dtype=dtype)
        return out

    def _rows(self) -> int:
        if not self.dtypes:
            return 0
        c, dtype = next(iter(self.dtypes.items()))
        cells = self.cells[c]
        return sum(len(a) for a in cells) if dtype == np.float64 else len(cells)
