"""One pass over a capture's episodes for ``ebutool timeline``, holding what it shows only.

Episodes are numbered as :func:`ebutool.analysis.build_episodes` numbers them (handover
time, MN, CN, care-of address: :func:`ebutool.analysis.order_key`; arrival order breaks
ties, as that function's stable sort does), but without keeping every episode (issue 12:
one BU per home address makes one episode per MN):

- ``--episode N`` keeps the N first episodes in that order seen so far (a heap), with
  their message timelines: memory grows with N, not with the capture.
- The list of episodes keeps one row per episode (:data:`LIST_COLUMNS`), beyond
  ``spill_at`` rows in sorted runs on disk (ebutool.analysis.spill), merged at the end
  and numbered in the merged order; :meth:`Scan.listing` gives it in pieces.

The CNs that accepted an EBU anywhere (for the cause of an early fallback) are kept as a
set and applied to the episode drawn.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from ebutool.analysis import (
    add_fallback_cause,
    answers_ebu,
    iter_episodes,
    merged_records,
    order_key,
)
from ebutool.analysis.spill import SPILL_ROWS, RowSpill
from ebutool.core.exact_time import EXACT_NS, TIME_DECIMALS, US_DECIMALS, exact_map
from ebutool.core.gc_tuning import fewer_collections
from ebutool.records.from_packet import StreamStats

if TYPE_CHECKING:
    from ebutool.analysis.state import Episode
    from ebutool.core.constants import ProtocolConfig
    from ebutool.core.diagnostics import Diagnostics

LIST_COLUMNS = ["episode", "mn", "cn", "kind", "mode", "t_handover", "prev_coa", "coa", "messages"]
LIST_PIECE_ROWS = 10_000  # rows per piece of the streamed list


def list_frame(rows: list[tuple], decimals: int = US_DECIMALS) -> pd.DataFrame:
    """The list of episodes (:data:`LIST_COLUMNS`) from its rows' values (:func:`list_values`:
    t_handover's exact ns last), at the inputs' resolution ``decimals`` (6 or 9: a
    nanosecond capture's t_handover is printed with its 9 exact decimals,
    ebutool.core.exact_time)."""
    df = pd.DataFrame([r[:-1] for r in rows], columns=LIST_COLUMNS)
    for col in ("episode", "messages"):
        df[col] = df[col].astype("Int64")
    df["t_handover"] = df["t_handover"].astype("float64")  # a piece without one: NaN too
    df.attrs[EXACT_NS] = exact_map(r[-1] for r in rows)
    df.attrs[TIME_DECIMALS] = decimals
    return df


def list_values(e: Episode, number: Any = None) -> tuple:
    """One row of the list (the episode's ``number``; None until it is known), then the
    exact ns of its t_handover (not a column: :func:`list_frame` keeps it in the attrs)."""
    return (
        *(number, e.mn, e.cn, e.kind, e.mode, e.t_handover, e.prev_coa, e.coa, len(e.timeline)),
        e.t0_ns,
    )


class _Last:
    """A heap entry ordered backwards, so that heap[0] is the greatest key kept."""

    __slots__ = ("key", "episode")

    def __init__(self, key: tuple, episode: Episode) -> None:
        self.key, self.episode = key, episode

    def __lt__(self, other: _Last) -> bool:
        return self.key > other.key


@dataclass
class Scan:
    """What one pass kept (module doc)."""

    total: int = 0  # episodes in the capture
    matched: int = 0  # episodes of the MN asked (all without one)
    first: Episode | None = None  # the first of those to arrive (drawn when the only one)
    chosen: Episode | None = None  # --episode N, numbered N, when there are N episodes
    answers: set = field(default_factory=set)
    time_decimals: int = US_DECIMALS  # the input's resolution (6 or 9), once it is read
    spill_at: int = SPILL_ROWS
    _rows: list = field(default_factory=list)
    _spill: RowSpill | None = None
    _first_key: tuple | None = None

    def _add_row(self, key: tuple, e: Episode) -> None:
        self._rows.append((key, None, list_values(e)))
        if len(self._rows) >= self.spill_at:
            self._rows.sort(key=lambda row: row[0])
            self._spill = self._spill or RowSpill()
            self._spill.add_run(self._rows)
            self._rows = []

    def _merged(self) -> Iterator[tuple]:
        rows = sorted(self._rows, key=lambda row: row[0])
        if self._spill is None:
            return iter(rows)
        if rows:
            self._spill.add_run(rows)
            self._rows = []
        return self._spill.merged()

    def only(self) -> Episode | None:
        """The one episode of the MN asked, numbered, when there is exactly one."""
        if self.matched != 1 or self.first is None:
            return None
        self.first.id = 1 + sum(1 for key, _, _ in self._merged() if key < self._first_key)
        add_fallback_cause(self.first, self.answers)
        return self.first

    def listing(self, mn: str | None) -> Iterator[pd.DataFrame]:
        """The list of the episodes of ``mn`` (all: None), numbered, in pieces."""
        piece: list[tuple] = []
        given = False
        for n, (_, _, values) in enumerate(self._merged(), 1):
            if mn is None or values[1] == mn:
                piece.append((n, *values[1:]))
                if len(piece) >= LIST_PIECE_ROWS:
                    yield list_frame(piece, self.time_decimals)
                    piece, given = [], True
        if piece or not given:
            yield list_frame(piece, self.time_decimals)
        if self._spill is not None:
            self._spill.close()


def scan_episodes(
    path: str,
    config: ProtocolConfig,
    diag: Diagnostics,
    esp_sas: Any = None,
    *,
    number: int | None = None,
    mn: str | None = None,
    spill_at: int = SPILL_ROWS,
) -> Scan:
    """One pass over ``path``'s episodes: with ``number``, episode ``number`` (``chosen``);
    else the list, the count and first episode of ``mn`` (canonical; None: all)."""
    scan = Scan(spill_at=spill_at)
    heap: list[_Last] = []
    stats = StreamStats()  # its time_decimals: the input's resolution
    records = merged_records([path], diag, stats, esp_sas=esp_sas)
    with fewer_collections():
        for seq, e in enumerate(iter_episodes(records, config, diag)):
            scan.total += 1
            if answers_ebu(e):
                scan.answers.add(e.cn)
            key = (*order_key(e), seq)
            if number is not None:
                _keep_first(heap, number, key, e)
                continue
            scan._add_row(key, e)
            if mn is None or e.mn == mn:
                scan.matched += 1
                if scan.first is None:
                    scan.first, scan._first_key = e, key
    scan.time_decimals = stats.time_decimals
    if number is not None and len(heap) == number:
        scan.chosen = heap[0].episode
        scan.chosen.id = number
        add_fallback_cause(scan.chosen, scan.answers)
    return scan


def _keep_first(heap: list[_Last], n: int, key: tuple, e: Episode) -> None:
    """Keep in ``heap`` the ``n`` smallest keys seen (their episodes)."""
    if len(heap) < n:
        heapq.heappush(heap, _Last(key, e))
    elif key < heap[0].key:
        heapq.heapreplace(heap, _Last(key, e))
