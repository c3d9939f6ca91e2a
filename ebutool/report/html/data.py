"""What the HTML report shows, gathered once: the episode table, the summary and the
claim, the compare grouping, the diagnostics and the ladders' messages.

:func:`collect` runs the analysis exactly as ``analyze`` does
(:func:`ebutool.runner.tasks.analyze_files`), then reads each input a second time for
the episodes' message sequences (:mod:`ebutool.report.html.ladders`): the table's rows
keep no timeline (ebutool.analysis.rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.report.html.settings import ReportOptions

if TYPE_CHECKING:
    from ebutool.analysis.claim_stats import ClaimSettings


@dataclass
class ReportData:
    """Everything the page shows (module doc)."""

    paths: list[str]
    options: ReportOptions
    episodes: pd.DataFrame  # every episode, the statistics' columns (gather.report_columns)
    embedded: pd.DataFrame  # the first max_rows episodes whole: the page's rows and ladders
    summary: pd.DataFrame
    claim_text: str
    exclusions: dict[str, int]
    exclusion_text: str
    counterfactual_text: str
    compare: pd.DataFrame | None
    diag: Diagnostics
    stats: StreamStats
    ladders: dict[int, Any]  # episode number -> compact ladder (ebutool.report.html.ladders)
    ladder_notes: list[str]  # why some episodes have no ladder
    not_embedded: int = 0  # episodes beyond ReportOptions.max_rows: counted, not in the page


def claim_settings(options: ReportOptions) -> ClaimSettings:
    from ebutool.analysis.claim_stats import DEFAULT_SETTINGS

    return options.settings if options.settings is not None else DEFAULT_SETTINGS


def collect(paths: Sequence[str], options: ReportOptions, progress: Any = None) -> ReportData:
    """Analyse ``paths`` (after ebutool.runner.inputs.expand_inputs) for the report."""
    from ebutool.analysis import claim_statement, summarize
    from ebutool.analysis.summary import (
        counterfactual_statement,
        exclusion_counts,
        exclusion_statement,
    )
    from ebutool.report.html.gather import EpisodeGatherer, episode_pieces, report_columns
    from ebutool.report.html.ladders import episode_ladders

    names = [str(p) for p in paths]
    diag, stats = Diagnostics(), StreamStats()
    gathered = EpisodeGatherer(report_columns(options.by), options.max_rows)
    ladders: tuple[dict[int, Any], list[str]] | None = None
    for piece in episode_pieces(names, options, diag, stats, progress):
        gathered.add(piece)
        if ladders is None and gathered.complete_head:
            # read the inputs again now, while every row's columns are not held yet:
            # the peak is the larger of the two, not their sum (issue 12)
            ladders = episode_ladders(names, gathered.embedded(), options)
    df, embedded = gathered.tables()
    del gathered
    settings = claim_settings(options)
    summary = summarize(df, settings=settings)
    if ladders is None:  # fewer episodes than max_rows: every one is embedded
        ladders = episode_ladders(names, embedded, options)
    return ReportData(
        paths=names,
        options=options,
        episodes=df,
        embedded=embedded,
        summary=summary,
        claim_text=claim_statement(summary, settings=settings),
        exclusions=exclusion_counts(df) if len(df) else {},
        exclusion_text=exclusion_statement(df) if len(df) else "No episode.",
        counterfactual_text=counterfactual_statement(df, settings.min_samples) if len(df) else "",
        compare=_compare(df, names, options.by),
        diag=diag,
        stats=stats,
        ladders=ladders[0],
        ladder_notes=ladders[1],
        not_embedded=max(len(df) - options.max_rows, 0),
    )


def _compare(df: pd.DataFrame, names: list[str], by: str) -> pd.DataFrame | None:
    """compare's table (its grouping ``by``) when there are several inputs or ``by`` is
    not the file; None for one input compared by file (the summary says it all)."""
    from ebutool.report.compare import compare_table

    if not compared(names, by):
        return None
    return compare_table(with_file(df), by)


def compared(names: Sequence[str], by: str) -> bool:
    """Whether the page has compare's table: several inputs, or ``by`` not the file."""
    return by != "file" or len(names) >= 2


def with_file(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with compare's leading ``file`` column (the episodes' ``source``): a
    shallow copy, the columns shared (copy-on-write), not a copy of the table (issue 12)."""
    out = df.copy(deep=False)
    out.insert(0, "file", out["source"] if "source" in out else None)
    return out
