"""The lean path of ``analyze``: episode rows kept as compact columns, not as Episodes.

:func:`ebutool.analysis.build_episodes` keeps every finished :class:`Episode` (its
timeline, predictions dict, lists...) until the end of the run, a few KB each.  The
table needs none of that: as each handover closes, :class:`EpisodeRows` turns its
episodes into the values of the output columns and drops them.  Per row it keeps at
most one machine word per column (floats and counts in ``array`` columns, strings
shared through an intern table: addresses and codes repeat) plus the sort key: about
270 octets per finished row, so a run's memory grows with its open episodes, not with
its packets.

What the end of the run still needs is kept alongside: the sort key (handover time,
MN, CN, care-of address), the CNs that answered an EBA anywhere in the capture and,
per early_fallback row, whether its CN sent a Binding Error with status 2
(``add_fallback_cause`` in ebutool.analysis, which this mirrors).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ebutool.analysis.columns import EPISODE_COLUMNS, row_values
from ebutool.analysis.episodes import Reconstructor
from ebutool.analysis.metrics import finalize
from ebutool.analysis.spill import RowSpill
from ebutool.analysis.state import Episode, Handover
from ebutool.core import constants as C
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics
from ebutool.core.exact_time import EXACT_NS, exact_map
from ebutool.records.retype import retyped
from ebutool.wire import forget_decoded

if TYPE_CHECKING:
    import pandas as pd

# The fallback causes (also used by ebutool.analysis.add_fallback_cause, the Episode path)
FALLBACK_KIND = "early_fallback"
REFUSED_NOTE = "ebu_refused_binding_error"
LOST_NOTE = "ebu_or_eba_lost"
UNKNOWN_MH_STATUS = C.BE_STATUS_UNKNOWN_MH  # a BE saying the CN does not know the EBU type
ANSWER_LABEL = "EBA"  # the Step label of a BA that answers an EBU
REJECTED_PREFIX = "eba_rejected_"  # the diagnosis of an EBU refused with a BA status

_NAMES = list(EPISODE_COLUMNS)
_FLOAT = [i for i, c in enumerate(_NAMES) if EPISODE_COLUMNS[c] == "float64"]
_INT = [i for i, c in enumerate(_NAMES) if EPISODE_COLUMNS[c] == "Int64"]
_BOOL = [i for i, c in enumerate(_NAMES) if EPISODE_COLUMNS[c] == "boolean"]
_OBJECT = [i for i, c in enumerate(_NAMES) if EPISODE_COLUMNS[c] == "object"]
_COL = {c: i for i, c in enumerate(_NAMES)}
_MN, _CN, _COA = _COL["mn"], _COL["cn"], _COL["coa"]
_DIAG, _SOURCE, _ID = _COL["diagnosis"], _COL["source"], _COL["episode"]
PIECE_ROWS = 10_000  # rows per table of pieces()
_BOOL_NONE = -1  # boolean columns are int8 arrays: 1, 0, or this for missing
_INT_NONE = -(2**63)  # Int64 columns: this for missing (counts never are; kept for safety)


def _empty_columns() -> list:
    cols: list = [None] * len(_NAMES)
    for i in _FLOAT:
        cols[i] = array("d")
    for i in _INT:
        cols[i] = array("q")
    for i in _BOOL:
        cols[i] = array("b")
    for i in _OBJECT:
        cols[i] = []
    return cols


class EpisodeRows:
    """Finished episode rows as columns.  ``add_handover`` as handovers close, then
    ``close()`` once (fallback causes, sort, ids 1..n), then ``frame()``."""

    def __init__(self, spill_at: int | None = None) -> None:
        # beyond ``spill_at`` rows, sorted runs go to a temporary file (analysis/spill.py)
        self.spill_at = spill_at
        self.spill: RowSpill | None = None
        self.columns = _empty_columns()
        self.t0_ns = array("q")  # sort key: handover time (0 when missing) ...
        self.t0_missing = array("b")  # ... and whether it is missing (sorts last)
        self.answering_cns: set[str] = set()
        self.fallbacks: list[tuple[int, bool]] = []  # (row, the CN refused with BE status 2)
        self._interned: dict = {}

    def __len__(self) -> int:
        """Rows held, and on disk."""
        return len(self.t0_ns) + (self.spill.rows if self.spill is not None else 0)

    # -- filling ---------------------------------------------------------------------
    def add_handover(
        self, ho: Handover, config: ProtocolConfig, capture_end_ns: int | None
    ) -> None:
        for st in ho.all_cns():
            if st.cn not in self.answering_cns and _shows_eba(ho, st):
                self.answering_cns.add(st.cn)
        for ep in finalize(ho, config, capture_end_ns, timeline=False):
            self.add(ep)

    def add(self, ep: Episode) -> None:
        """One finished episode (its timeline is not looked at: see add_handover)."""
        values = row_values(ep)
        row = len(self.t0_ns)
        cols, interned = self.columns, self._interned
        for i in _OBJECT:
            v = values[i]
            cols[i].append(v if v is None else interned.setdefault(v, v))
        for i in _FLOAT:
            v = values[i]
            cols[i].append(math.nan if v is None else v)
        for i in _INT:
            v = values[i]
            cols[i].append(_INT_NONE if v is None else v)
        for i in _BOOL:
            v = values[i]
            cols[i].append(_BOOL_NONE if v is None else 1 if v else 0)
        self.t0_ns.append(ep.t0_ns or 0)
        self.t0_missing.append(ep.t0_ns is None)
        if ep.kind == FALLBACK_KIND:
            refused = any(status == UNKNOWN_MH_STATUS for _, status, _ in ep.binding_errors)
            self.fallbacks.append((row, refused))
        if self.spill_at is not None and len(self.t0_ns) >= self.spill_at:
            self._spill()

    # -- rows on disk (analysis/spill.py) ----------------------------------------------
    def _spill(self) -> None:
        """The rows held, sorted, as one run on disk; the columns start again empty."""
        if self.spill is None:
            self.spill = RowSpill()
        fallback = dict(self.fallbacks)
        cols, t0, missing = self.columns, self.t0_ns, self.t0_missing
        mn, cn, coa = cols[_MN], cols[_CN], cols[_COA]
        rows = [
            (
                (missing[r], t0[r], mn[r], cn[r] or "", coa[r]),
                fallback.get(r),
                tuple(col[r] for col in cols),
            )
            for r in range(len(t0))
        ]
        rows.sort(key=lambda row: row[0])
        self.spill.add_run(rows)
        self.columns, self.t0_ns, self.t0_missing = _empty_columns(), array("q"), array("b")
        self.fallbacks = []
        # the strings shared by the rows held: those on disk no longer need them (issue 12:
        # kept, this dict held every address of a capture with one BU per home address)
        self._interned = {}

    def _append_values(self, key: tuple, values: list) -> None:
        """One row as stored (nan, _INT_NONE, _BOOL_NONE for missing values)."""
        for col, v in zip(self.columns, values, strict=True):
            col.append(v)
        self.t0_missing.append(key[0])
        self.t0_ns.append(key[1])

    def pieces(
        self,
        mn: str | None = None,
        cn: str | None = None,
        rows: int = PIECE_ROWS,
        label: Callable[[str], str] | None = None,
    ) -> Iterator[pd.DataFrame]:
        """The table (as :meth:`frame`, after ``close()``; ``label`` as :meth:`relabel`)
        in consecutive pieces of at most ``rows`` rows: the rows on disk are merged
        with the ones held, numbered in the merged order, then filtered."""
        if self.spill is None:
            if label is not None:
                self.relabel(label)
            yield self.frame(mn, cn)
            return
        piece, n, given = EpisodeRows(), 0, False
        diag_col = _DIAG
        for key, fallback, stored in self.spill.merged():
            n += 1
            values = list(stored)
            if fallback is not None:
                values[diag_col] = _with_fallback_note(
                    values[diag_col], fallback, values[_CN] in self.answering_cns
                )
            values[_ID] = n
            if (mn is not None and values[_MN] != mn) or (cn is not None and values[_CN] != cn):
                continue
            piece._append_values(key, values)
            if len(piece) >= rows:
                yield piece._labelled_frame(label)
                piece, given = EpisodeRows(), True
        if len(piece) or not given:
            yield piece._labelled_frame(label)
        self.spill.close()

    def _labelled_frame(self, label: Callable[[str], str] | None) -> pd.DataFrame:
        if label is not None:
            self.relabel(label)
        return self.frame()

    # -- end of run ------------------------------------------------------------------
    def close(self) -> None:
        """Fallback causes (they need the whole capture), then the episode order of
        build_episodes (stable: time, MN, CN, care-of address) and ids from 1.  With
        rows on disk, the rows held become the last run: :meth:`pieces` does the rest."""
        if self.spill is not None:
            self._spill()
            return
        diag = self.columns[_DIAG]
        for row, refused in self.fallbacks:
            notes = set(diag[row].split(";")) if diag[row] else set()
            note = fallback_note(refused, self.columns[_CN][row] in self.answering_cns, notes)
            if note is not None:
                notes.add(note)
            joined = ";".join(sorted(notes)) or None
            diag[row] = joined if joined is None else self._interned.setdefault(joined, joined)
        self.fallbacks = []
        mn, cn, coa = self.columns[_MN], self.columns[_CN], self.columns[_COA]
        t0, missing = self.t0_ns, self.t0_missing
        order = sorted(
            range(len(t0)), key=lambda r: (missing[r], t0[r], mn[r], cn[r] or "", coa[r])
        )
        self.columns = [_take(col, order) for col in self.columns]
        self.t0_ns, self.t0_missing = _take(t0, order), _take(missing, order)
        self.columns[_ID] = array("q", range(1, len(order) + 1))

    def extend(self, other: EpisodeRows) -> None:
        """Append the (closed) rows of ``other``; renumber() afterwards."""
        for col, more in zip(self.columns, other.columns, strict=False):
            col.extend(more)
        self.t0_ns.extend(other.t0_ns)
        self.t0_missing.extend(other.t0_missing)

    def renumber(self) -> None:
        self.columns[_ID] = array("q", range(1, len(self) + 1))

    def relabel(self, label: Callable[[str], str]) -> None:
        """Replace each row's ``source`` (the Episode's, "" for none) by ``label(source)``."""
        col = self.columns[_SOURCE]
        self.columns[_SOURCE] = [label(s or "") or None for s in col]

    # -- output ----------------------------------------------------------------------
    def frame(self, mn: str | None = None, cn: str | None = None) -> pd.DataFrame:
        """The episode table (as episodes_frame), only the rows of ``mn``/``cn`` if given."""
        import pandas as pd

        n = len(self)
        keep = None
        if mn is not None or cn is not None:
            mns, cns = self.columns[_MN], self.columns[_CN]
            keep = np.array(
                [(mn is None or mns[r] == mn) and (cn is None or cns[r] == cn) for r in range(n)],
                dtype=bool,
            )
        index = pd.RangeIndex(n if keep is None else int(keep.sum()))
        # Series with explicit dtypes: pandas would infer "str" for object columns.
        data = {
            name: pd.Series(_series_values(col, dtype, keep), index=index, dtype=dtype, copy=False)
            for name, dtype, col in zip(
                _NAMES, EPISODE_COLUMNS.values(), self.columns, strict=False
            )
        }
        df = pd.DataFrame(data, columns=_NAMES)
        # t_handover's exact ns, for 9 decimals (ebutool.core.exact_time)
        times = (t for t, gone in zip(self.t0_ns, self.t0_missing, strict=True) if not gone)
        df.attrs[EXACT_NS] = exact_map(times)
        return df


def _shows_eba(ho: Handover, st) -> bool:
    """The CN accepted an EBU in this episode (a refusing EBA is no evidence of support)."""
    return any(e.accepted for e in st.ebus.values())


def fallback_note(refused_be: bool, cn_answers: bool, notes: set[str]) -> str | None:
    """The cause of an early_fallback: ``ebu_refused_binding_error`` when the CN sent a
    Binding Error with status 2; ``ebu_or_eba_lost`` when the same CN accepted an EBU
    elsewhere in the capture and this EBU drew no refusing BA (``eba_rejected_<status>``
    already says what happened); else None (cannot be told)."""
    if refused_be:
        return REFUSED_NOTE
    if cn_answers and not any(n.startswith(REJECTED_PREFIX) for n in notes):
        return LOST_NOTE
    return None


def _with_fallback_note(diagnosis: str | None, refused: bool, cn_answers: bool) -> str | None:
    """A spilled early_fallback row's diagnosis with its cause (as close() does)."""
    notes = set(diagnosis.split(";")) if diagnosis else set()
    note = fallback_note(refused, cn_answers, notes)
    if note is not None:
        notes.add(note)
    return ";".join(sorted(notes)) or None


