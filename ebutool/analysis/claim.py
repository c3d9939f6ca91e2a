"""The draft's two statements about early binding updates, tested on an episode table.

Per mode (conservative, optimistic) and observed latency (send, receive), early
episodes against standard ones of the same mode, on counted rows of the MN's view
(or of merged views; other vantage points never enter):

* **half or less** (column ``claim``): supported when the upper bound of the 95%
  bootstrap interval of median(early) / median(standard) is <= :data:`CLAIM_RATIO`
  and the Holm-adjusted one-sided Mann-Whitney U p-value is below alpha;
* **about one round trip sooner** (column ``claim_rtt_sooner``): supported when the
  lower bound of the 95% bootstrap interval of median(standard) - median(early) is
  >= the median RTT_RO of the compared episodes x (1 - tolerance), with the same test
  (undetermined when that median is unknown or 0: a difference of 0 would do).

Where the draft's own formulas, fed with the compared episodes' RTTs, predict a ratio
above 0.5 (conservative send when RTT_HA dominates), a "half or less" that the data
does not show is ``cannot hold (model)``, not a failure of the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from ebutool.analysis.claim_stats import (
    DEFAULT_SETTINGS,
    ClaimSettings,
    attainable_p,
    compare_samples,
    holm,
    too_few_reason,
    verdict_possible,
)
from ebutool.analysis.formulas import predicting_formula

if TYPE_CHECKING:
    import pandas as pd

OBSERVED = ("send_latency", "recv_latency")
CLAIM_RATIO = 0.5  # the draft's claim: early takes half or less of standard
CLAIM_MODES = ("conservative", "optimistic")  # the claim compares like with like only
CLAIM_VANTAGES = ("mn", "multi")  # views whose latencies are the MN's
CLAIM_COLUMNS = (
    "ratio_ci_low",
    "ratio_ci_high",
    "diff_to_standard_ms",
    "diff_ci_low_ms",
    "diff_ci_high_ms",
    "rtt_ro_median_ms",
    "model_ratio",
    "p_value",
    "p_method",
    "p_holm",
    "claim",
    "claim_rtt_sooner",
)
SUPPORTED, NOT_SUPPORTED = "supported", "not supported"
TOO_FEW, UNDETERMINED, MODEL_EXCLUDES = "too few samples", "undetermined", "cannot hold (model)"
_NO_PAIR = "it needs early and standard episodes of the same mode with that latency measured"
# why a comparison that was tested (samples on both sides) is still undetermined
_UNDETERMINED_TESTED = {
    "claim": "a standard median of 0 in the bootstrap resamples leaves the ratio undefined",
    "claim_rtt_sooner": "the compared episodes' RTT_RO is unknown",
}
# one RTT of 0 ms (or less): "sooner by about one RTT" asks for no difference at all
_NO_RTT = (
    "the compared episodes' median RTT_RO is 0 ms (one RTT sooner would ask for no difference)"
)
_NO_TOLERANCE = "a tolerance of 1 asks for no difference (one RTT x (1 - 1) = 0 ms)"


def claim_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of a (counted) episode table the claim may use: the MN's view or a
    merged one, when the table says which (column ``vantage``)."""
    if "vantage" not in df.columns or df.empty:
        return df
    return df[df["vantage"].isin(CLAIM_VANTAGES)]


@dataclass
class _Case:
    mode: str
    quantity: str
    early: pd.DataFrame
    standard: pd.DataFrame

    def samples(self, side: pd.DataFrame) -> np.ndarray:
        import pandas as pd

        return pd.to_numeric(side[f"{self.quantity}_ms"], errors="coerce").dropna().to_numpy(float)

    def compared(self) -> pd.DataFrame:
        import pandas as pd

        both = pd.concat([self.early, self.standard])
        return both[pd.to_numeric(both[f"{self.quantity}_ms"], errors="coerce").notna()]


def _median(values: pd.Series) -> float | None:
    import pandas as pd

    v = pd.to_numeric(values, errors="coerce").dropna()
    return float(np.median(v)) if len(v) else None


