"""Every figure ebutool draws (matplotlib is the optional extra ``ebutool[plot]``).

matplotlib is imported lazily, only by the functions here, and only through the
object-oriented API (:class:`matplotlib.figure.Figure`, no pyplot, no GUI backend),
so the rest of ebutool works without it and figures render the same everywhere.
Each ``*_figure`` function returns the Figure (tests inspect its axes, lines and
legend); :func:`save_figure` writes it as PNG, SVG or PDF by the path's extension.

    sweep_figure(df, variable, fixed)       model sweep: latency vs one RTT, one line per formula
    distribution_figure(samples, kind)      compare: CDF or box plot per group,
                                            observed vs predicted
    ladder_figure(ladder)                   timeline: MN/HA/CN ladder diagram of one episode
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ebutool.core.errors import UsageError
from ebutool.core.output_file import OutputFile
from ebutool.report.paper_figures import (
    DPI,
    figure_bytes,
    legend_below_xlabel,
    untangle_tick_labels,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ebutool.report.timeline import Ladder
    from ebutool.report.timeline import Step as LadderRow

MISSING_MATPLOTLIB = "plotting needs matplotlib: pip install 'ebutool[plot]'"
FIGURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
BOX_PANEL_MAX_IN = 7.0  # widest box-plot panel (inches): more groups turn their labels

# Human names for the six formulas (legend text); the column name follows in the label.
FORMULA_LABELS = {
    "std_send_conserv": "standard, send, conservative",
    "std_send_optimst": "standard, send, optimistic",
    "std_recv": "standard, receive",
    "early_send_conserv": "early, send, conservative",
    "early_send_optimst": "early, send, optimistic",
    "early_recv": "early, receive",
}
FORMULA_TEXT = {
    "std_send_conserv": "max(HA, BT, RO) + RO",
    "std_send_optimst": "max(HA, BT, RO)",
    "std_recv": "max(HA, BT, RO) + RO",
    "early_send_conserv": "max(HA, RO)",
    "early_send_optimst": "0",
    "early_recv": "RO",
}
# colour = which latency (tab10 colours), line style = procedure
_PAIR_COLOURS = {"send_conserv": "#1f77b4", "send_optimst": "#ff7f0e", "recv": "#2ca02c"}
_VAR_LABELS = {"rtt_ha": "RTT_HA", "rtt_bt": "RTT_BT", "rtt_ro": "RTT_RO"}


def require_matplotlib():
    """The matplotlib module, or UsageError with the install hint (exit 2)."""
    try:
        import matplotlib
        import matplotlib.figure  # the figure API the plots use must import too
    except ImportError:
        raise UsageError(MISSING_MATPLOTLIB) from None
    return matplotlib


def figure_format(path: str) -> str:
    """``png``/``svg``/``pdf`` from the path's extension; UsageError otherwise."""
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in FIGURE_FORMATS:
        raise UsageError(f"figure {path!r}: the file name must end in .png, .svg or .pdf")
    return FIGURE_FORMATS[ext]


def check_plot_target(path: str) -> str:
    """Everything a plotting option needs, checked before any work is done:
    matplotlib is importable and the extension names a format.  Returns the format."""
    fmt = figure_format(path)
    require_matplotlib()
    return fmt


def new_figure(width: float, height: float) -> Figure:
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save_figure(fig: Figure, path: str | OutputFile) -> None:
    """Write ``fig`` to ``path`` (PNG, SVG or PDF by extension): an OutputFile (checked
    before the work, put in place when the command ends) or a file name, written now
    through one (ebutool.core.output_file)."""
    out = path if isinstance(path, OutputFile) else OutputFile(path, "figure")
    out.write(figure_bytes(fig, figure_format(out.path)))
    if not isinstance(path, OutputFile):
        try:
            out.commit()
        finally:
            out.discard()


def _ms(x: float) -> str:
    return f"{x:g} ms"


# --------------------------------------------------------------------------- model sweep


