"""The report's figures as inline SVG: text kept as text (``svg.fonttype='none'``), no
date, ids prefixed per figure so that several can live in one page.

- :func:`distribution_svgs`: observed vs predicted latencies per kind x mode (CDF and
  box plot: :func:`ebutool.report.plots.distribution_figure`), and per compared group
  when the report compares several inputs;
- :func:`saving_svg`: per early episode, the latency it saved against the standard
  latency the draft predicts from the same episode's RTTs, against its RTT_RO.

A line with more than :data:`RASTER_POINTS` points is drawn as an embedded image
(axes and text stay vector), so 10,000 episodes keep the page small.
"""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pandas as pd

from ebutool.analysis.claim import CLAIM_MODES, OBSERVED
from ebutool.analysis.formulas import PROCEDURE_OF_KIND, predicting_formula
from ebutool.analysis.summary import counted_mask, group_labels

NO_FIGURES = (
    "The figures need matplotlib, which is not installed: pip install 'ebutool[plot]'. "
    "Everything else in this page is complete."
)
RASTER_POINTS = 1000
SVG_PARAMS: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "ebutool-report"}
_ID = re.compile(r'(id="|url\(#|href="#)')


def figures_available() -> bool:
    """Whether matplotlib can draw the figures (without it the page says so)."""
    from ebutool.core.errors import UsageError
    from ebutool.report.plots import require_matplotlib

    try:
        require_matplotlib()
    except UsageError:
        return False
    return True


def figure_svgs(episodes: pd.DataFrame, by: str | None) -> list[tuple[str, str]] | None:
    """Every figure of the page, (caption, SVG), from the statistics' columns of every
    episode (``by``: compare's grouping, None when the page has no compare table); None
    when matplotlib is not installed (the page says so: :data:`NO_FIGURES`)."""
    if not figures_available():
        return None
    return [*distribution_svgs(episodes, by), saving_svg(episodes)]


def svg_text(fig: Any, prefix: str) -> str:
    """``fig`` as an ``<svg>`` element (no XML prolog) with ids prefixed by ``prefix``."""
    import matplotlib

    for ax in fig.axes:
        for artist in [*ax.lines, *ax.collections]:
            n = len(artist.get_xdata()) if hasattr(artist, "get_xdata") else 0
            n = max(n, len(getattr(artist, "get_offsets", lambda: [])()))
            if n > RASTER_POINTS:
                artist.set_rasterized(True)
    buf = io.StringIO()
    with matplotlib.rc_context(SVG_PARAMS):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    return _ID.sub(lambda m: m.group(1) + prefix, text)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def kind_mode_samples(episodes: pd.DataFrame, sep: str = ", ") -> dict:
    """``{panel: {"kind, mode": {"observed": [...], "predicted": [...]}}}`` (ms) over
    the counted episodes of the kinds the draft's formulas predict.  Read column by
    column (a group's kind and mode name its predicting formula): no row becomes a
    dict, which a million episodes could not afford (issue 12)."""
    out: dict = {"send": {}, "receive": {}}
    if episodes.empty:
        return out
    keys = episodes.loc[counted_mask(episodes), ["kind", "mode"]].astype(object)
    keys["mode"] = group_labels(keys["mode"])  # an empty mode: "not_observable", as in the summary
    for (kind, mode), rows in keys.groupby(["kind", "mode"], sort=True, dropna=False):
        if kind not in ("standard", "early", "early_fallback"):
            continue
        label = f"{kind}{sep}{mode}"
        procedure, as_held = PROCEDURE_OF_KIND.get(kind), str(mode)
        for panel, quantity in (("send", "send_latency"), ("receive", "recv_latency")):
            name = predicting_formula(procedure, quantity, as_held)
            out[panel][label] = {
                "observed": _values(episodes, f"{quantity}_ms", rows.index),
                "predicted": _values(episodes, f"{name}_ms", rows.index) if name else [],
            }
    return out


def _values(episodes: pd.DataFrame, column: str, index: pd.Index) -> list[float]:
    """The numbers of ``column`` at the rows ``index`` (in their order), missing left out."""
    if column not in episodes.columns:
        return []
    return [v for v in map(_num, episodes.loc[index, column].tolist()) if v is not None]


