"""The episode table of several views of one run (``vantage=multi``, issue 13 item 3).

:func:`analyze_views` merges the views (ebutool.analysis.merged_views.merge_views), analyses
the timeline as the reference view (the MN's when there is one, so the rows carry the
MN view's values), fills the one-way delays (ebutool.analysis.owd) and says on stderr
(``df.attrs["notes"]``) and in warnings what it did: the clocks with their
uncertainty (``df.attrs["clocks"]``), the messages taken from other views, the views
that share nothing (analysed on their own), the clocks too uncertain to give one-way
delays, and the contradicting views.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ebutool.analysis.merged_views import MergedViews, View, merge_views
from ebutool.analysis.owd import apply_owd, unreliable
from ebutool.core.constants import DEFAULT_CONFIG, ProtocolConfig
from ebutool.core.diagnostics import Diagnostics

if TYPE_CHECKING:
    import pandas as pd

MULTI = "multi"


def analyze_views(
    views: Sequence[View],
    *,
    config: ProtocolConfig = DEFAULT_CONFIG,
    diag: Diagnostics | None = None,
    oracle=None,
    clock_offsets: dict[str, tuple[float, float]] | None = None,
    mn: str | None = None,
    cn: str | None = None,
) -> pd.DataFrame:
    """One row per episode of the run the ``views`` saw (module doc); views that cannot
    be merged are analysed on their own, their rows after the merged ones.
    ``clock_offsets``: {view label: (offset s, drift ppm)} instead of the estimate."""
    import pandas as pd

    from ebutool.analysis import analyze_records

    diag = diag if diag is not None else Diagnostics()
    merged = merge_views(views, clock_offsets)
    _warn(merged, diag)
    ref = merged.ref
    df = analyze_records(
        merged.records,
        mn,
        cn,
        config,
        diag,
        oracle=oracle,
        check=False,
        vantage=ref.role,
        label=ref.label,
    )
    placed = len(views) - len(merged.apart)
    if placed > 1:
        df["vantage"] = pd.Series(MULTI, index=df.index, dtype=object)
    bad = unreliable(merged.clocks, df)
    for fix in bad:
        diag.warn(
            "clock_unreliable",
            f"{fix.label}: clock offset uncertain by {fix.uncertainty_ms:.3f} ms, more than the "
            "smallest RTT: one-way delays left empty",
        )
    if placed > 1:
        df = apply_owd(df, merged.samples, frozenset(c.label for c in bad))
    frames = [df]
    for view in merged.apart:
        alone = analyze_records(
            view.records,
            mn,
            cn,
            config,
            diag,
            oracle=oracle,
            check=False,
            vantage=view.role,
            label=view.label,
        )
        frames.append(alone)
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else df
    out.attrs["clocks"] = [_clock_dict(c, c in bad) for c in merged.clocks]
    out.attrs["notes"] = notes(merged)
    out.attrs["vantage"] = [
        {"source": v.label, "role": v.role, "evidence": "view of a merged run", "given": False}
        for v in views
    ]
    return out


def _clock_dict(fix, bad: bool) -> dict[str, object]:
    return {
        "source": fix.label,
        "role": fix.role,
        "clock_offset_ms": fix.offset_ms,
        "clock_drift_ppm": fix.drift_ppm,
        "uncertainty_ms": fix.uncertainty_ms,
        "t_ref_ns": fix.t0_ns,  # the reference time clock_offset_ms is at
        "given": fix.given,
        "reliable": not bad,
    }


def notes(merged: MergedViews) -> list[str]:
    """The stderr lines of a merge (module doc)."""
    ref = merged.ref
    out = [f"merged views: reference {ref.label} ({ref.role})"]
    out += [fix.line() for fix in merged.clocks]
    for label, n in sorted(merged.reconstructed.items()):
        out.append(f"{n} messages the reference view lacks taken from {label}")
    if merged.elsewhere:
        out.append(
            f"{merged.elsewhere} messages the reference view lacks left out "
            f"(they never pass the {ref.role}'s point)"
        )
    if merged.not_reconstructed:
        out.append(
            f"{merged.not_reconstructed} messages the reference view lacks left out "
            "(no one-way delay to move them with)"
        )
    return out


def _warn(merged: MergedViews, diag: Diagnostics) -> None:
    ref = merged.ref
    for view in merged.apart:
        if view.label in merged.unestimated:
            diag.warn(
                "clock_not_estimated",
                f"{view.label} shares messages with {ref.label}, but not both ways at once: "
                "its clock cannot be estimated (give --clock-offset); analysed on its own",
            )
        else:
            diag.warn(
                "views_share_nothing",
                f"{view.label} shares no message with {ref.label}: not a view of the same run, "
                "analysed on its own",
            )
    for (a, b, msg), n in sorted(merged.contradictions.items()):
        diag.warn(
            "contradicting_views",
            f"{a} and {b}: {n} {msg} seen arriving before leaving, after clock correction "
            "(not used for one-way delays)",
        )


CLOCK_COLUMNS = ("clock_source", "clock_offset_ms", "clock_drift_ppm", "clock_uncertainty_ms")


def with_clocks(summary: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """``summary`` (ebutool.analysis.summarize of ``df``) and, when ``df`` is of merged
    views, one row of kind ``clock`` per view placed on the reference's clock: its
    ``clock_offset_ms`` (at the reference's first shared message), ``clock_drift_ppm``
    and ``clock_uncertainty_ms`` (empty when given by hand)."""
    import pandas as pd

    clocks = df.attrs.get("clocks", [])
    if not clocks:
        return summary
    rows = [
        {
            "kind": "clock",
            "clock_source": c["source"],
            "clock_offset_ms": c["clock_offset_ms"],
            "clock_drift_ppm": c["clock_drift_ppm"],
            "clock_uncertainty_ms": c["uncertainty_ms"],
        }
        for c in clocks
    ]
    out = pd.concat([summary, pd.DataFrame(rows)], ignore_index=True)
    out["clock_source"] = out["clock_source"].astype(object)
    out["clock_source"] = out["clock_source"].where(out["clock_source"].notna(), None)
    for name in ("clock_offset_ms", "clock_drift_ppm", "clock_uncertainty_ms"):
        out[name] = out[name].astype("float64")
    for name in summary.columns:
        if str(summary[name].dtype) in ("Int64", "boolean"):
            out[name] = out[name].astype(summary[name].dtype)
    return out