def sweep_figure(df, variable: str, fixed: Mapping[str, float]) -> Figure:
    """Predicted latency (ms) against the swept RTT, one line per formula.

    ``df`` is :func:`ebutool.analysis.formula_table.sweep_table` output, ``variable`` the swept RTT
    (``rtt_ha``/``rtt_bt``/``rtt_ro``), ``fixed`` the other two RTTs in ms.  Colour
    tells the latency (send conservative / send optimistic / receive), a solid line
    the standard procedure and a dashed line the early one.  A formula whose line
    coincides over the whole sweep with one drawn before says so in the legend
    (std_recv always equals std_send_conserv)."""
    from ebutool.analysis.formulas import FORMULAS

    fig = new_figure(7.0, 4.6)
    ax = fig.add_subplot()
    x = df[f"{variable}_ms"].to_numpy(dtype=float)
    drawn: dict[str, tuple] = {}
    for name in FORMULAS:
        y = df[f"{name}_ms"].to_numpy(dtype=float)
        pair = name.split("_", 1)[1]
        early = name.startswith("early")
        same = next(
            (
                other
                for other, yy in drawn.items()
                if len(yy) == len(y)
                and all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(yy, y, strict=False))
            ),
            None,
        )
        label = f"{FORMULA_LABELS[name]}: {FORMULA_TEXT[name]}"
        if same is not None:
            label += f"  (= {FORMULA_LABELS[same].split(',', 1)[1].strip()})"
        if same is None:
            ax.plot(
                x,
                y,
                label=label,
                color=_PAIR_COLOURS[pair],
                linestyle="--" if early else "-",
                linewidth=1.8,
            )
        else:  # on top of an identical line: markers only, so both stay visible
            ax.plot(
                x,
                y,
                label=label,
                color=_PAIR_COLOURS[pair],
                linestyle="none",
                marker="o",
                markersize=3.5,
                markevery=max(1, len(x) // 20),
            )
        drawn[name] = tuple(y)
    var = _VAR_LABELS[variable]
    ax.set_xlabel(f"{var} (ms)")
    ax.set_ylabel("predicted latency after handover (ms)")
    fixed_text = ", ".join(
        f"{_VAR_LABELS[v]} = {_ms(fixed[v])}" for v in _VAR_LABELS if v != variable
    )
    ax.set_title(f"Predicted binding-update latency vs {var} ({fixed_text})", fontsize=10)
    ax.set_xlim(float(x.min()), float(x.max()) if x.max() > x.min() else float(x.min()) + 1)
    top = max(float(df[f"{n}_ms"].max()) for n in FORMULAS)
    ax.set_ylim(-0.02 * max(top, 1.0), 1.05 * max(top, 1.0))  # a line at 0 stays visible
    ax.grid(True, linewidth=0.4, alpha=0.5)
    # below the axes, standard (solid) in the left column, early (dashed) in the right
    fig.legend(
        loc="outside lower center",
        ncols=2,
        fontsize=7.5,
        frameon=False,
        title="formula (HA, BT, RO = RTT_HA, RTT_BT, RTT_RO)",
        title_fontsize=7.5,
    )
    return fig


# --------------------------------------------------------------------------- compare


def distribution_figure(
    samples: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]],
    kind: str = "cdf",
    title: str | None = None,
) -> Figure:
    """Latency distributions per group, observed next to predicted.

    ``samples[panel][group][series]`` is a sequence of latencies in ms, where
    ``panel`` is e.g. ``"send"``/``"receive"`` (one subplot each), ``group`` one
    compared group (file, kind, ...) and ``series`` ``"observed"`` or
    ``"predicted"``.  ``kind`` is ``cdf`` (empirical CDF; colour = group, solid =
    observed, dashed = predicted) or ``box`` (one box per group and series)."""
    if kind not in ("cdf", "box"):
        raise UsageError(f"--plot-kind must be cdf or box, not {kind!r}")
    from matplotlib import colormaps

    panels = list(samples)
    groups = list(dict.fromkeys(g for p in panels for g in samples[p]))
    cmap = colormaps["tab10"]
    colours = {g: cmap(i % 10) for i, g in enumerate(groups)}
    fig = new_figure(*_distribution_size(kind, len(panels), len(groups)))
    axes = fig.subplots(1, max(len(panels), 1), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=False):
        if kind == "cdf":
            _cdf_panel(ax, samples[panel], colours)
        else:
            _box_panel(ax, samples[panel], colours)
        ax.set_title(f"{panel} latency", fontsize=10)
        ax.grid(True, linewidth=0.4, alpha=0.5)
    if kind == "box":
        from matplotlib.patches import Patch

        fig.legend(
            handles=[
                Patch(facecolor="grey", alpha=0.85, label="observed (left box of a pair)"),
                Patch(
                    facecolor="grey", alpha=0.35, hatch="//", label="predicted (right box, hatched)"
                ),
            ],
            title="colour = group; n = observed / predicted samples",
            title_fontsize=7.5,
            fontsize=7.5,
            loc="outside lower center",
            ncols=2,
            frameon=False,
        )
    if title:
        fig.suptitle(title, fontsize=10)
    if kind == "box":
        untangle_tick_labels(fig)
    else:
        for ax in axes:
            legend_below_xlabel(ax, fig)
    return fig


