"""Several captures/traces, or groups inside one, side by side.

The episodes come from :func:`ebutool.runner.compare_inputs.episodes_by_file` (every input
analysed on its own, a leading ``file`` column: the file's base name, or its path
where two base names clash; :func:`file_labels`).  :func:`compare_table` then
applies :func:`ebutool.analysis.summarize` (the ``analyze --summary`` table: per
kind x mode, counts, median/mean/p95 of observed and predicted latencies with
sample counts, the early/standard ratio) to each group and puts the group column
first::

    --by file   one summary per input file (the default), then all files together
    --by mn     one summary per mobile node (home address), then all; --by cn per CN
    --by kind   the summary of all inputs together, rows ordered by kind
    --by mode   the same, ordered by mode (conservative / optimistic / unknown / all)

    --by file,mode  several columns, comma-separated: one summary per file (kind x mode
                    inside it, as always); the figure's groups are file x mode

(summarize already splits by kind x mode, so ``--by kind|mode`` only decide the
order and the column that leads; they matter most for ``--plot``, whose groups
they are.)  :func:`latency_samples` gives the per-group latency samples the
distribution figure draws: observed latencies next to the latency the draft's
formulas predict for each episode from its own RTTs.  The figure never pools modes
(the claim compares like with like): its groups are the ``--by`` columns and ``mode``
(added when ``--by`` does not name it), labelled "value, value"; file names are
shortened for it by their common beginning and end (:func:`short_names`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ebutool.analysis import source_labels

# Which formula predicts an episode's latency: one mapping, in ebutool.analysis.formulas.
from ebutool.analysis.claim import OBSERVED
from ebutool.analysis.formulas import FORMULAS, PROCEDURE_OF_KIND, predicting_formula
from ebutool.analysis.summary import counted_mask, group_labels, mn_view_mask
from ebutool.core.errors import UsageError

if TYPE_CHECKING:
    from ebutool.analysis.claim_stats import ClaimSettings

BY_CHOICES = ("file", "kind", "mode", "mn", "cn")


# The ``file`` column's labels are the inputs' ``source`` labels.
file_labels = source_labels


def parse_by(by: str | Sequence[str]) -> list[str]:
    """The ``--by`` columns ("kind,mode" or a sequence), checked: each one of
    :data:`BY_CHOICES`, none twice, at least one."""
    cols = [c.strip() for c in by.split(",")] if isinstance(by, str) else [str(c) for c in by]
    if not cols or any(c not in BY_CHOICES for c in cols):
        bad = ",".join(cols) if isinstance(by, str) else by
        raise UsageError(
            f"--by must be one of {', '.join(BY_CHOICES)} or several of them comma-separated "
            f"(e.g. kind,mode), not {bad!r}"
        )
    if len(set(cols)) != len(cols):
        raise UsageError(f"--by {by!r}: a column is named twice")
    return cols


# The episode columns compare's table, figure and counts read (summarize, the claim
# cells, exclusion_reasons, latency_samples): the rest of the ~46 is not kept (issue 12).
STATISTICS_COLUMNS = (
    "kind",
    "mode",
    "quality",
    "complete",
    "diagnosis",
    "vantage",
    "rtt_ro_ms",
    *(f"{name}_ms" for name in (*OBSERVED, *FORMULAS)),
)


def compare_columns(by: str | Sequence[str]) -> list[str]:
    """The episode columns compare needs for ``by`` (:data:`STATISTICS_COLUMNS` and the
    ``by`` columns; ``file`` is added by episodes_by_file)."""
    cols = [c for c in parse_by(by) if c != "file"]
    return list(dict.fromkeys([*STATISTICS_COLUMNS, *cols]))


def _check_by(by: str) -> str:
    return ",".join(parse_by(by))


def _key(episodes: pd.DataFrame, cols: Sequence[str]) -> pd.Series:
    """Per row: its group label, the values of ``cols`` joined by ", " ("-": missing)."""
    parts = [episodes[c].astype(object).where(episodes[c].notna(), "-").astype(str) for c in cols]
    if not parts:
        return pd.Series("", index=episodes.index, dtype=object)
    key = parts[0]
    for p in parts[1:]:
        key = key + ", " + p
    return key


def _groups(episodes: pd.DataFrame, by: str | Sequence[str]) -> Iterable[tuple[str, pd.DataFrame]]:
    """(label, rows) per group of the ``by`` columns, in order of first appearance; a
    missing value (an HA-only episode has no CN) is its own group, labelled "-"."""
    key = _key(episodes, [by] if isinstance(by, str) else by)
    for value in dict.fromkeys(key):
        yield str(value), episodes[key == value]


ALL_GROUPS = "(all)"  # the group label of the summary over every input/group together


def compare_table(
    episodes: pd.DataFrame,
    by: str = "file",
    combined: bool = True,
    settings: ClaimSettings | None = None,
) -> pd.DataFrame:
    """The summary per group, the ``by`` columns first, from :func:`summarize`.

    ``by``: one of :data:`BY_CHOICES` or several comma-separated (:func:`parse_by`).
    ``kind`` and ``mode`` only order the rows (summarize splits by kind x mode
    anyway); the others (file, mn, cn) make groups.  With more than one group and
    ``combined``, a last group labelled ``(all)`` summarises every episode together:
    that is where the early/standard ratio appears when each input holds one kind only
    (e.g. ``standard.pcap`` against ``early.pcap``).

    ``settings``: how the claim is tested and the intervals made (minimum samples,
    tolerance, bootstrap seed...), the same for every group; None: the defaults of
    ``analyze --summary``.  A caller that shows this table next to a summary made with
    other settings (the HTML report) passes its own, so one page has one rule."""
    from ebutool.analysis import summarize
    from ebutool.analysis.claim_stats import DEFAULT_SETTINGS

    if settings is None:
        settings = DEFAULT_SETTINGS

    cols = parse_by(by)
    for c in cols:
        if c not in episodes.columns:
            raise UsageError(f"--by {c}: the episodes have no {c!r} column")
    outer = [c for c in cols if c not in ("kind", "mode")]
    parts = []
    groups: list[tuple[tuple[str, ...], pd.DataFrame]] = (
        list(_group_values(episodes, outer)) if outer else [((), episodes)]
    )
    if outer and combined and len(groups) > 1:
        groups.append(((ALL_GROUPS,) * len(outer), episodes))
    for values, rows in groups:
        part = _ordered(summarize(rows, settings=settings).copy(), cols)
        for i, (c, v) in enumerate(zip(outer, values, strict=True)):
            part.insert(i, c, v)
        parts.append(part)
    if not parts:
        empty = summarize(episodes, settings=settings).copy()
        for i, c in enumerate(outer):
            empty.insert(i, c, pd.Series(dtype=object))
        return _lead(empty, cols)
    return _lead(pd.concat(parts, ignore_index=True), cols)


def _group_values(
    episodes: pd.DataFrame, cols: Sequence[str]
) -> Iterable[tuple[tuple[str, ...], pd.DataFrame]]:
    """(values of ``cols``, rows) per group, in order of first appearance ("-": missing).
    One group (one input) is the table itself, not a copy of it (issue 12)."""
    codes, labels = group_codes(episodes, cols)
    if len(labels) == 1:
        del codes  # (not held while the one group is summarised)
        yield labels[0], episodes
        return
    for i, values in enumerate(labels):
        yield values, episodes[codes == i]


def group_codes(episodes: pd.DataFrame, cols: Sequence[str]) -> tuple[np.ndarray, list]:
    """(per row the number of its group, each group's labels: its values of ``cols`` as
    text, "-" for missing), the groups in order of first appearance.  Worked out on
    each column's distinct values, not on a Python tuple per row."""
    combined = np.zeros(len(episodes), dtype=np.int64)
    texts: list[list[str]] = []
    for c in cols:
        found, uniques = pd.factorize(episodes[c], use_na_sentinel=True)
        # equal texts of different values are one group, as the labels cannot tell them apart
        text_codes, text = pd.factorize(pd.Index([str(u) for u in uniques] + ["-"], dtype=object))
        combined = combined * len(text) + text_codes[found]
        texts.append([str(t) for t in text])
    codes, keys = pd.factorize(combined)
    labels = []
    for key in keys:
        rest, values = int(key), []
        for names in reversed(texts):
            rest, at = divmod(rest, len(names))
            values.append(names[at])
        labels.append(tuple(reversed(values)))
    return codes, labels


