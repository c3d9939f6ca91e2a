"""Summary statistics of an episode table (``ebutool analyze --summary``; reused by
``ebutool compare``), and the check of the draft's claim that an early binding update
takes half or less of the time of a standard one."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ebutool.analysis.claim import (
    CLAIM_COLUMNS,
    CLAIM_MODES,
    CLAIM_RATIO,
    CLAIM_VANTAGES,
    OBSERVED,
    claim_cells,
)
from ebutool.analysis.claim_stats import (
    DEFAULT_SETTINGS,
    ClaimSettings,
    bootstrap_medians,
    percentile_interval,
)
from ebutool.analysis.classify import KINDS, MODES
from ebutool.analysis.formulas import FORMULAS, predicting_formula
from ebutool.analysis.summary_columns import SUMMARY_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

PREDICTED = tuple(FORMULAS)
ALL = "all"  # the mode label of a kind's rows over every mode
OK = "ok"  # the quality of a row that may enter statistics

# Episodes enter the statistics on the same terms whatever their kind: the procedure
# completed (the standard BU, or the deregistration, acknowledged: column ``complete``)
# and none of these notes says the binding did not hold (a refused or unanswered home
# registration, an early binding that expired before the standard BU came).
EXCLUDING_NOTES = ("ha_bu_unanswered", "ha_ba_rejected_", "tentative_binding_expired")
COUNTING_RULE = (
    "episodes of quality ok only (complete: final BU or deregistration acknowledged; "
    "home registration not refused or unanswered; tentative binding not expired)"
)


def _stats(values: pd.Series, settings: ClaimSettings) -> dict:
    """n, median, its bootstrap interval (only from ``settings.min_samples`` samples
    on, and never from one: below that the interval is degenerate), mean and p95 of
    ``values``."""
    import pandas as pd

    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    out = dict.fromkeys(("median_ms", "median_ci_low_ms", "median_ci_high_ms"), math.nan)
    out.update(n=len(v), mean_ms=math.nan, p95_ms=math.nan)
    if not len(v):
        return out
    out.update(median_ms=float(np.median(v)), mean_ms=float(np.mean(v)))
    out["p95_ms"] = float(np.percentile(v, 95))
    if len(v) >= settings.interval_samples:  # (never from one value: [v, v])
        rng = np.random.default_rng(settings.seed)
        boot = bootstrap_medians(v, settings.resamples, rng)
        low, high = percentile_interval(boot, settings.confidence)
        out.update(median_ci_low_ms=low, median_ci_high_ms=high)
    return out


def _flag(df: pd.DataFrame, column: str) -> pd.Series:
    return df[column].astype("boolean").fillna(False).astype(bool)


def _excluding_note(diagnosis: object) -> str | None:
    """The first of :data:`EXCLUDING_NOTES` a diagnosis holds (without its "_"), if any."""
    notes = [c for c in str(diagnosis).split(";") if c]
    for note in EXCLUDING_NOTES:
        if any(c.startswith(note) for c in notes):
            return note.rstrip("_")
    return None


def exclusion_reasons(df: pd.DataFrame) -> pd.Series:
    """Per row: None if it enters the statistics, else why not: its ``quality`` when
    that is not ``ok``, ``incomplete`` when ``complete`` is false, or the first of
    :data:`EXCLUDING_NOTES` in its diagnosis.  A hand-made table without these
    columns counts every row."""
    import pandas as pd

    codes, labels = reason_codes(df)
    return pd.Series(np.array(labels, dtype=object)[codes], index=df.index, dtype=object)


def reason_codes(df: pd.DataFrame) -> tuple[np.ndarray, list]:
    """:func:`exclusion_reasons` as (one small integer per row, the reasons they stand
    for; code 0 is None: counted).  Worked out per distinct diagnosis and quality, not
    per row: a million rows share a few, and the table's columns are never copied as
    Python objects (issue 12)."""
    import pandas as pd

    labels: dict = {None: 0}
    codes = np.zeros(len(df), dtype=np.int16)

    def code(reason: object) -> int:
        return labels.setdefault(reason, len(labels))

    if "diagnosis" in df.columns:
        found, diagnoses = pd.factorize(df["diagnosis"], use_na_sentinel=True)
        lut = [code(_excluding_note(d)) for d in diagnoses] + [0]  # -1 (missing): ""
        codes = np.array(lut, dtype=np.int16)[found]
    if "complete" in df.columns:
        codes[~_flag(df, "complete").to_numpy()] = code("incomplete")
    if "quality" in df.columns:
        found, qualities = pd.factorize(df["quality"], use_na_sentinel=True)
        bad = np.array([q != OK for q in qualities] + [False])[found]
        codes[bad] = np.array([code(q) for q in qualities] + [0], dtype=np.int16)[found][bad]
        unknown = (found == -1) & (codes == 0)
        if unknown.any():
            codes[unknown] = code("quality_unknown")
    return codes, list(labels)


def counted_mask(df: pd.DataFrame) -> pd.Series:
    """True for the episodes that enter the statistics (:func:`exclusion_reasons`)."""
    import pandas as pd

    return pd.Series(reason_codes(df)[0] == 0, index=df.index)


def left_out(df: pd.DataFrame) -> dict[str, int]:
    """How many episodes were left out of the statistics, per reason, the reasons in
    order of their first row (tables seen in pieces add these up: EpisodeTally)."""
    import pandas as pd

    codes, labels = reason_codes(df)
    counts = np.bincount(codes, minlength=len(labels))
    return {str(labels[c]): int(counts[c]) for c in pd.unique(codes) if c}


def exclusion_counts(df: pd.DataFrame) -> dict[str, int]:
    """How many episodes were left out of the statistics, per reason (most first; a tie
    in order of first appearance)."""
    return ranked(left_out(df))


def ranked(counts: dict[str, int]) -> dict[str, int]:
    """``counts`` most first (stable: a tie keeps its order)."""
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def exclusion_statement(df: pd.DataFrame) -> str:
    """One line: how many episodes entered the statistics and why the others did not."""
    counts = exclusion_counts(df)
    left = sum(counts.values())
    why = ", ".join(f"{k} {v}" for k, v in counts.items())
    apart = _other_views(df)
    return (
        f"Statistics over {len(df) - left} of {len(df)} episodes"
        + (f"; left out: {why}" if left else "")
        + f" ({COUNTING_RULE})"
        + (f"; latencies of other vantage points not pooled: {apart}" if apart else "")
        + "."
    )


def _other_views(df: pd.DataFrame) -> str:
    """The counted episodes of vantage points other than the MN's (or merged) that
    carry a latency (observed or predicted), per vantage ("ha 16 episodes"): what the
    statistics leave out.  ebutool's own tables leave those columns empty there; a
    table made by hand may not."""
    import pandas as pd

    cols = [f"{q}_ms" for q in (*OBSERVED, *PREDICTED) if f"{q}_ms" in df.columns]
    if not cols or not len(df):
        return ""
    mn_view = mn_view_mask(df)
    if mn_view.all():  # (the MN's or merged views only: nothing copied)
        return ""
    rows = ~mn_view & counted_mask(df).to_numpy()
    apart = df[rows]
    carry = apart[cols].apply(pd.to_numeric, errors="coerce").notna().any(axis=1).to_numpy()
    if not carry.any():
        return ""
    vantage = apart["vantage"][carry].astype(object)
    counts = vantage.where(vantage.notna(), "unknown").astype(str).replace("", "unknown")
    counts = counts.value_counts(sort=False)
    return ", ".join(f"{v} {n} episode{'s' * (n != 1)}" for v, n in counts.items())


COMPARED = ("early", "standard")  # kinds the claim compares: always with an "all" margin


# The group label of the rows whose kind or mode is empty: not observable at their
# vantage point (docs/analysis.md: an HA row's kind, a CN's mode other than optimistic)
# or missing in a hand-made table.  Without it those rows were in no group and the
# groups did not add up to the episodes.  Not the MN's own mode `unknown` (it could
# not be told from the MN's view): a CN view's copy of a conservative handover is not
# a handover of unknown mode (review of stop 32).
NOT_OBSERVED = "not_observable"


def _missing(column: pd.Series) -> np.ndarray:
    """Per row: whether ``column`` is empty there (missing, or "" as read from CSV)."""
    return (column.isna() | (column.astype(object) == "")).to_numpy(dtype=bool)


def group_labels(column: pd.Series) -> pd.Series:
    """A kind or mode column as the statistics' group labels: empty values
    :data:`NOT_OBSERVED` (the figures' groups are labelled as the summary's)."""
    return column.astype(object).where(~_missing(column), NOT_OBSERVED)


def _is(column: pd.Series, label: str, missing: np.ndarray) -> np.ndarray:
    """The rows of ``column`` in the group ``label`` (:data:`NOT_OBSERVED` is the empty
    ones, ``missing``): a boolean mask."""
    rows = (column == label).to_numpy(dtype=bool)
    return rows | missing if label == NOT_OBSERVED else rows


def _present(values, order: tuple[str, ...]) -> list:
    """The group labels of the array ``values`` in ``order``, then the others sorted,
    then :data:`NOT_OBSERVED` for empty values."""
    import pandas as pd

    there = {v for v in pd.unique(values) if pd.notna(v) and v != ""}
    if len(there) < len(pd.unique(values)):  # an empty value: its group is NOT_OBSERVED
        there.add(NOT_OBSERVED)
    last = [NOT_OBSERVED] if NOT_OBSERVED in there and NOT_OBSERVED not in order else []
    return [v for v in order if v in there] + sorted(there - set(order) - set(last)) + last


def _groups(df: pd.DataFrame):
    """(kind, mode, rows) in KINDS x MODES order, only those present, then a margin over
    all modes (mode "all") for early and standard, and for any kind with several modes.
    An empty kind or mode is the group :data:`NOT_OBSERVED`, so every row is in exactly one
    kind x mode group.  The rows are a boolean mask (one octet per row), not a copy of
    the table."""
    no_kind, no_mode = _missing(df["kind"]), _missing(df["mode"])
    for kind in _present(df["kind"].array, KINDS):
        of_kind = _is(df["kind"], kind, no_kind)
        modes = _present(df["mode"].array[of_kind], MODES)  # (an array: no index copied)
        for mode in modes:
            yield kind, mode, of_kind & _is(df["mode"], mode, no_mode)
        if kind in COMPARED or len(modes) > 1:
            yield kind, ALL, of_kind


def mn_view_mask(df: pd.DataFrame) -> np.ndarray:
    """Per row: whether its latencies are the MN's, so may be pooled: the MN's view or a
    merged one (:data:`CLAIM_VANTAGES`) when the table has a ``vantage`` column, every
    row when it has none.  The same rows as the claim's (``claim.claim_rows``)."""
    if "vantage" not in df.columns:
        return np.ones(len(df), dtype=bool)
    return df["vantage"].isin(CLAIM_VANTAGES).to_numpy(dtype=bool)