def _distribution_size(kind: str, panels: int, groups: int) -> tuple[float, float]:
    """(width, height) in inches: a box panel widens with its groups, a CDF figure grows
    taller with its legend (two lines a group, below the axes)."""
    if kind == "box":
        return max(min(max(4.2, 0.9 * groups), BOX_PANEL_MAX_IN) * panels, 5.0), 4.8
    return max(4.2 * panels, 5.0), 3.6 + 0.2 * 2 * max(groups, 1)


def _cdf_panel(ax, by_group, colours) -> None:
    import numpy as np

    any_line = False
    for group, series in by_group.items():
        for name, style in (("observed", "-"), ("predicted", "--")):
            vals = np.sort(
                np.asarray(
                    [v for v in series.get(name, ()) if v is not None and not math.isnan(v)],
                    dtype=float,
                )
            )
            if not len(vals):
                continue
            y = np.arange(1, len(vals) + 1) / len(vals)
            ax.step(
                np.concatenate([[vals[0]], vals]),
                np.concatenate([[0.0], y]),
                where="post",
                color=colours[group],
                linestyle=style,
                linewidth=1.5,
                label=f"{group}, {name} (n={len(vals)})",
            )
            any_line = True
    ax.set_xlabel("latency after handover (ms)")
    ax.set_ylabel("fraction of episodes")
    ax.set_ylim(0, 1.02)
    if any_line:
        ax.set_xlim(left=min(0.0, ax.get_xlim()[0]))
        # below the axes: never on top of a curve
        ax.legend(  # placed below the x label by legend_below_xlabel
            fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=1, frameon=False
        )
    else:
        ax.text(0.5, 0.5, "no samples", ha="center", va="center", transform=ax.transAxes)


def _box_panel(ax, by_group, colours) -> None:
    data, positions, labels, face = [], [], [], []
    pos = 1.0
    ticks, tick_labels = [], []
    for group, series in by_group.items():
        start = pos
        for name in ("observed", "predicted"):
            vals = [v for v in series.get(name, ()) if v is not None and not math.isnan(v)]
            if vals:
                data.append(vals)
                positions.append(pos)
                labels.append(name)
                face.append((colours[group], name))
            pos += 1.0
        ticks.append((start + pos - 1.0) / 2)
        n_obs, n_pred = (
            sum(1 for v in series.get(k, ()) if v is not None and not math.isnan(v))
            for k in ("observed", "predicted")
        )
        tick_labels.append(f"{group.replace(', ', chr(10))}\nn={n_obs} / {n_pred}")
        pos += 0.6
    if data:
        bp = ax.boxplot(
            data,
            positions=positions,
            widths=0.7,
            patch_artist=True,
            medianprops={"color": "black"},
            showfliers=False,
        )
        for patch, (colour, name) in zip(bp["boxes"], face, strict=False):
            patch.set_facecolor(colour)
            patch.set_alpha(0.85 if name == "observed" else 0.35)
            if name == "predicted":
                patch.set_hatch("//")
        # every sample as a dot over its box (small samples say more as points than as boxes)
        import numpy as np

        rng = np.random.default_rng(0)  # fixed jitter: the same figure every run
        for vals, x, (colour, _) in zip(data, positions, face, strict=False):
            ax.plot(
                x + rng.uniform(-0.18, 0.18, len(vals)),
                vals,
                linestyle="none",
                marker="o",
                markersize=2.8,
                color=colour,
                markeredgecolor="black",
                markeredgewidth=0.3,
                alpha=0.9,
                zorder=3,
            )
    else:
        ax.text(0.5, 0.5, "no samples", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks(ticks, tick_labels, fontsize=8)
    ax.set_ylabel("latency after handover (ms)")
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))


# --------------------------------------------------------------------------- timeline