def _ordered(table: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """summarize's rows (kind-major) mode-major where ``mode`` comes before ``kind``."""
    from ebutool.analysis import KINDS, MODES

    if "mode" not in cols or ("kind" in cols and cols.index("kind") < cols.index("mode")):
        return table
    order = {v: i for i, v in enumerate([*MODES, "all"])}
    korder = {v: i for i, v in enumerate(KINDS)}
    table["_m"] = table["mode"].map(lambda v: order.get(v, len(order)))
    table["_k"] = table["kind"].map(lambda v: korder.get(v, len(korder)))
    return table.sort_values(["_m", "_k"], kind="stable").drop(columns=["_m", "_k"])


def _lead(table: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """``table`` with the ``cols`` first (in that order), the index reset."""
    lead = [c for c in cols if c in table.columns]
    return table[lead + [c for c in table.columns if c not in lead]].reset_index(drop=True)


def predicted_send_ms(row) -> float | None:
    """The formula value that predicts this episode's send latency (by kind, mode)."""
    name = predicting_formula(
        PROCEDURE_OF_KIND.get(row.get("kind")), "send_latency", row.get("mode")
    )
    return _num(row.get(f"{name}_ms")) if name else None


def predicted_recv_ms(row) -> float | None:
    """The formula value that predicts this episode's receive latency (by kind)."""
    name = predicting_formula(
        PROCEDURE_OF_KIND.get(row.get("kind")), "recv_latency", row.get("mode")
    )
    return _num(row.get(f"{name}_ms")) if name else None


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


SEPARATORS = "-_./ "  # a shortened name is cut at one of these (short_names)


def short_names(names: Sequence[str]) -> tuple[dict[str, str], str, str]:
    """``({name: shortened}, prefix, suffix)``: each name without the beginning and the
    end every name shares, cut at a separator (``run-1-a.pcap``, ``run-1-b.pcap`` ->
    ``a``, ``b``; prefix ``run-1-``, suffix ``.pcap``).  Fewer than two names, or
    nothing shared: the names unchanged.  Distinct names stay distinct."""
    names = list(dict.fromkeys(names))
    if len(names) < 2:
        return {n: n for n in names}, "", ""
    prefix = os.path.commonprefix(names)
    prefix = prefix[: max((i + 1 for i, ch in enumerate(prefix) if ch in SEPARATORS), default=0)]
    suffix = os.path.commonprefix([n[::-1] for n in names])[::-1]
    suffix = suffix[
        min((i for i, ch in enumerate(suffix) if ch in SEPARATORS), default=len(suffix)) :
    ]
    if any(len(n) <= len(prefix) + len(suffix) for n in names):
        return {n: n for n in names}, "", ""
    return {n: n[len(prefix) : len(n) - len(suffix)] for n in names}, prefix, suffix


def figure_columns(by: str | Sequence[str]) -> list[str]:
    """The figure's group columns: the ``by`` columns, and ``mode`` after them when
    they do not name it (a figure never pools the modes the claim keeps apart)."""
    cols = parse_by(by)
    return cols if "mode" in cols else [*cols, "mode"]


def latency_samples(episodes: pd.DataFrame, by: str | Sequence[str] = "file") -> dict:
    """``{panel: {group: {"observed": [...], "predicted": [...]}}}`` in ms, panels
    ``send`` and ``receive``: what :func:`ebutool.report.plots.distribution_figure` draws.
    Groups: :func:`figure_columns` (``by`` and mode), labelled "value, value", file
    names shortened (:func:`short_names`), an empty kind or mode "not_observable" as in the
    summary.  Only the episodes whose latencies the summary pools (quality ok,
    complete: :func:`ebutool.analysis.summary.counted_mask`; of the MN's or merged views:
    :func:`ebutool.analysis.summary.mn_view_mask`); missing values are left out (so n
    differs between series)."""
    cols = figure_columns(by)
    out: dict = {"send": {}, "receive": {}}
    for c in cols:
        if c not in episodes.columns:
            raise UsageError(f"--by {c}: the episodes have no {c!r} column")
    if len(episodes):
        episodes = episodes[counted_mask(episodes).to_numpy() & mn_view_mask(episodes)]
    counted = episodes
    # an empty kind or mode is the group "not_observable", as in the summary (not "-")
    labelled = {c: group_labels(counted[c]) for c in ("kind", "mode") if c in cols}
    if labelled:
        counted = counted.assign(**labelled)
    if "file" in cols and len(counted):
        names = short_names([str(f) for f in counted["file"].dropna()])[0]
        counted = counted.assign(file=counted["file"].map(lambda f: names.get(str(f), f)))
    for label, rows in _groups(counted, cols):
        recs = rows.to_dict("records")
        send_obs = [_num(r.get("send_latency_ms")) for r in recs]
        recv_obs = [_num(r.get("recv_latency_ms")) for r in recs]
        out["send"][label] = {
            "observed": [v for v in send_obs if v is not None],
            "predicted": [v for v in map(predicted_send_ms, recs) if v is not None],
        }
        out["receive"][label] = {
            "observed": [v for v in recv_obs if v is not None],
            "predicted": [v for v in map(predicted_recv_ms, recs) if v is not None],
        }
    return out


def plot_title(
    by: str | Sequence[str], kind: str = "cdf", episodes: pd.DataFrame | None = None
) -> str:
    """The distribution figure's title: the groups (:func:`figure_columns`), how
    observed and predicted are told apart, and (given the ``episodes``) what the
    shortened file names left out."""
    how = (
        "observed (solid) and predicted from each episode's RTTs (dashed)"
        if kind == "cdf"
        else "observed and predicted from each episode's RTTs (hatched)"
    )
    title = f"Latency after handover by {', '.join(figure_columns(by))}: {how}"
    if episodes is not None and "file" in parse_by(by) and "file" in episodes.columns:
        _, prefix, suffix = short_names([str(f) for f in episodes["file"].dropna()])
        if prefix or suffix:
            title += f"\nfiles {prefix}*{suffix}"
    return title
