"""The episodes as the report holds them (issue 12): never every row whole.

The page shows the rows (and ladders) of the first ``max_rows`` episodes only; its
claim, summary, compare table, figures and counts are of every episode but read a
handful of analyze's ~46 columns (:func:`report_columns`).  :class:`EpisodeGatherer`
takes analyze's table in consecutive pieces and keeps those columns of every row
(:class:`ebutool.runner.lean.LeanColumns`, a few words a row) and the whole rows of
the first ``max_rows``.  :func:`episode_pieces` gives the pieces: one capture or trace
is read as ``analyze`` streams it (:func:`ebutool.analysis.analyze_pieces`; beyond
SPILL_ROWS finished rows wait on disk), so memory does not grow with a whole row per
episode; several inputs, merged views and record stores go through
:func:`ebutool.runner.analyze_inputs.analyze_files` (their whole table is one piece).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from ebutool.analysis.rows import PIECE_ROWS
from ebutool.analysis.spill import SPILL_ROWS
from ebutool.core.exact_time import TIME_DECIMALS
from ebutool.runner.lean import LeanColumns

if TYPE_CHECKING:
    from ebutool.core.diagnostics import Diagnostics
    from ebutool.records.from_packet import StreamStats
    from ebutool.report.html.settings import ReportOptions


def report_columns(by: str) -> list[str]:
    """The columns the page's statistics read for every episode: compare's (summary,
    claim, exclusions, figures: ebutool.report.compare.compare_columns) and ``source``
    (the inputs compared by file; kept for one input too, so that the table is the same
    whatever the inputs: a record store's and its captures' merged)."""
    from ebutool.report.compare import compare_columns

    return list(dict.fromkeys([*compare_columns(by), "source"]))


class EpisodeGatherer:
    """``columns`` of every row of consecutive pieces of one table, and the whole
    rows of the first ``max_rows`` (module doc)."""

    def __init__(self, columns: Sequence[str], max_rows: int) -> None:
        self.lean = LeanColumns(columns)
        self.max_rows = max_rows
        self.head: list[pd.DataFrame] = []  # whole rows, at most max_rows in all
        self.held = 0
        self.empty: pd.DataFrame | None = None  # the table's columns and dtypes
        self.attrs: dict[Any, Any] = {}

    def add(self, piece: pd.DataFrame) -> None:
        if self.empty is None:
            self.empty = piece.iloc[:0].copy()
        self.attrs.update(piece.attrs)  # (the time resolution is the last piece's)
        self.lean.add(piece)
        if self.held < self.max_rows:
            whole = piece.iloc[: self.max_rows - self.held].copy()
            self.head.append(whole)
            self.held += len(whole)

    def embedded(self) -> pd.DataFrame:
        """The first ``max_rows`` rows whole (fewer if fewer came), with the attrs."""
        if self.empty is None:
            raise ValueError("no piece was given (analyze always gives at least one)")
        if len(self.head) > 1:
            self.head = [pd.concat(self.head, ignore_index=True)]
        head = self.head[0] if self.head else self.empty
        head.attrs = dict(self.attrs)
        return head

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(every row's ``columns``, :meth:`embedded`), with the first piece's attrs
        (vantage decisions, clocks; the time resolution: the last one's)."""
        head = self.embedded()
        lean = self.lean.frame()
        lean.attrs = dict(self.attrs)
        return lean, head


def episode_pieces(
    names: list[str],
    options: ReportOptions,
    diag: Diagnostics,
    stats: StreamStats,
    progress: Any = None,
) -> Iterator[pd.DataFrame]:
    """analyze's table of ``names`` in consecutive pieces (module doc): the same rows,
    order, episode numbers and attrs as :func:`ebutool.runner.analyze_inputs.analyze_files`."""
    from ebutool.store.layout import is_store

    if len(names) == 1 and not is_store(names[0]) and options.cluster is None:
        yield from _streamed(names[0], options, diag, stats, progress)
        return
    from ebutool.runner.analyze_inputs import analyze_files

    yield analyze_files(
        names,
        options.jobs,
        mn=options.mn,
        cn=options.cn,
        config=options.config,
        keys=options.keys,
        diag=diag,
        stats=stats,
        merge=options.merge,
        progress=progress,
        esp_sas=list(options.esp_sas),
        vantage=options.vantage,
        clock_offsets=options.clock_offsets,
        no_merge=options.no_merge,
        cluster=options.cluster,
    )


def _streamed(
    path: str, options: ReportOptions, diag: Diagnostics, stats: StreamStats, progress: Any
) -> Iterator[pd.DataFrame]:
    """One input as analyze_files reads it (its vantage as given for it), in pieces."""
    from ebutool.analysis import analyze_pieces
    from ebutool.analysis.vantage import check_role, role_for

    pieces, decisions = analyze_pieces(
        path,
        mn=options.mn,
        cn=options.cn,
        config=options.config,
        keys=options.keys,
        diag=diag,
        stats=stats,
        progress=progress,
        esp_sas=list(options.esp_sas),
        vantage=role_for(path, {p: check_role(r) for p, r in options.vantage.items()}),
        rows=PIECE_ROWS,
        spill_at=SPILL_ROWS,
    )
    for piece in pieces:
        piece.attrs["vantage"] = decisions
        piece.attrs[TIME_DECIMALS] = stats.time_decimals
        yield piece


def with_file(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with compare's leading ``file`` column (the episodes' ``source``): a
    shallow copy, the columns shared (copy-on-write), not a copy of the table (issue 12)."""
    out = df.copy(deep=False)
    out.insert(0, "file", out["source"] if "source" in out else None)
    return out
