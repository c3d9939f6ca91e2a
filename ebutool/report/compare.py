"""Several captures/traces, or groups inside one, side by side.

The episodes come from :func:`ebutool.runner.tasks.episodes_by_file` (every input
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

(summarize already splits by kind x mode, so ``--by kind|mode`` only decide the
order and the column that leads; they matter most for ``--plot``, whose groups
they are.)  :func:`latency_samples` gives the per-group latency samples the
distribution figure draws: observed latencies next to the latency the draft's
formulas predict for each episode from its own RTTs.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ebutool.analysis import source_labels

# Which formula predicts an episode's latency: one mapping, in ebutool.analysis.formulas.
from ebutool.analysis.formulas import PROCEDURE_OF_KIND, predicting_formula
from ebutool.analysis.summary import counted_mask
from ebutool.core.errors import UsageError

BY_CHOICES = ("file", "kind", "mode", "mn", "cn")


# The ``file`` column's labels are the inputs' ``source`` labels.
file_labels = source_labels


def _check_by(by: str) -> str:
    if by not in BY_CHOICES:
        raise UsageError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")
    return by


def _groups(episodes: pd.DataFrame, by: str) -> Iterable[tuple[str, pd.DataFrame]]:
    """(label, rows) per group, in order of first appearance; a missing value
    (an HA-only episode has no CN) is its own group, labelled "-"."""
    key = episodes[by].astype(object).where(episodes[by].notna(), "-")
    for value in dict.fromkeys(key):
        yield str(value), episodes[key == value]


ALL_GROUPS = "(all)"  # the group label of the summary over every input/group together


def compare_table(episodes: pd.DataFrame, by: str = "file", combined: bool = True) -> pd.DataFrame:
    """The summary per group, the ``by`` column first, from :func:`summarize`.

    For ``file``/``mn``/``cn`` with more than one group and ``combined``, a last
    group labelled ``(all)`` summarises every episode together: that is where the
    early/standard ratio appears when each input holds one kind only (e.g.
    ``standard.pcap`` against ``early.pcap``)."""
    from ebutool.analysis import KINDS, MODES, summarize

    by = _check_by(by)
    if by not in episodes.columns:
        raise UsageError(f"--by {by}: the episodes have no {by!r} column")
    if by in ("kind", "mode"):
        table = summarize(episodes).copy()
        if by == "mode":  # summarize orders kind-major; here mode leads
            order = {v: i for i, v in enumerate([*MODES, "all"])}
            korder = {v: i for i, v in enumerate(KINDS)}
            table["_m"] = table["mode"].map(lambda v: order.get(v, len(order)))
            table["_k"] = table["kind"].map(lambda v: korder.get(v, len(korder)))
            table = table.sort_values(["_m", "_k"], kind="stable").drop(columns=["_m", "_k"])
            table = table[["mode"] + [c for c in table.columns if c != "mode"]]
        return table.reset_index(drop=True)
    parts = []
    groups = list(_groups(episodes, by))
    for label, rows in groups:
        part = summarize(rows).copy()
        part.insert(0, by, label)
        parts.append(part)
    if combined and len(groups) > 1:
        part = summarize(episodes).copy()
        part.insert(0, by, ALL_GROUPS)
        parts.append(part)
    if not parts:
        empty = summarize(episodes).copy()
        empty.insert(0, by, pd.Series(dtype=object))
        return empty
    return pd.concat(parts, ignore_index=True)


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


def latency_samples(episodes: pd.DataFrame, by: str = "file") -> dict:
    """``{panel: {group: {"observed": [...], "predicted": [...]}}}`` in ms, panels
    ``send`` and ``receive``: what :func:`ebutool.report.plots.distribution_figure` draws.
    Only the episodes the summary counts (quality ok, complete:
    :func:`ebutool.analysis.summary.counted_mask`); missing values are left out (so n
    differs between series)."""
    by = _check_by(by)
    out: dict = {"send": {}, "receive": {}}
    if by not in episodes.columns:
        raise UsageError(f"--by {by}: the episodes have no {by!r} column")
    counted = episodes[counted_mask(episodes)] if len(episodes) else episodes
    for label, rows in _groups(counted, by):
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


def plot_title(by: str, kind: str = "cdf") -> str:
    """The distribution figure's title."""
    how = (
        "observed (solid) and predicted from each episode's RTTs (dashed)"
        if kind == "cdf"
        else "observed and predicted from each episode's RTTs (hatched)"
    )
    return f"Latency after handover by {by}: {how}"