def distribution_svgs(episodes: pd.DataFrame, by: str | None = None) -> list[tuple[str, str]]:
    """(caption, svg) of the CDF and the box plot per kind x mode, then per ``by`` group."""
    from ebutool.report import compare, plots

    out = []
    captions = {
        "cdf": "Empirical CDFs per kind x mode: observed latencies (solid) and the draft's "
        "prediction from each episode's own RTTs (dashed)",
        "box": "The same as box plots, every episode a dot (observed left, predicted right)",
    }
    for kind in ("cdf", "box"):
        title = compare.plot_title(["kind", "mode"], kind)
        samples = kind_mode_samples(episodes, ", " if kind == "cdf" else "\n")
        fig = plots.distribution_figure(samples, kind, title=title)
        out.append((captions[kind], svg_text(fig, f"dist-{kind}-")))
    if by is not None and len(episodes):
        from ebutool.report.html.gather import with_file

        grouped = with_file(episodes)
        title = compare.plot_title(by, "cdf")
        fig = plots.distribution_figure(compare.latency_samples(grouped, by), "cdf", title=title)
        caption = f"Empirical CDFs per {by}, as ebutool compare --by {by} --plot draws them"
        out.append((caption, svg_text(fig, "dist-by-")))
    return out


def saving_points(episodes: pd.DataFrame) -> dict[str, tuple[list[float], list[float]]]:
    """``{quantity: (rtt_ro_ms, saving_ms)}`` per counted early episode of a known mode
    (in the table's order): the standard latency predicted from its own RTTs minus the
    latency observed.  Column by column, as :func:`kind_mode_samples`."""
    out: dict[str, tuple[list[float], list[float]]] = {q: ([], []) for q in OBSERVED}
    if episodes.empty:
        return out
    early = (episodes["kind"] == "early").fillna(False).to_numpy(dtype=bool)
    early = early & counted_mask(episodes).to_numpy(dtype=bool)
    mode = episodes["mode"].astype(object).to_numpy()[early]
    rtt = _floats(episodes, "rtt_ro_ms", early)
    known = pd.Series(mode, dtype=object).isin(CLAIM_MODES).to_numpy() & ~np.isnan(rtt)
    for q in OBSERVED:
        ref = np.full(len(mode), np.nan)
        for m in CLAIM_MODES:
            at = mode == m
            ref[at] = _floats(episodes, f"{predicting_formula('standard', q, m)}_ms", early)[at]
        obs = _floats(episodes, f"{q}_ms", early)
        keep = known & ~np.isnan(ref) & ~np.isnan(obs)
        out[q][0].extend(rtt[keep].tolist())
        out[q][1].extend((ref[keep] - obs[keep]).tolist())
    return out


def _floats(episodes: pd.DataFrame, column: str, rows: np.ndarray) -> np.ndarray:
    """``column`` at the boolean ``rows`` as floats (NaN: missing, or no such column)."""
    if column not in episodes.columns:
        return np.full(int(rows.sum()), np.nan)
    values = pd.to_numeric(episodes[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return values[rows]


def saving_svg(episodes: pd.DataFrame) -> tuple[str, str]:
    """(caption, svg) of the saving per early episode against its RTT_RO (module doc)."""
    from ebutool.report.plots import new_figure

    points = saving_points(episodes)
    fig = new_figure(8.4, 3.8)
    axes = fig.subplots(1, len(points), squeeze=False)[0]
    for ax, (q, (x, y)) in zip(axes, points.items(), strict=True):
        ax.set_title(q.replace("_", " "), fontsize=10)
        ax.set_xlabel("RTT_RO of the episode (ms)")
        ax.set_ylabel("standard predicted - observed (ms)")
        ax.grid(True, linewidth=0.4, alpha=0.5)
        if not x:
            ax.text(0.5, 0.5, "no early episode", ha="center", va="center", transform=ax.transAxes)
            continue
        ax.scatter(x, y, s=9, alpha=0.7, label=f"early episodes (n={len(x)})")
        top = max(max(x), 1.0)
        ax.plot([0, top], [0, top], "--", color="grey", label="saving = one RTT_RO")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.legend(fontsize=7, loc="best")
    caption = (
        "Saving per early episode (counted, conservative or optimistic): the standard "
        "latency the draft predicts from the episode's own RTTs minus the latency observed, "
        "against its RTT_RO; the dashed line is a saving of one RTT_RO"
    )
    return caption, svg_text(fig, "saving-")
