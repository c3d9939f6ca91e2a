"""What makes a figure usable in a paper: text kept as text, the same octets for the same
input, and labels that do not run into each other (issue 17 item 5).

:func:`figure_bytes` renders with :data:`PAPER_RC` and without a date (every figure
ebutool writes goes through it, ebutool.report.plots.save_figure);
:func:`untangle_tick_labels` and :func:`legend_below_xlabel` measure the drawn figure
and move what would overlap.  matplotlib is imported by the callers (ebutool[plot]).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 150  # dots per inch of PNG output (and of the layout's measurements)

# For a paper: text stays text (an SVG's <text>, a PDF's TrueType font: selectable and
# searchable, not one path per glyph), and no date or random id is written, so the same
# figure gives the same octets (ids come from a fixed salt).
PAPER_RC: dict[str, Any] = {"svg.fonttype": "none", "svg.hashsalt": "ebutool", "pdf.fonttype": 42}
NO_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}, "png": {}}


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """``fig`` as ``fmt`` (png, svg or pdf) octets, reproducibly (:data:`PAPER_RC`)."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(PAPER_RC):  # type: ignore[arg-type]
        fig.savefig(buf, format=fmt, dpi=DPI, metadata=NO_DATE[fmt])
    return buf.getvalue()


LABEL_GAP_PT = 4.0  # tick labels closer than this (points) count as running together


def _overlapping(texts, dpi: float) -> bool:
    """Whether any two of the (drawn, non-empty) ``texts`` overlap on the canvas, or
    come closer than :data:`LABEL_GAP_PT`."""
    pad = LABEL_GAP_PT / 2 * dpi / 72
    boxes = [t.get_window_extent().padded(pad) for t in texts if t.get_visible() and t.get_text()]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def untangle_tick_labels(fig: Figure) -> None:
    """Tick labels of the x axes that run into each other (long group names, many
    groups) are turned, 30 degrees, then upright, until they do not."""
    for angle in (30, 90):
        fig.draw_without_rendering()
        tangled = [ax for ax in fig.axes if _overlapping(ax.get_xticklabels(), fig.dpi)]
        if not tangled:
            return
        for ax in tangled:
            for label in ax.get_xticklabels():
                label.set(rotation=angle, ha="right" if angle < 90 else "center")
                label.set_rotation_mode("anchor" if angle < 90 else "default")


def legend_below_xlabel(ax: Axes, fig: Figure) -> None:
    """Move the axes' legend (if any) just below its x label and tick labels, whatever
    their height: a legend anchored at a fixed fraction of the axes may cover them."""
    from matplotlib.transforms import ScaledTranslation

    legend = ax.get_legend()
    if legend is None:
        return
    fig.draw_without_rendering()
    axes_bottom = ax.get_window_extent().y0
    below = min(
        [axes_bottom]
        + [
            t.get_window_extent().y0
            for t in [ax.xaxis.label, *ax.get_xticklabels()]
            if t.get_text()
        ]
    )
    drop = (axes_bottom - below) / fig.dpi + 0.05  # inches, and a little air
    shift = ScaledTranslation(0, -drop, fig.dpi_scale_trans)
    legend.set_bbox_to_anchor((0.5, 0.0), transform=ax.transAxes + shift)