def _take(col, order: list[int]):
    if isinstance(col, array):
        return array(col.typecode, [col[i] for i in order])
    return [col[i] for i in order]


def _series_values(
    col: Any, dtype: str, keep: np.ndarray | None
) -> np.ndarray | pd.arrays.IntegerArray | pd.arrays.BooleanArray:
    """``col``: the array("d"), array("q"), array("b") or list that holds ``dtype``."""
    import pandas as pd

    values: np.ndarray | pd.arrays.IntegerArray | pd.arrays.BooleanArray
    if dtype == "float64":
        values = np.frombuffer(col, dtype=np.float64) if len(col) else np.empty(0, np.float64)
    elif dtype == "Int64":
        ints = np.frombuffer(col, dtype=np.int64) if len(col) else np.empty(0, np.int64)
        values = pd.arrays.IntegerArray(ints.copy(), ints == _INT_NONE)
    elif dtype == "boolean":
        bools = np.frombuffer(col, dtype=np.int8) if len(col) else np.empty(0, np.int8)
        values = pd.arrays.BooleanArray(bools == 1, bools == _BOOL_NONE)
    else:
        values = np.empty(len(col), dtype=object)
        values[:] = col
    if keep is not None:
        values = values[keep]
    return values.copy() if isinstance(values, np.ndarray) and values.base is not None else values


def build_rows(
    records: Iterable,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics | None = None,
    oracle=None,
    vantage: str | None = None,
    spill_at: int | None = None,
) -> EpisodeRows:
    """The closed episode rows of a message stream (what build_episodes gives, as rows);
    ``vantage``: where the capture was taken (ebutool.analysis.vantage), None = the MN;
    ``spill_at``: rows held in memory before sorted runs go to disk (then read the
    table with ``pieces()``, not ``frame()``)."""
    rc = Reconstructor(config, diag, oracle)
    rc.vantage = vantage
    rows = EpisodeRows(spill_at)
    add = rows.add_handover
    # the draft's own MH types (config.ebu_mh_type, config.eba_mh_type) read as EBU/EBA
    for item in retyped(records, config.mh_types, rc.diag):
        for ho, _ in rc.feed(item):
            add(ho, config, None)
    for ho, _ in rc.finish():
        add(ho, config, rc.last_ts)
    forget_decoded()  # the input is read: its caches would pin freed arenas (issue 12)
    rows.close()
    return rows
