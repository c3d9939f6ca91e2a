"""Summary statistics of an episode table (``ebutool analyze --summary``; reused by
``ebutool compare``), and the check of the draft's claim that an early binding update
takes half or less of the time of a standard one."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ebutool.analysis.classify import KINDS, MODES
from ebutool.analysis.columns import Dtype
from ebutool.analysis.formulas import FORMULAS, predicting_formula
from ebutool.core.constants import MIN_CLAIM_SAMPLES

OBSERVED = ("send_latency", "recv_latency")
PREDICTED = tuple(FORMULAS)
CLAIM_RATIO = 0.5  # the draft's claim: early takes half or less of standard
CLAIM_MODES = ("conservative", "optimistic")  # the claim compares like with like only
ALL = "all"  # the mode label of a kind's rows over every mode

# Episodes enter the statistics on the same terms whatever their kind: the procedure
# completed (the standard BU, or the deregistration, acknowledged: column ``complete``)
# and none of these notes says the binding did not hold (a refused or unanswered home
# registration, an early binding that expired before the standard BU came).
EXCLUDING_NOTES = ("ha_bu_unanswered", "ha_ba_rejected_", "tentative_binding_expired")
COUNTING_RULE = (
    "complete episodes only (final BU or deregistration acknowledged; home "
    "registration not refused or unanswered; tentative binding not expired)"
)

SUMMARY_COLUMNS: dict[str, Dtype] = {
    "kind": "object",
    "mode": "object",
    "episodes": "Int64",
    "counted": "Int64",
    "quantity": "object",
    "source": "object",
    "n": "Int64",
    "median_ms": "float64",
    "mean_ms": "float64",
    "p95_ms": "float64",
    "ratio_to_standard": "float64",
    "claim": "object",
}


def _stats(values: pd.Series) -> tuple[int, float, float, float]:
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    if not len(v):
        return 0, math.nan, math.nan, math.nan
    return len(v), float(np.median(v)), float(np.mean(v)), float(np.percentile(v, 95))


def counted_mask(df: pd.DataFrame) -> pd.Series:
    """True for the episodes that enter the statistics (EXCLUDING_NOTES, COUNTING_RULE).
    A table without a ``complete`` column (hand-made) counts every row."""
    mask = pd.Series(True, index=df.index)
    if "complete" in df.columns:
        mask &= df["complete"].astype("boolean").fillna(False).astype(bool)
    if "diagnosis" in df.columns:
        diag = df["diagnosis"].astype(object).where(df["diagnosis"].notna(), "")
        for note in EXCLUDING_NOTES:
            mask &= ~diag.map(
                lambda d, n=note: any(c.startswith(n) for c in str(d).split(";") if c)
            )
    return mask


COMPARED = ("early", "standard")  # kinds the claim compares: always with an "all" margin


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


def summarize(df: pd.DataFrame, min_claim_samples: int = MIN_CLAIM_SAMPLES) -> pd.DataFrame:
    """Per kind x mode (and per kind over all modes, mode "all"): the episode count,
    how many of them are ``counted`` (:data:`COUNTING_RULE`, the same for every kind)
    and, over the counted ones, for each observed and predicted latency its sample
    count, median, mean and 95th percentile in ms.  Early and early_fallback rows of
    observed latencies of one mode carry ``ratio_to_standard`` (their median / the
    standard median of the same mode); early rows also ``claim``: "supported" when
    <= 0.5, "not supported", "too few samples" (fewer than ``min_claim_samples`` on
    a side) or "undetermined" (none on a side).  The "all" rows mix modes and carry
    no ratio."""
    rows: list[dict] = []
    counted = counted_mask(df) if len(df) else pd.Series(dtype=bool)
    for kind, mode, sub in _groups(df):
        use = sub[counted.loc[sub.index]]
        group_rows = []
        for source, names in (("observed", OBSERVED), ("predicted", PREDICTED)):
            for name in names:
                n, med, mean, p95 = _stats(use[f"{name}_ms"])
                group_rows.append(
                    {
                        "kind": kind,
                        "mode": mode,
                        "episodes": len(sub),
                        "counted": len(use),
                        "quantity": name,
                        "source": source,
                        "n": n,
                        "median_ms": med,
                        "mean_ms": mean,
                        "p95_ms": p95,
                        "ratio_to_standard": math.nan,
                        "claim": None,
                    }
                )
        if not any(r["n"] for r in group_rows):
            # e.g. home_only, deregistration: nothing to measure, but count the episodes
            group_rows = [dict(group_rows[0], quantity=None, source=None)]
        rows.extend(group_rows)
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    _ratios(out, min_claim_samples)
    for col, dtype in SUMMARY_COLUMNS.items():
        out[col] = (
            out[col].astype(object).where(out[col].notna(), None)
            if dtype == "object"
            else out[col].astype(dtype)
        )
    return out


def _row(out: pd.DataFrame, kind: str, mode: object, quantity: object) -> pd.Series | None:
    """The summary row of ``kind``, ``mode`` and ``quantity`` (cells of ``out``), if any."""
    rows = out[(out["kind"] == kind) & (out["quantity"] == quantity) & (out["mode"] == mode)]
    return rows.iloc[0] if len(rows) else None


def _n(r: pd.Series | None) -> int:
    return 0 if r is None or pd.isna(r["n"]) else int(r["n"])


def _ratios(out: pd.DataFrame, min_claim_samples: int) -> None:
    """Early (and early_fallback) median / standard median for each observed latency,
    same mode only; the "all" margins mix modes and get no ratio."""
    for at, kind, mode, quantity, source, n, median in zip(
        out.index,
        out["kind"],
        out["mode"],
        out["quantity"],
        out["source"],
        out["n"],
        out["median_ms"],
        strict=True,
    ):
        if kind not in ("early", "early_fallback") or source != "observed" or mode == ALL:
            continue
        ref = _row(out, "standard", mode, quantity)
        ratio = _ratio(n, median, ref)
        if ratio is not None:
            out.at[at, "ratio_to_standard"] = ratio
        if kind == "early":
            out.at[at, "claim"] = _claim(ratio, n, _n(ref), min_claim_samples)


def _ratio(n: int, median: float, ref: pd.Series | None) -> float | None:
    if ref is None or not n or not ref["n"] or not ref["median_ms"] > 0:
        return None
    return median / ref["median_ms"]


def _claim(
    ratio: float | None,
    n_early: int = 0,
    n_std: int = 0,
    min_claim_samples: int = MIN_CLAIM_SAMPLES,
) -> str:
    if ratio is None:
        return "undetermined"
    if min(n_early, n_std) < min_claim_samples:
        return "too few samples"
    return "supported" if ratio <= CLAIM_RATIO else "not supported"


def claim_statement(summary: pd.DataFrame, min_claim_samples: int = MIN_CLAIM_SAMPLES) -> str:
    """Plain sentences: does this capture support the claim that an early binding
    update takes half or less of the latency of a standard one?  Each observed latency
    is compared per mode (conservative with conservative, optimistic with optimistic),
    with each side's sample count; early_fallback is shown next to early.  The verdict
    is "not supported" if any comparison fails, "supported" only if all four
    (send/receive x conservative/optimistic) were compared with at least
    ``min_claim_samples`` per side and passed, else "partially testable" or
    "cannot be tested"."""
    lines = [
        f"Claim test (early vs standard, same mode only; {COUNTING_RULE}; at least "
        f"{min_claim_samples} samples per side):"
    ]
    passed: list[str] = []
    failed: list[str] = []
    few: list[str] = []
    missing: list[str] = []
    for q in OBSERVED:
        label = q.replace("_", " ")
        for mode in CLAIM_MODES:
            e, s = _row(summary, "early", mode, q), _row(summary, "standard", mode, q)
            f = _row(summary, "early_fallback", mode, q)
            ne, ns, nf = _n(e), _n(s), _n(f)
            what = f"{label}, {mode}"
            fb = (
                f"; early_fallback median {f['median_ms']:.3f} ms (n={nf})"
                if f is not None and nf
                else "; early_fallback n=0"
            )
            ratio = None if e is None else _ratio(ne, e["median_ms"], s)
            if ratio is None or e is None or s is None:  # (ratio is None when either is)
                lines.append(f"  {what}: cannot compare (early n={ne}, standard n={ns}){fb}")
                missing.append(what)
                continue
            head = (
                f"  {what}: early median {e['median_ms']:.3f} ms (n={ne}) vs standard "
                f"{s['median_ms']:.3f} ms (n={ns}), ratio {ratio:.3f}"
            )
            if min(ne, ns) < min_claim_samples:
                lines.append(f"{head}: too few samples (need {min_claim_samples} per side){fb}")
                few.append(what)
                continue
            ok = ratio <= CLAIM_RATIO
            (passed if ok else failed).append(what)
            lines.append(f"{head}: {'supports' if ok else 'does not support'} the claim{fb}")
    claim = (
        "The draft's claim that an early binding update takes half or less of the "
        "latency of a standard one"
    )
    if failed:
        verdict = f"is not supported by this capture (fails for {', '.join(failed)})"
    elif not passed:
        verdict = (
            "cannot be tested with this capture: too few samples"
            if few
            else "cannot be tested with this capture (it needs early and standard "
            "episodes of the same mode)"
        )
    elif few or missing:
        verdict = (
            f"is partially testable with this capture: supported for {', '.join(passed)}; "
            f"not tested for {', '.join(few + missing)}"
        )
    else:
        verdict = "is supported by this capture"
    lines.append(f"{claim} {verdict}.")
    return "\n".join(lines)


def counterfactual_ratios(df: pd.DataFrame) -> dict[str, tuple[int, float | None]]:
    """For early episodes: the median of (observed latency / the standard latency the
    draft predicts from the same episode's RTTs), per observed quantity, with its sample
    count.  Unlike ``ratio_to_standard`` this needs no standard episode in the capture.
    It does not hold the network constant: RTT_HA and RTT_RO were measured at the new
    address, but RTT_BT is the home test the early MN ran from its previous address
    before the handover (a standard MN would have run it through the new tunnel), see
    the ``rtt_bt_basis`` column.  Only counted episodes (:data:`COUNTING_RULE`) of a
    known mode enter."""
    out: dict[str, tuple[int, float | None]] = {}
    early = df[(df["kind"] == "early") & counted_mask(df)] if len(df) else df
    for q in OBSERVED:
        ratios = []
        for row in early.itertuples(index=False):
            mode = str(row.mode)
            name = predicting_formula("standard", q, mode) if mode in CLAIM_MODES else None
            obs = getattr(row, f"{q}_ms")
            ref = getattr(row, f"{name}_ms") if name else None
            if name and pd.notna(obs) and pd.notna(ref) and ref > 0:
                ratios.append(float(obs) / float(ref))
        out[q] = (len(ratios), float(np.median(ratios)) if ratios else None)
    return out


def counterfactual_statement(df: pd.DataFrame, min_claim_samples: int = MIN_CLAIM_SAMPLES) -> str:
    """One line per observed latency: early observed vs standard predicted, same RTTs."""
    lines: list[str] = []
    for q, (n, med) in counterfactual_ratios(df).items():
        label = q.replace("_", " ")
        if med is None:
            lines.append(f"{label}: no early episode with a measured latency and RTTs (n=0)")
            continue
        lines.append(
            f"{label}: early observed / standard predicted from the same episode's RTTs "
            f"(RTT_BT from the home test at the previous address, not the new one), "
            f"median {med:.3f} (n={n}): "
            + (
                f"too few samples (need {min_claim_samples})"
                if n < min_claim_samples
                else f"{'within' if med <= CLAIM_RATIO else 'above'} the claimed {CLAIM_RATIO:g}"
            )
        )
    return "\n".join(lines)
