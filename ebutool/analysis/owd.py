"""One-way delays of merged views: ``owd_mn_ha_ms``, ``owd_ha_cn_ms``, ``owd_mn_cn_ms``
(issue 13 item 3, DESIGN.md "Vantage point").

A row's one-way delay of a leg is the mean of its two directions, each the mean of
the delay samples (ebutool.analysis.merged_views.DelaySample) of that leg and direction that
belong to the row: the same MN, the same care-of address for the legs that reach the
MN, the row's CN for the legs that reach a CN, passing the MN's end between the row's
handover and the MN's next one.  The mean of both directions is what the symmetric
clock estimate leaves exact (its error cancels); a single direction is not.  An empty
value gets its reason in the row's diagnosis: ``owd_<leg>_unobserved`` (no view at
one of its ends, or no message seen at both), ``owd_<leg>_one_direction`` (messages of
one direction only), ``clock_unreliable`` (a view's offset is less certain than the
smallest RTT of the table, so no one-way delay is given, see :func:`unreliable`).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ebutool.analysis.merged_views import ClockFix, DelaySample

if TYPE_CHECKING:
    import pandas as pd

# column -> leg (ebutool.analysis.merged_views.leg_of)
OWD_COLUMNS = {"owd_mn_ha_ms": "mn_ha", "owd_ha_cn_ms": "ha_cn", "owd_mn_cn_ms": "mn_cn"}
RTT_COLUMNS = ("rtt_ha_ms", "rtt_bt_ms", "rtt_ro_ms")
WINDOW_MARGIN_NS = 1_000_000  # t_handover is float epoch seconds: its rounding, and more
CLOCK_UNRELIABLE = "clock_unreliable"


def smallest_rtt_ms(df: pd.DataFrame) -> float | None:
    values = [v for c in RTT_COLUMNS if c in df for v in df[c].dropna()]
    return min(values) if values else None


def unreliable(clocks: Sequence[ClockFix], df: pd.DataFrame) -> list[ClockFix]:
    """The estimated clocks whose uncertainty exceeds the smallest RTT of ``df``."""
    floor = smallest_rtt_ms(df)
    if floor is None:
        return []
    return [c for c in clocks if c.uncertainty_ms is not None and c.uncertainty_ms > floor]


def apply_owd(
    df: pd.DataFrame, samples: Sequence[DelaySample], bad_clocks: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """``df`` (a merged table) with its one-way delay columns filled (module doc);
    ``bad_clocks``: the labels of the views whose clocks are unreliable (the samples
    they are in give no value)."""
    import pandas as pd

    df = df.copy()
    starts = _starts(df)
    values: dict[str, list[float | None]] = {c: [] for c in OWD_COLUMNS}
    notes: list[set[str]] = []
    by_mn: dict[str | None, list[DelaySample]] = {}
    for s in sorted(samples, key=lambda s: s.t_ns):
        by_mn.setdefault(s.mn, []).append(s)
    times = {mn: [s.t_ns for s in ss] for mn, ss in by_mn.items()}
    row: Any
    for row in df.itertuples(index=False):
        lo, hi = _window(starts, row.mn, starts_at(row))
        at = times.get(row.mn, [])
        mine = by_mn.get(row.mn, [])[bisect_left(at, lo) : bisect_left(at, hi)]
        row_notes: set[str] = set()
        for col, leg in OWD_COLUMNS.items():
            if leg != "mn_ha" and not isinstance(row.cn, str):
                values[col].append(None)  # no CN in this row: no leg to a CN
                continue
            value, note = _leg(leg, mine, row, bad_clocks)
            values[col].append(value)
            if note:
                row_notes.add(note)
        notes.append(row_notes)
    for col, vals in values.items():
        df[col] = pd.Series(vals, index=df.index, dtype="float64")
    df["diagnosis"] = [_with(d, n) for d, n in zip(df["diagnosis"], notes, strict=True)]
    return df


def _leg(leg: str, samples: list[DelaySample], row, bad_clocks: frozenset[str]) -> tuple:
    chosen = [s for s in samples if s.leg == leg and _belongs(s, leg, row)]
    if not chosen:
        return None, f"owd_{leg}_unobserved"
    chosen = [s for s in chosen if not bad_clocks.intersection(s.views)]
    if not chosen:
        return None, CLOCK_UNRELIABLE
    away = [s.delay_ns for s in chosen if s.away]
    back = [s.delay_ns for s in chosen if not s.away]
    if not away or not back:
        return None, f"owd_{leg}_one_direction"
    return (sum(away) / len(away) + sum(back) / len(back)) / 2 / 1e6, None


def _belongs(s: DelaySample, leg: str, row) -> bool:
    if leg.startswith("mn_") and s.coa != row.coa:
        return False
    return not leg.endswith("_cn") or s.peer == row.cn


def starts_at(row) -> float | None:
    for name in ("t_handover", "t_first_seen"):
        t = getattr(row, name, None)
        if t is not None and not (isinstance(t, float) and math.isnan(t)):
            return float(t)
    return None


def _starts(df: pd.DataFrame) -> dict[str, list[int]]:
    """MN -> the sorted start times (ns) of its episodes."""
    out: dict[str, set[int]] = {}
    row: Any
    for row in df.itertuples(index=False):
        t = starts_at(row)
        if t is not None:
            out.setdefault(row.mn, set()).add(round(t * 1e9))
    return {mn: sorted(ts) for mn, ts in out.items()}


def _window(starts: dict[str, list[int]], mn: str, t: float | None) -> tuple[float, float]:
    if t is None:
        return -math.inf, math.inf
    t_ns = round(t * 1e9)
    later = [s for s in starts.get(mn, []) if s > t_ns + WINDOW_MARGIN_NS]
    end = later[0] - WINDOW_MARGIN_NS if later else math.inf
    return t_ns - WINDOW_MARGIN_NS, end


def _with(diagnosis: object, codes: set[str]) -> str | None:
    notes = set(diagnosis.split(";")) if isinstance(diagnosis, str) and diagnosis else set()
    notes |= codes
    return ";".join(sorted(notes)) or None
