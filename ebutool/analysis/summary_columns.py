"""The columns of the summary table (``analyze --summary``, ``compare``): names, types
and meanings.  ``scripts/summary_columns_doc.py`` writes :func:`markdown_table` into
docs/reports.md; the report and paper tables reuse these names."""

from __future__ import annotations

from ebutool.analysis.claim_stats import (
    ALPHA,
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    EXACT_P_MAX_WORK,
    MIN_CLAIM_SAMPLES,
    RTT_TOLERANCE,
)
from ebutool.analysis.columns import Dtype

_BOOT = (
    f"95% percentile bootstrap interval ({BOOTSTRAP_RESAMPLES} resamples, seed "
    f"{BOOTSTRAP_SEED}, `--bootstrap-seed`)"
)
_EARLY = "early rows of the conservative and optimistic modes, observed latencies only:"
_ENOUGH = (
    f"where the comparison was tested: at least `--min-claim-samples` ({MIN_CLAIM_SAMPLES}) "
    "samples per side (never one) and sides the exact test can take below alpha (3 and 3 "
    "cannot: p >= 1/20), else empty"
)

# name -> (dtype, unit, meaning)
SUMMARY_COLUMN_DOCS: dict[str, tuple[Dtype, str, str]] = {
    "kind": (
        "object",
        "text",
        "episode kind of the group; `not_observable` for episodes whose kind is not "
        "observable at their vantage point",
    ),
    "mode": (
        "object",
        "text",
        "the MN's mode (`unknown`: its view could not tell; `not_observable`: not observable "
        "at the episode's vantage point); `all` for the margin over every mode of a kind",
    ),
    "episodes": ("Int64", "count", "episodes in the group"),
    "counted": (
        "Int64",
        "count",
        "episodes of the group that enter the statistics: quality `ok` (when the table has "
        "the column) and complete, no refused or unanswered home registration, no expired "
        "tentative binding; the others are counted by reason on stderr",
    ),
    "quantity": (
        "object",
        "text",
        "`send_latency`, `recv_latency` (observed) or one of the six formulas (predicted); "
        "empty for a group with nothing to measure",
    ),
    "source": ("object", "text", "`observed` or `predicted`"),
    "n": (
        "Int64",
        "count",
        "samples of the quantity: counted episodes of the MN's view or of merged views "
        "(`vantage` `mn` or `multi`, when the table has the column; the claim's rows) where "
        "it is not missing; other vantage points' latencies are not the MN's and never pooled",
    ),
    "median_ms": ("float64", "ms", "median of the samples"),
    "median_ci_low_ms": (
        "float64",
        "ms",
        f"lower bound of the median's {_BOOT}; with at least `--min-claim-samples` "
        f"({MIN_CLAIM_SAMPLES}) samples (never from one), else empty",
    ),
    "median_ci_high_ms": ("float64", "ms", "upper bound of that interval"),
    "mean_ms": ("float64", "ms", "mean of the samples"),
    "p95_ms": ("float64", "ms", "95th percentile (linear interpolation)"),
    "ratio_to_standard": (
        "float64",
        "ratio",
        "early and early_fallback rows of one mode, observed latencies: their median / the "
        "standard median of the same mode (empty when that median is 0); empty on `all`, "
        "`unknown` and `not_observable` rows, which may mix modes",
    ),
    "ratio_ci_low": (
        "float64",
        "ratio",
        f"{_EARLY} lower bound of the {_BOOT} of median(early) / median(standard), each side "
        f"resampled on its own; {_ENOUGH}",
    ),
    "ratio_ci_high": (
        "float64",
        "ratio",
        "upper bound of that interval: 'half or less' needs it <= 0.5",
    ),
    "diff_to_standard_ms": (
        "float64",
        "ms",
        f"{_EARLY} median(standard) - median(early); {_ENOUGH}",
    ),
    "diff_ci_low_ms": (
        "float64",
        "ms",
        "lower bound of that difference's bootstrap interval: 'about one RTT sooner' needs "
        f"it >= `rtt_ro_median_ms` x (1 - `--claim-tolerance`, default {RTT_TOLERANCE})",
    ),
    "diff_ci_high_ms": ("float64", "ms", "upper bound of that interval"),
    "rtt_ro_median_ms": (
        "float64",
        "ms",
        "median RTT_RO of the compared episodes (early and standard, latency present)",
    ),
    "model_ratio": (
        "float64",
        "ratio",
        "what the draft's formulas expect: median early prediction / median standard "
        "prediction over the compared episodes' own RTTs; above 0.5 'half or less' cannot hold",
    ),
    "p_value": (
        "float64",
        "probability",
        "one-sided Mann-Whitney U p-value of early < standard, not adjusted (how it was "
        "computed: `p_method`)",
    ),
    "p_method": (
        "object",
        "text",
        "how `p_value` was computed: `exact` (every equally likely split of the pooled "
        "samples, equal values kept as they are; while the computation is at most "
        f"`EXACT_P_MAX_WORK` ({EXACT_P_MAX_WORK:,}) cell updates, about 49 and 49 without "
        "ties, or beyond that without ties and a side of at most 8) or `asymptotic` (scipy's "
        "normal approximation, tie-corrected); empty where `p_value` is",
    ),
    "p_holm": (
        "float64",
        "probability",
        f"`p_value` Holm-adjusted over the comparisons of the table; both statements need it "
        f"< {ALPHA}",
    ),
    "claim": (
        "object",
        "verdict",
        "'half or less': `supported`, `not supported`, `cannot hold (model)` (not supported "
        "and `model_ratio` > 0.5), `too few samples`, `undetermined` (no samples on a side, "
        "or a standard median of 0 in a bootstrap resample: the ratio undefined)",
    ),
    "claim_rtt_sooner": (
        "object",
        "verdict",
        "'about one round-trip time sooner': `supported`, `not supported`, `too few samples`, "
        "`undetermined` (no sample, or the median RTT_RO unknown or 0 ms, or "
        "`--claim-tolerance` 1: one RTT x (1 - tolerance) of 0 asks for no difference)",
    ),
}

SUMMARY_COLUMNS: dict[str, Dtype] = {k: v[0] for k, v in SUMMARY_COLUMN_DOCS.items()}


def markdown_table() -> str:
    """The column list of docs/reports.md (``scripts/summary_columns_doc.py`` writes it)."""
    lines = ["| column | unit | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{k}` | {unit} | {text} |" for k, (_, unit, text) in SUMMARY_COLUMN_DOCS.items()]
    return "\n".join(lines) + "\n"