def ladder_figure(ladder: Ladder) -> Figure:
    """The ladder (message sequence) diagram of one episode, like the draft's
    Figures 1 and 2: one vertical lane per node (MN, HA, CN), one horizontal arrow
    per message in time order, its time offset from t0 (ms) and frame number on the
    left, the handover as a wavy line.  Rows are evenly spaced (messages a few
    microseconds apart stay readable); the real offsets are the printed labels."""
    rows = ladder.rows()
    n = len(rows)
    fig = new_figure(7.4, 1.5 + 0.34 * max(n, 1))
    ax = fig.add_subplot()
    lane_x = {lane: 1.45 + 2.2 * i for i, lane in enumerate(ladder.lanes)}
    top, bottom = 0.0, -(n + 0.2)
    _ladder_lanes(ax, ladder, lane_x, top, bottom)
    xmin, xmax = min(lane_x.values()), max(lane_x.values())
    for i, row in enumerate(rows):
        y = -(i + 0.6)
        if row.kind == "handover":
            _ladder_handover(ax, row, y, xmin, xmax)
        else:
            _ladder_message(ax, row, y, lane_x)
    ax.set_xlim(-0.45, xmax + 1.0)
    ax.set_ylim(bottom - 0.1, top + 0.75)
    ax.axis("off")
    sub = "\n".join(part.strip() for part in ladder.subtitle.split("; ")) if ladder.subtitle else ""
    ax.set_title(ladder.title + ("\n" + sub if sub else ""), fontsize=8, loc="left")
    return fig


def _ladder_lanes(
    ax: Axes, ladder: Ladder, lane_x: dict[str, float], top: float, bottom: float
) -> None:
    """The lanes (a vertical line per node, its name and address on top) and the heading
    of the time and frame column."""
    for lane, x in lane_x.items():
        ax.plot([x, x], [top, bottom], color="black", linewidth=1.2, solid_capstyle="butt")
        ax.text(
            x,
            top + 0.35,
            f"{ladder.lane_names.get(lane, lane)}",
            ha="center",
            va="bottom",
            fontsize=8.5,
            fontweight="bold",
        )
        addr = ladder.addresses.get(lane)
        if addr:
            ax.text(x, top + 0.12, addr, ha="center", va="bottom", fontsize=6.5, color="#444444")
    ax.text(
        -0.35,
        top + 0.12,
        "t − t0 (ms)   frame",
        ha="left",
        va="bottom",
        fontsize=7,
        color="#444444",
    )


def _ladder_handover(ax: Axes, row: LadderRow, y: float, xmin: float, xmax: float) -> None:
    """The handover: a wavy line across every lane, labelled, with its time on the left."""
    import numpy as np

    xs = np.linspace(xmin - 0.25, xmax + 0.25, 200)
    ax.plot(xs, y + 0.08 * np.sin(xs * 14), color="#b22222", linewidth=1.0)
    ax.text(
        xmin + 1.1,
        y + 0.14,
        row.label,
        ha="center",
        va="bottom",
        fontsize=7.5,
        color="#b22222",
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
    )
    ax.text(
        -0.35,
        y,
        f"{row.t_ms:9.3f}",
        ha="left",
        va="center",
        fontsize=7,
        family="monospace",
        color="#b22222",
    )


def _ladder_message(ax: Axes, row: LadderRow, y: float, lane_x: dict[str, float]) -> None:
    """One message: an arrow from sender to receiver (through the lanes it is relayed
    by), its label, and its time and frame on the left."""
    xa, xb = lane_x[row.sender], lane_x[row.receiver]
    colour = "#555555" if row.kind == "data" else "black"
    style = (0, (3, 2)) if row.kind == "data" else "-"
    path = [xa] + [lane_x[v] for v in row.via] + [xb]
    for k in range(len(path) - 1):
        ax.annotate(
            "",
            xy=(path[k + 1], y),
            xytext=(path[k], y),
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "linewidth": 1.0,
                "linestyle": style,
                "shrinkA": 0,
                "shrinkB": 0,
                "mutation_scale": 9,
            },
        )
    # the label sits on the first lane gap the message crosses, away from other lanes
    nxt = row.via[0] if row.via else row.receiver
    step_dir = 1 if lane_x[nxt] > xa else -1
    gap_end = min(
        (x for x in lane_x.values() if (x - xa) * step_dir > 0),
        key=lambda x: abs(x - xa),
        default=lane_x[nxt],
    )
    mid = (xa + gap_end) / 2
    ax.text(mid, y + 0.06, row.label, ha="center", va="bottom", fontsize=7.5, color=colour)
    ax.text(
        -0.35,
        y,
        f"{row.t_ms:9.3f}  {row.frame:>5}",
        ha="left",
        va="center",
        fontsize=7,
        family="monospace",
    )
