"""Summary statistics of an episode table (``ebutool analyze --summary``; reused by
``ebutool compare``), and the check of the draft's claim that an early binding update
takes half or less of the time of a standard one."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..formulas import FORMULAS
from .classify import KINDS, MODES

OBSERVED = ("send_latency", "recv_latency")
PREDICTED = tuple(FORMULAS)
CLAIM_RATIO = 0.5          # the draft's claim: early takes half or less of standard
ALL = "all"                # the mode label of a kind's rows over every mode

SUMMARY_COLUMNS: dict[str, str] = {
    "kind": "object", "mode": "object", "episodes": "Int64", "quantity": "object",
    "source": "object", "n": "Int64", "median_ms": "float64", "mean_ms": "float64",
    "p95_ms": "float64", "ratio_to_standard": "float64", "claim": "object",
}


def _stats(values: pd.Series) -> tuple[int, float, float, float]:
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if not len(v):
        return 0, math.nan, math.nan, math.nan
    return len(v), float(np.median(v)), float(np.mean(v)), float(np.percentile(v, 95))


COMPARED = ("early", "standard")   # kinds the claim compares: always with an "all" margin


def _groups(df: pd.DataFrame):
    """(kind, mode, rows) in KINDS x MODES order, only those present, then a margin over
    all modes (mode "all") for early and standard, and for any kind with several modes."""
    for kind in [k for k in KINDS if k in set(df["kind"])] + sorted(set(df["kind"]) - set(KINDS)):
        of_kind = df[df["kind"] == kind]
        modes = [m for m in MODES if m in set(of_kind["mode"])]
        for mode in modes:
            yield kind, mode, of_kind[of_kind["mode"] == mode]
        if kind in COMPARED or len(modes) > 1 or set(of_kind["mode"]) - set(MODES):
            yield kind, ALL, of_kind


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Per kind x mode (and per kind over all modes, mode "all"): the episode count and,
    for each observed and predicted latency, its sample count, median, mean and 95th
    percentile in ms.  Early rows of observed latencies carry ``ratio_to_standard``
    (early median / standard median of the same mode; "all" against "all") and
    ``claim`` ("supported" when <= 0.5, "not supported", or "undetermined" without
    samples on both sides)."""
    rows: list[dict] = []
    for kind, mode, sub in _groups(df):
        group_rows = []
        for source, names in (("observed", OBSERVED), ("predicted", PREDICTED)):
            for name in names:
                n, med, mean, p95 = _stats(sub[f"{name}_ms"])
                group_rows.append({"kind": kind, "mode": mode, "episodes": len(sub), "quantity": name,
                                   "source": source, "n": n, "median_ms": med, "mean_ms": mean,
                                   "p95_ms": p95, "ratio_to_standard": math.nan, "claim": None})
        if not any(r["n"] for r in group_rows):
            # e.g. home_only, deregistration: nothing to measure, but count the episodes
            group_rows = [dict(group_rows[0], quantity=None, source=None)]
        rows.extend(group_rows)
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    _ratios(out)
    for col, dtype in SUMMARY_COLUMNS.items():
        out[col] = out[col].astype(object).where(out[col].notna(), None) if dtype == "object" \
            else out[col].astype(dtype)
    return out


def _overall(out: pd.DataFrame, kind: str, quantity: str):
    """The "all" margin row of ``kind`` (early and standard always have one)."""
    rows = out[(out["kind"] == kind) & (out["quantity"] == quantity) & (out["mode"] == ALL)]
    return rows.iloc[0] if len(rows) else None


def _ratios(out: pd.DataFrame) -> None:
    """Early median / standard median for each observed latency: per mode against the
    same mode, and an early "all" margin against the standard overall row."""
    for r in out.itertuples():
        if r.kind != "early" or r.source != "observed":
            continue
        if r.mode == ALL:
            ref = _overall(out, "standard", r.quantity)
        else:
            same = out[(out["kind"] == "standard") & (out["mode"] == r.mode) & (out["quantity"] == r.quantity)]
            ref = same.iloc[0] if len(same) else None
        ratio = _ratio(r.n, r.median_ms, ref)
        out.at[r.Index, "claim"] = _claim(ratio)
        if ratio is not None:
            out.at[r.Index, "ratio_to_standard"] = ratio


