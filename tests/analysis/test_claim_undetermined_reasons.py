"""Why a statement of the draft cannot be tested, when the comparisons had samples on
both sides: the stderr sentence said "it needs early and standard episodes of the same
mode" for every undetermined comparison, beside lines that showed both."""

from __future__ import annotations

import pandas as pd

from ebutool.analysis import claim_statement, summarize
from ebutool.analysis.claim import CLAIM_MODES, OBSERVED

STATEMENT = 'The draft\'s statement "{}" cannot be tested with this capture: {}.'


def _rows(early_ms: list[float], standard_ms: list[float], **extra: float) -> pd.DataFrame:
    """Every claim mode, both observed latencies, the same values."""
    rows = [
        {"kind": kind, "mode": mode, **{f"{q}_ms": v for q in OBSERVED}, **extra}
        for mode in CLAIM_MODES
        for kind, values in (("early", early_ms), ("standard", standard_ms))
        for v in values
    ]
    return pd.DataFrame(rows)


def test_rtt_ro_unknown_is_named():
    # five and five, clearly apart, every comparison tested; no RTT_RO anywhere
    text = claim_statement(summarize(_rows([10.0, 11, 12, 13, 14], [100.0, 101, 102, 103, 104])))
    assert "one RTT sooner undetermined" in text
    reason = "the compared episodes' RTT_RO is unknown"
    assert STATEMENT.format("about one round-trip time sooner", reason) in text
    assert "it needs early and standard episodes" not in text


def test_a_zero_standard_median_in_the_resamples_is_named_and_the_line_kept():
    # standard 0, 0, 100, 100, 100: median 100, but some resampled medians are 0, so
    # the ratio's interval is undefined; the line still shows the difference and p
    text = claim_statement(
        summarize(_rows([10.0] * 5, [0.0, 0.0, 100.0, 100.0, 100.0], rtt_ro_ms=20.0))
    )
    line = text.splitlines()[1]
    assert "cannot compare" not in line and "Mann-Whitney p" in line
    assert "half or less undetermined" in line
    reason = "a standard median of 0 in the bootstrap resamples leaves the ratio undefined"
    assert STATEMENT.format("half or less of the latency", reason) in text