def _group_rows(kind: str, mode: str, df: pd.DataFrame, rows, use, pooled, settings) -> list:
    """The summary rows of one group: ``rows`` its mask, ``use`` the counted ones',
    ``pooled`` the counted ones of the MN's or merged views (their latencies are the
    statistics').  Only the pooled cells of one latency column at a time are copied."""
    import pandas as pd

    out = []
    for source, names in (("observed", OBSERVED), ("predicted", PREDICTED)):
        for name in names:
            col = df[f"{name}_ms"][pooled] if f"{name}_ms" in df else pd.Series(dtype=float)
            out.append(
                {
                    "kind": kind,
                    "mode": mode,
                    "episodes": int(rows.sum()),
                    "counted": int(use.sum()),
                    "quantity": name,
                    "source": source,
                    **_stats(col, settings),
                }
            )
    if not any(r["n"] for r in out):
        # e.g. home_only, deregistration: nothing to measure, but count the episodes
        out = [dict(out[0], quantity=None, source=None)]
    return out


def summarize(
    df: pd.DataFrame,
    min_claim_samples: int | None = None,
    settings: ClaimSettings = DEFAULT_SETTINGS,
) -> pd.DataFrame:
    """Per kind x mode (and per kind over all modes, mode "all"): the episode count,
    how many of them are ``counted`` (:func:`exclusion_reasons`: quality ok and
    complete) and, over the counted ones of the MN's or merged views
    (:func:`mn_view_mask`: the claim's rows), for each observed and predicted latency its
    sample count, median with its 95% bootstrap interval, mean and 95th percentile in
    ms.  Early and early_fallback rows of observed latencies of one mode carry
    ``ratio_to_standard`` (their median / the standard median of the same mode); early
    rows of the conservative and optimistic modes also the claim columns
    (:mod:`ebutool.analysis.claim`).  ``min_claim_samples`` overrides
    ``settings.min_samples``."""
    import pandas as pd

    if min_claim_samples is not None:
        settings = replace(settings, min_samples=min_claim_samples)
    df = df.reset_index(drop=True)  # concatenated tables may repeat index labels
    rows: list[dict] = []
    counted = counted_mask(df).to_numpy()
    pooled = counted & mn_view_mask(df)
    for kind, mode, of_group in _groups(df):
        use = of_group & counted
        rows.extend(_group_rows(kind, mode, df, of_group, use, of_group & pooled, settings))
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    for col in CLAIM_COLUMNS:
        out[col] = out[col].astype(object)
    _ratios(out)
    if len(df):
        _claims(out, df[counted & _claimable(df)], settings)
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