def model_ratio(rows: pd.DataFrame, quantity: str, mode: str) -> float | None:
    """median(early prediction) / median(standard prediction) over ``rows``, each
    prediction from the episode's own RTTs: what the draft's model expects."""
    early_f = predicting_formula("early", quantity, mode)
    std_f = predicting_formula("standard", quantity, mode)
    if not early_f or not std_f or f"{early_f}_ms" not in rows or f"{std_f}_ms" not in rows:
        return None
    e, s = _median(rows[f"{early_f}_ms"]), _median(rows[f"{std_f}_ms"])
    return None if e is None or s is None or not s > 0 else e / s


def _verdicts(cells: dict, settings: ClaimSettings) -> None:
    """Fill ``claim`` and ``claim_rtt_sooner`` once ``p_holm`` is known."""
    significant = cells["p_holm"] < settings.alpha
    high = cells["ratio_ci_high"]
    if high is None or math.isnan(high):
        cells["claim"] = UNDETERMINED
    elif high <= CLAIM_RATIO and significant:
        cells["claim"] = SUPPORTED
    elif cells["model_ratio"] is not None and cells["model_ratio"] > CLAIM_RATIO:
        cells["claim"] = MODEL_EXCLUDES
    else:
        cells["claim"] = NOT_SUPPORTED
    rtt = cells["rtt_ro_median_ms"]
    need = None if rtt is None else rtt * (1.0 - settings.tolerance)
    if need is None or not need > 0:  # unknown, or 0: any early side not slower would do
        cells["claim_rtt_sooner"] = UNDETERMINED
    else:
        ok = cells["diff_ci_low_ms"] >= need and significant
        cells["claim_rtt_sooner"] = SUPPORTED if ok else NOT_SUPPORTED


def _cells(case: _Case, settings: ClaimSettings) -> dict:
    e, s = case.samples(case.early), case.samples(case.standard)
    cells: dict = dict.fromkeys(CLAIM_COLUMNS)
    if not len(e) or not len(s):
        cells["claim"] = cells["claim_rtt_sooner"] = UNDETERMINED
        return cells
    if not verdict_possible(len(e), len(s), settings):
        cells["claim"] = cells["claim_rtt_sooner"] = TOO_FEW
        return cells
    c = compare_samples(e, s, settings)
    compared = case.compared()
    cells.update(
        ratio_ci_low=c.ratio_low,
        ratio_ci_high=c.ratio_high,
        diff_to_standard_ms=c.diff_ms,
        diff_ci_low_ms=c.diff_low_ms,
        diff_ci_high_ms=c.diff_high_ms,
        rtt_ro_median_ms=_median(compared["rtt_ro_ms"]) if "rtt_ro_ms" in compared else None,
        model_ratio=model_ratio(compared, case.quantity, case.mode),
        p_value=c.p_value,
        p_method=c.p_method,
        _attainable_p=attainable_p(len(e), len(s)),
    )
    return cells


def claim_cells(
    counted: pd.DataFrame, settings: ClaimSettings = DEFAULT_SETTINGS
) -> dict[tuple[str, str], dict]:
    """``{(mode, quantity): {column: value}}`` for the claim columns of the early rows
    (:data:`CLAIM_COLUMNS`), from the counted episodes; p-values Holm-adjusted over
    every comparison that had enough samples."""
    rows = claim_rows(counted)
    out: dict[tuple[str, str], dict] = {}
    for mode in CLAIM_MODES:
        of_mode = rows[rows["mode"] == mode] if len(rows) else rows
        early = of_mode[of_mode["kind"] == "early"] if len(of_mode) else of_mode
        standard = of_mode[of_mode["kind"] == "standard"] if len(of_mode) else of_mode
        for q in OBSERVED:
            if f"{q}_ms" not in rows:
                continue
            out[(mode, q)] = _cells(_Case(mode, q, early, standard), settings)
    tested = [k for k, v in out.items() if v["p_value"] is not None]
    # Each comparison's floor: its Holm-adjusted p with every tested comparison at the
    # smallest p its sizes allow (Holm's adjusted p never falls when a raw p rises, so no
    # data of these sizes gets below it).  Per comparison, not the table's smallest: 3
    # and 4 (1/35) ranked after two large comparisons is adjusted to 2/35 >= alpha
    floors = holm([out[k].pop("_attainable_p") for k in tested])
    adjusted = holm([out[k]["p_value"] for k in tested])
    for key, p, floor in zip(tested, adjusted, floors, strict=True):
        out[key]["p_holm"] = p
        _verdicts(out[key], settings)
        if floor >= settings.alpha:
            out[key]["claim"] = out[key]["claim_rtt_sooner"] = TOO_FEW
    return out


