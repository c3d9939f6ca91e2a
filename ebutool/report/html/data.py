"""What the HTML report shows, gathered once: the episode table, the summary and the
claim, the compare grouping, the figures, the diagnostics and the ladders' messages.

:func:`collect` runs the analysis exactly as ``analyze`` does
(:func:`ebutool.runner.analyze_inputs.analyze_files`), keeping the statistics' columns of every
episode and the first ``max_rows`` episodes whole (ebutool.report.html.gather); it
works out what is of every episode (:func:`of_every_episode`: summary, claim, counts,
compare's table, the figures, how the numbers were made), lets those columns go, and
only then reads each input a second time for the embedded episodes' message sequences
(:mod:`ebutool.report.html.ladders`: the table's rows keep no timeline).  The second
reading's peak is then not on top of the columns (~80 MB at 1M episodes, issue 12).
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.report.html.settings import ReportOptions, claim_settings

if TYPE_CHECKING:
    from ebutool.analysis.claim_stats import ClaimSettings


@dataclass
class ReportData:
    """Everything the page shows (module doc)."""

    paths: list[str]
    options: ReportOptions
    n_episodes: int  # every episode (the statistics below are of all of them)
    embedded: pd.DataFrame  # the first max_rows episodes whole: the page's rows and ladders
    summary: pd.DataFrame
    claim_text: str
    exclusions: dict[str, int]
    exclusion_text: str
    counterfactual_text: str
    compare: pd.DataFrame | None
    figures: list[tuple[str, str]] | None  # (caption, inline SVG); None: no matplotlib
    record: dict[str, Any]  # how the numbers were made (ebutool.report.html.how_made)
    diag: Diagnostics
    stats: StreamStats
    ladders: dict[int, Any]  # episode number -> compact ladder (ebutool.report.html.ladders)
    ladder_notes: list[str]  # why some episodes have no ladder
    not_embedded: int = 0  # episodes beyond ReportOptions.max_rows: counted, not in the page


def collect(paths: Sequence[str], options: ReportOptions, progress: Any = None) -> ReportData:
    """Analyse ``paths`` (after ebutool.runner.inputs.expand_inputs) for the report."""
    from ebutool.core.gc_tuning import give_back_freed_memory
    from ebutool.report.html.ladders import episode_ladders
    from ebutool.wire import forget_decoded

    names = [str(p) for p in paths]
    diag, stats = Diagnostics(), StreamStats()
    df, embedded = _gathered(names, options, diag, stats, progress)
    shown = of_every_episode(df, names, options)
    del df  # the columns of every episode: not held while the inputs are read again
    gc.collect()
    give_back_freed_memory()
    ladders, notes = episode_ladders(names, embedded, options)
    forget_decoded()  # the second reading's caches: nothing of it is held past here
    return ReportData(
        paths=names,
        options=options,
        embedded=embedded,
        diag=diag,
        stats=stats,
        ladders=ladders,
        ladder_notes=notes,
        **shown,
    )


def _gathered(
    names: list[str], options: ReportOptions, diag: Diagnostics, stats: StreamStats, progress: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the statistics' columns of every episode, the first max_rows episodes whole):
    gather.EpisodeGatherer.tables; nothing else of the pieces outlives this call."""
    from ebutool.report.html.gather import EpisodeGatherer, episode_pieces, report_columns

    gathered = EpisodeGatherer(report_columns(options.by), options.max_rows)
    for piece in episode_pieces(names, options, diag, stats, progress):
        gathered.add(piece)
    return gathered.tables()


def of_every_episode(df: pd.DataFrame, names: list[str], options: ReportOptions) -> dict:
    """The fields of :class:`ReportData` that are of every episode, from the statistics'
    columns of all of them (``df``: gather.report_columns)."""
    from ebutool.analysis import claim_statement, summarize
    from ebutool.analysis.summary import (
        counterfactual_statement,
        exclusion_counts,
        exclusion_statement,
    )
    from ebutool.report.html.figures import figure_svgs
    from ebutool.report.html.how_made import how_made

    settings = claim_settings(options)
    summary = summarize(df, settings=settings)
    compare = _compare(df, names, options.by, settings)
    return {
        "n_episodes": len(df),
        "summary": summary,
        "claim_text": claim_statement(summary, settings=settings),
        "exclusions": exclusion_counts(df) if len(df) else {},
        "exclusion_text": exclusion_statement(df) if len(df) else "No episode.",
        "counterfactual_text": (counterfactual_statement(df, settings=settings) if len(df) else ""),
        "compare": compare,
        "figures": figure_svgs(df, options.by if compare is not None else None),
        "record": how_made(names, options, df, compared=compare is not None),
        "not_embedded": max(len(df) - options.max_rows, 0),
    }


def _compare(
    df: pd.DataFrame, names: list[str], by: str, settings: ClaimSettings
) -> pd.DataFrame | None:
    """compare's table (its grouping ``by``) when there are several inputs or ``by`` is
    not the file; None for one input compared by file (the summary says it all).  Made
    with the run's claim ``settings``, as the summary and the claim on the same page."""
    from ebutool.report.compare import compare_table
    from ebutool.report.html.gather import with_file

    if not compared(names, by):
        return None
    return compare_table(with_file(df), by, settings=settings)


def compared(names: Sequence[str], by: str) -> bool:
    """Whether the page has compare's table: several inputs, or ``by`` not the file."""
    return by != "file" or len(names) >= 2