def _ratio(n, median, ref) -> float | None:
    if ref is None or not n or not ref["n"] or not ref["median_ms"] > 0:
        return None
    return median / ref["median_ms"]


def _claim(ratio: float | None) -> str:
    if ratio is None:
        return "undetermined"
    return "supported" if ratio <= CLAIM_RATIO else "not supported"


def claim_statement(summary: pd.DataFrame) -> str:
    """Plain sentences: does this capture support the claim that an early binding
    update takes half or less of the latency of a standard one (medians over all modes)?"""
    lines, verdicts = [], []
    for q in OBSERVED:
        e, s = _overall(summary, "early", q), _overall(summary, "standard", q)
        label = q.replace("_", " ")
        ne = 0 if e is None or pd.isna(e["n"]) else int(e["n"])
        ns = 0 if s is None or pd.isna(s["n"]) else int(s["n"])
        ratio = None if e is None else _ratio(ne, e["median_ms"], s)
        if ratio is None:
            lines.append(f"{label}: cannot compare (early n={ne}, standard n={ns})")
            verdicts.append(None)
            continue
        ok = ratio <= CLAIM_RATIO
        verdicts.append(ok)
        lines.append(f"{label}: early median {e['median_ms']:.3f} ms (n={ne}) vs standard "
                     f"{s['median_ms']:.3f} ms (n={ns}), ratio {ratio:.3f}: "
                     f"{'supports' if ok else 'does not support'} the claim")
    known = [v for v in verdicts if v is not None]
    if not known:
        verdict = "cannot be tested with this capture (it needs both early and standard episodes)"
    elif all(known):
        verdict = "is supported by this capture"
    else:
        verdict = "is not supported by this capture"
    lines.append(f"The draft's claim that an early binding update takes half or less of the "
                 f"latency of a standard one {verdict}.")
    return "\n".join(lines)


# Observed latency -> the standard formula that predicts it for the same mode (DESIGN.md 2).
_STANDARD_COUNTERPART = {("send_latency", "conservative"): "std_send_conserv",
                         ("send_latency", "optimistic"): "std_send_optimst",
                         ("recv_latency", "conservative"): "std_recv",
                         ("recv_latency", "optimistic"): "std_recv"}


def counterfactual_ratios(df: pd.DataFrame) -> dict[str, tuple[int, float | None]]:
    """For early episodes: the median of (observed latency / the standard latency the
    draft predicts from the same episode's RTTs), per observed quantity, with its sample
    count.  Unlike ``ratio_to_standard`` this needs no standard episode in the capture
    and holds the network constant: each early episode is its own control."""
    out: dict[str, tuple[int, float | None]] = {}
    early = df[df["kind"] == "early"] if len(df) else df
    for q in OBSERVED:
        ratios = []
        for row in early.itertuples(index=False):
            name = _STANDARD_COUNTERPART.get((q, row.mode))
            obs = getattr(row, f"{q}_ms")
            ref = getattr(row, f"{name}_ms") if name else None
            if name and pd.notna(obs) and pd.notna(ref) and ref > 0:
                ratios.append(float(obs) / float(ref))
        out[q] = (len(ratios), float(np.median(ratios)) if ratios else None)
    return out


def counterfactual_statement(df: pd.DataFrame) -> str:
    """One line per observed latency: early observed vs standard predicted, same RTTs."""
    lines = []
    for q, (n, med) in counterfactual_ratios(df).items():
        label = q.replace("_", " ")
        if med is None:
            lines.append(f"{label}: no early episode with a measured latency and RTTs (n=0)")
            continue
        lines.append(f"{label}: early observed / standard predicted from the same episode's RTTs, "
                     f"median {med:.3f} (n={n}): {'within' if med <= CLAIM_RATIO else 'above'} "
                     f"the claimed {CLAIM_RATIO:g}")
    return "\n".join(lines)