def _pick(summary: pd.DataFrame, kind: str, mode: str, quantity: str) -> pd.Series | None:
    rows = summary[
        (summary["kind"] == kind) & (summary["mode"] == mode) & (summary["quantity"] == quantity)
    ]
    return rows.iloc[0] if len(rows) else None


def _num(row: pd.Series | None, col: str) -> float | None:
    import pandas as pd

    if row is None or col not in row or row[col] is None or pd.isna(row[col]):
        return None
    return float(row[col])


def _line(
    summary: pd.DataFrame, mode: str, q: str, settings: ClaimSettings
) -> tuple[str, str, str, bool]:
    """(text, half verdict, one-RTT verdict, whether it was tested) of one comparison."""
    e, s = _pick(summary, "early", mode, q), _pick(summary, "standard", mode, q)
    f = _pick(summary, "early_fallback", mode, q)
    ne, ns, nf = (int(_num(r, "n") or 0) for r in (e, s, f))
    what = f"{q.replace('_', ' ')}, {mode}"
    fb = f"; early_fallback median {_num(f, 'median_ms'):.3f} ms (n={nf})" if nf else ""
    fb = fb or "; early_fallback n=0"
    half = (e["claim"] if e is not None else None) or UNDETERMINED
    sooner = (e["claim_rtt_sooner"] if e is not None else None) or UNDETERMINED
    tested = _num(e, "p_value") is not None
    if not tested or half == TOO_FEW:  # (a ratio undefined, tested: the full line)
        why = "cannot compare" if half == UNDETERMINED else _too_few_why(e, ne, ns, settings)
        return f"  {what}: {why} (early n={ne}, standard n={ns}){fb}", half, sooner, tested
    rtt = _num(e, "rtt_ro_median_ms")
    method = (e.get("p_method") if e is not None else None) or "-"
    text = (
        f"  {what}: early median {_num(e, 'median_ms'):.3f} ms (n={ne}) vs standard "
        f"{_num(s, 'median_ms'):.3f} ms (n={ns}); ratio {_fmt(e, 'ratio_to_standard')} "
        f"[{_fmt(e, 'ratio_ci_low')}, {_fmt(e, 'ratio_ci_high')}]"
        f" (model {_fmt(e, 'model_ratio')}); sooner by {_fmt(e, 'diff_to_standard_ms')} ms "
        f"[{_fmt(e, 'diff_ci_low_ms')}, {_fmt(e, 'diff_ci_high_ms')}] vs RTT_RO median "
        + ("unknown" if rtt is None else f"{rtt:.3f} ms")
        + f"; Mann-Whitney p {_fmt(e, 'p_value', '.3g')} ({method}; Holm "
        f"{_fmt(e, 'p_holm', '.3g')}): "
        f"half or less {half}, one RTT sooner {sooner}{fb}"
    )
    return text, half, sooner, tested


def _too_few_why(early: pd.Series | None, ne: int, ns: int, settings: ClaimSettings) -> str:
    if _num(early, "p_holm") is not None:  # tested, but Holm's floor is at alpha
        # (the floor is the exact test's; p_value is exact at these sizes, ties or not,
        # so p_holm is at or above it too)
        return (
            f"too few samples (over this table's comparisons Holm's adjustment keeps even the "
            f"smallest p an exact test can give for these sizes at or above alpha "
            f"{settings.alpha:g})"
        )
    if not verdict_possible(ne, ns, settings):
        return too_few_reason(ne, ns, settings)
    # the summary's n is the claim's population (the MN's or merged views), so this is
    # a summary made with other settings than this statement's: either bound may be it
    return (
        f"too few samples in the MN's view (need {settings.min_samples} per side, and sides "
        f"large enough for the exact one-sided Mann-Whitney p to go below alpha "
        f"{settings.alpha:g})"
    )


