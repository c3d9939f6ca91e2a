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

import pandas as pd

from ebutool.analysis.claim import CLAIM_MODES, OBSERVED
from ebutool.analysis.formulas import predicting_formula
from ebutool.analysis.summary import counted_mask
from ebutool.report.compare import predicted_recv_ms, predicted_send_ms

RASTER_POINTS = 1000
SVG_PARAMS: dict[Any, Any] = {"svg.fonttype": "none", "svg.hashsalt": "ebutool-report"}
_ID = re.compile(r'(id="|url\(#|href="#)')


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
    the counted episodes of the kinds the draft's formulas predict."""
    out: dict = {"send": {}, "receive": {}}
    if episodes.empty:
        return out
    counted = episodes[counted_mask(episodes)]
    for (kind, mode), rows in counted.groupby(["kind", "mode"], sort=True, dropna=False):
        if kind not in ("standard", "early", "early_fallback"):
            continue
        recs = rows.to_dict("records")
        label = f"{kind}{sep}{mode}"
        for panel, col, predict in (
            ("send", "send_latency_ms", predicted_send_ms),
            ("receive", "recv_latency_ms", predicted_recv_ms),
        ):
            obs = [v for v in (_num(r.get(col)) for r in recs) if v is not None]
            pred = [v for v in map(predict, recs) if v is not None]
            out[panel][label] = {"observed": obs, "predicted": pred}
    return out


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
        from ebutool.report.html.data import with_file

        grouped = with_file(episodes)
        title = compare.plot_title(by, "cdf")
        fig = plots.distribution_figure(compare.latency_samples(grouped, by), "cdf", title=title)
        caption = f"Empirical CDFs per {by}, as ebutool compare --by {by} --plot draws them"
        out.append((caption, svg_text(fig, "dist-by-")))
    return out


def saving_points(episodes: pd.DataFrame) -> dict[str, tuple[list[float], list[float]]]:
    """``{quantity: (rtt_ro_ms, saving_ms)}`` per counted early episode of a known mode:
    the standard latency predicted from its own RTTs minus the latency observed."""
    out: dict[str, tuple[list[float], list[float]]] = {q: ([], []) for q in OBSERVED}
    if episodes.empty:
        return out
    early = episodes[(episodes["kind"] == "early") & counted_mask(episodes)]
    for r in early.to_dict("records"):
        mode, rtt = r.get("mode"), _num(r.get("rtt_ro_ms"))
        if mode not in CLAIM_MODES or rtt is None:
            continue
        for q in OBSERVED:
            name = predicting_formula("standard", q, mode)
            ref, obs = _num(r.get(f"{name}_ms")), _num(r.get(f"{q}_ms"))
            if ref is not None and obs is not None:
                out[q][0].append(rtt)
                out[q][1].append(ref - obs)
    return out


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