# Group labels that are not one mode: the margin over every mode, the MN's mode that its
# view could not tell, and a mode not observable at the vantage point; each may hold
# conservative and optimistic episodes, so an early/standard ratio there mixes modes
NOT_ONE_MODE = (ALL, "unknown", NOT_OBSERVED)


def _ratios(out: pd.DataFrame) -> None:
    """Early (and early_fallback) median / standard median for each observed latency,
    same mode only; the groups of :data:`NOT_ONE_MODE` mix modes and get no ratio."""
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
        if kind not in ("early", "early_fallback") or source != "observed" or mode in NOT_ONE_MODE:
            continue
        ref = _row(out, "standard", mode, quantity)
        if ref is not None and n and ref["n"] and ref["median_ms"] > 0:
            out.at[at, "ratio_to_standard"] = median / ref["median_ms"]


def _claimable(df: pd.DataFrame) -> np.ndarray:
    """The rows claim_cells can use (the claim modes' early and standard episodes of the
    MN's or merged views): only these are copied for it."""
    rows = df["kind"].isin(("early", "standard")) & df["mode"].isin(CLAIM_MODES)
    return rows.to_numpy(dtype=bool) & mn_view_mask(df)


def _claims(out: pd.DataFrame, counted: pd.DataFrame, settings: ClaimSettings) -> None:
    """The claim columns of the early rows of each claim mode's observed latencies."""
    for (mode, quantity), cells in claim_cells(counted, settings).items():
        hit = (out["kind"] == "early") & (out["mode"] == mode) & (out["quantity"] == quantity)
        for at in out.index[hit]:
            for col, value in cells.items():
                out.at[at, col] = value