def _fmt(row: pd.Series | None, col: str, spec: str = ".3f") -> str:
    v = _num(row, col)
    return "-" if v is None else format(v, spec)


def _verdict(statement: str, results: dict[str, str], why_undetermined: dict[str, str]) -> str:
    passed = [w for w, v in results.items() if v == SUPPORTED]
    failed = [w for w, v in results.items() if v == NOT_SUPPORTED]
    model = [w for w, v in results.items() if v == MODEL_EXCLUDES]
    untested = [w for w, v in results.items() if v in (TOO_FEW, UNDETERMINED)]
    head = f'The draft\'s statement "{statement}"'
    tail = f" (the model itself excludes it for {', '.join(model)})" if model else ""
    if failed:
        return f"{head} is not supported by this capture (fails for {', '.join(failed)}){tail}."
    if not passed:
        # every reason, too few samples first (each comparison has one)
        whys = [TOO_FEW] if any(v == TOO_FEW for v in results.values()) else []
        whys += [why_undetermined[w] for w, v in results.items() if v == UNDETERMINED]
        why = "; ".join(dict.fromkeys(whys))
        return f"{head} cannot be tested with this capture: {why}{tail}."
    if untested or model:
        return (
            f"{head} is partially testable with this capture: supported for "
            f"{', '.join(passed)}; not tested for {', '.join(untested) or 'none'}{tail}."
        )
    return f"{head} is supported by this capture."


def claim_statement(
    summary: pd.DataFrame,
    min_claim_samples: int | None = None,
    settings: ClaimSettings = DEFAULT_SETTINGS,
) -> str:
    """Plain sentences (stderr of ``analyze --summary``): per mode and observed latency
    the comparison of early with standard episodes with its intervals and test, then
    one verdict per statement of the draft: "not supported" if any comparison fails,
    "supported" only if all four (send/receive x conservative/optimistic) passed,
    else "partially testable" or "cannot be tested"; comparisons the model excludes
    are named apart."""
    if min_claim_samples is not None:
        settings = replace(settings, min_samples=min_claim_samples)
    lines = [
        f"Claim test (early vs standard, same mode, MN view; at least {settings.min_samples} "
        f"samples per side; {settings.confidence:.0%} bootstrap intervals of medians, "
        f"{settings.resamples} resamples, seed {settings.seed}; one-sided Mann-Whitney U, "
        f"Holm-adjusted, alpha {settings.alpha:g}; one RTT = median RTT_RO x "
        f"(1 - {settings.tolerance:g})):"
    ]
    half: dict[str, str] = {}
    sooner: dict[str, str] = {}
    why: dict[str, dict[str, str]] = {"claim": {}, "claim_rtt_sooner": {}}
    for q in OBSERVED:
        for mode in CLAIM_MODES:
            text, h, r, tested = _line(summary, mode, q, settings)
            lines.append(text)
            what = f"{q.replace('_', ' ')}, {mode}"
            half[what], sooner[what] = h, r
            for col, reasons in why.items():
                reasons[what] = _UNDETERMINED_TESTED[col] if tested else _NO_PAIR
            rtt = _num(_pick(summary, "early", mode, q), "rtt_ro_median_ms")
            if tested and rtt is not None and not rtt > 0:
                why["claim_rtt_sooner"][what] = _NO_RTT
            elif tested and rtt is not None and not settings.tolerance < 1:
                why["claim_rtt_sooner"][what] = _NO_TOLERANCE
    lines.append(_verdict("half or less of the latency", half, why["claim"]))
    lines.append(_verdict("about one round-trip time sooner", sooner, why["claim_rtt_sooner"]))
    return "\n".join(lines)
