"""Why a statement of the draft cannot be tested, when the comparisons had samples on
both sides: the stderr sentence said "it needs early and standard episodes of the same
mode" for every undetermined comparison, beside lines that showed both."""

from __future__ import annotations

import pandas as pd

from ebutool.analysis import claim_statement, summarize
from ebutool.analysis.claim import CLAIM_MODES, OBSERVED
from ebutool.analysis.claim_stats import ClaimSettings

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


def test_a_zero_rtt_ro_makes_one_rtt_sooner_untestable():
    # RTT_RO 0 in every episode (a simulator without delay on the CN's path): "about one
    # RTT sooner" would ask for a difference >= 0 x (1 - 0.1) = 0 ms, met by any early
    # side not slower; 8 and 8 apart give p 1/C(16, 8) per comparison, and "supported"
    # was printed for a statement the capture cannot test
    s = summarize(_rows([10.0 + i for i in range(8)], [100.0 + i for i in range(8)], rtt_ro_ms=0.0))
    early = s[(s["kind"] == "early") & s["quantity"].isin(OBSERVED) & s["mode"].isin(CLAIM_MODES)]
    assert len(early) == 4
    assert set(early["claim"]) == {"supported"}
    assert set(early["claim_rtt_sooner"]) == {"undetermined"}
    assert (early["rtt_ro_median_ms"] == 0.0).all()  # the number stays shown
    text = claim_statement(s)
    assert "one RTT sooner supported" not in text and "one RTT sooner undetermined" in text
    reason = (
        "the compared episodes' median RTT_RO is 0 ms (one RTT sooner would ask for no difference)"
    )
    assert STATEMENT.format("about one round-trip time sooner", reason) in text


def test_a_zero_rtt_ro_beside_an_unknown_one_names_both():
    # conservative: RTT_RO 0; optimistic: no RTT_RO
    df = _rows([10.0 + i for i in range(8)], [100.0 + i for i in range(8)])
    df["rtt_ro_ms"] = [0.0 if m == "conservative" else None for m in df["mode"]]
    text = claim_statement(summarize(df))
    reasons = (
        "the compared episodes' median RTT_RO is 0 ms (one RTT sooner would ask for no "
        "difference); the compared episodes' RTT_RO is unknown"
    )
    assert STATEMENT.format("about one round-trip time sooner", reasons) in text


def test_a_tolerance_of_one_makes_one_rtt_sooner_untestable():
    # --claim-tolerance 1 (its range's end): one RTT x (1 - 1) = 0 ms, so any early side
    # not slower met "about one RTT sooner"; RTT_RO 50 ms, early 10 ms below standard,
    # a fifth of one RTT: "supported" before
    df = _rows([90.0 + i for i in range(8)], [100.0 + i for i in range(8)], rtt_ro_ms=50.0)
    settings = ClaimSettings(tolerance=1.0)
    s = summarize(df, settings=settings)
    early = s[(s["kind"] == "early") & s["quantity"].isin(OBSERVED) & s["mode"].isin(CLAIM_MODES)]
    assert set(early["claim_rtt_sooner"]) == {"undetermined"}
    assert set(summarize(df)["claim_rtt_sooner"].dropna()) == {"not supported"}  # 10 < 45
    text = claim_statement(s, settings=settings)
    reason = "a tolerance of 1 asks for no difference (one RTT x (1 - 1) = 0 ms)"
    assert STATEMENT.format("about one round-trip time sooner", reason) in text


def test_episodes_without_the_latency_are_not_called_missing():
    # 8 early and 8 standard episodes of both modes, no latency measured (no data packet
    # after the handovers): the reason said the capture lacked the episodes themselves
    df = _rows([10.0 + i for i in range(8)], [100.0 + i for i in range(8)], rtt_ro_ms=20.0)
    df[[f"{q}_ms" for q in OBSERVED]] = float("nan")
    text = claim_statement(summarize(df))
    assert "recv latency, conservative: cannot compare (early n=0, standard n=0)" in text
    reason = "it needs early and standard episodes of the same mode with that latency measured"
    for statement in ("half or less of the latency", "about one round-trip time sooner"):
        assert STATEMENT.format(statement, reason) in text