def counterfactual_ratios(df: pd.DataFrame) -> dict[str, tuple[int, float | None]]:
    """For early episodes: the median of (observed latency / the standard latency the
    draft predicts from the same episode's RTTs), per observed quantity, with its sample
    count.  Unlike ``ratio_to_standard`` this needs no standard episode in the capture.
    It does not hold the network constant: RTT_HA and RTT_RO were measured at the new
    address, but RTT_BT is the home test the early MN ran from its previous address
    before the handover (a standard MN would have run it through the new tunnel), see
    the ``rtt_bt_basis`` column.  Only counted episodes (:data:`COUNTING_RULE`) of the
    MN's or merged views (:func:`mn_view_mask`) of a claim mode enter."""
    return {
        q: (len(r), float(np.median(r)) if r else None)
        for q, r in counterfactual_samples(df).items()
    }


def counterfactual_samples(df: pd.DataFrame) -> dict[str, list[float]]:
    """The ratios :func:`counterfactual_ratios` takes the median of, per observed quantity."""
    import pandas as pd

    out: dict[str, list[float]] = {}
    if len(df):  # the summary's population: counted, of the MN's or merged views
        df = df[(df["kind"] == "early").to_numpy(dtype=bool) & mn_view_mask(df)]
    early = df[counted_mask(df)] if len(df) else df
    for q in OBSERVED:
        ratios: list[float] = []
        out[q] = ratios
        if f"{q}_ms" not in early.columns:  # (a hand-made table without it)
            continue
        for row in early.itertuples(index=False):
            mode = str(row.mode)
            name = predicting_formula("standard", q, mode) if mode in CLAIM_MODES else None
            obs = getattr(row, f"{q}_ms")
            ref = getattr(row, f"{name}_ms", None) if name else None
            if name and pd.notna(obs) and pd.notna(ref) and ref > 0:
                ratios.append(float(obs) / float(ref))
    return out


def counterfactual_statement(
    df: pd.DataFrame,
    min_claim_samples: int | None = None,
    settings: ClaimSettings = DEFAULT_SETTINGS,
) -> str:
    """One line per observed latency: early observed vs standard predicted, same RTTs:
    the median ratio, its bootstrap interval (the summary's: ``settings``) and a verdict
    only where that interval lies on one side of :data:`CLAIM_RATIO` (a median alone,
    of 3 ratios 0.1, 0.45, 0.9, said "within")."""
    if min_claim_samples is not None:
        settings = replace(settings, min_samples=min_claim_samples)
    lines: list[str] = []
    for q, ratios in counterfactual_samples(df).items():
        label = q.replace("_", " ")
        if not ratios:
            lines.append(f"{label}: no early episode with a measured latency and RTTs (n=0)")
            continue
        head = (
            f"{label}: early observed / standard predicted from the same episode's RTTs "
            f"(RTT_BT from the home test at the previous address, not the new one), "
            f"median {float(np.median(ratios)):.3f} (n={len(ratios)}): "
        )
        lines.append(head + _counterfactual_verdict(ratios, settings))
    return "\n".join(lines)


def _counterfactual_verdict(ratios: list[float], settings: ClaimSettings) -> str:
    if len(ratios) < settings.interval_samples:
        return f"too few samples (need {settings.interval_samples})"
    rng = np.random.default_rng(settings.seed)
    low, high = percentile_interval(
        bootstrap_medians(np.asarray(ratios), settings.resamples, rng), settings.confidence
    )
    interval = f"{settings.confidence:.0%} interval [{low:.3f}, {high:.3f}]"
    if high <= CLAIM_RATIO:
        return f"within the claimed {CLAIM_RATIO:g} ({interval})"
    if low > CLAIM_RATIO:
        return f"above the claimed {CLAIM_RATIO:g} ({interval})"
    return f"undecided: its {interval} spans the claimed {CLAIM_RATIO:g}"
