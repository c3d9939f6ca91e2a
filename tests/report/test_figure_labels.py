"""The figures' groups of episodes whose mode is empty (a CN's or HA's view: the mode
is not observable there) are labelled "not_observable", as the summary's groups
(docs/outputs.md), and hold every such episode, apart from the MN's own "unknown" mode;
not "early / nan" (the report's box plot) or "early, -" (compare's figure)."""

from __future__ import annotations

import pandas as pd

from ebutool.report.compare import latency_samples
from ebutool.report.html.figures import kind_mode_samples

NOT_OBSERVED, UNKNOWN = "not_observable", "unknown"
EMPTY_MODES = (None, float("nan"), "")  # each way a mode may be empty
SEND_MS = (110.0, 120.0, 130.0)  # one per empty mode above
UNKNOWN_SEND_MS = 140.0  # the MN's own unknown mode: a group apart
KNOWN_SEND_MS = 50.0  # the conservative early episode's


def _episodes() -> pd.DataFrame:
    modes = [*EMPTY_MODES, UNKNOWN, "conservative"]
    return pd.DataFrame(
        {
            "kind": ["early"] * len(modes),
            "mode": pd.Series(modes, dtype=object),
            "quality": "ok",
            "complete": True,
            "send_latency_ms": [*SEND_MS, UNKNOWN_SEND_MS, KNOWN_SEND_MS],
            "recv_latency_ms": float("nan"),
        }
    )


def test_report_figure_groups_an_empty_mode_as_not_observable():
    samples = kind_mode_samples(_episodes(), " / ")
    assert sorted(samples["send"]) == [
        "early / conservative",
        f"early / {NOT_OBSERVED}",
        f"early / {UNKNOWN}",
    ]
    assert sorted(samples["send"][f"early / {NOT_OBSERVED}"]["observed"]) == list(SEND_MS)
    assert samples["send"][f"early / {UNKNOWN}"]["observed"] == [UNKNOWN_SEND_MS]
    assert samples["send"]["early / conservative"]["observed"] == [KNOWN_SEND_MS]


def test_compare_figure_groups_an_empty_mode_as_not_observable():
    samples = latency_samples(_episodes().assign(file="a.pcap"), "kind")
    assert sorted(samples["send"]) == [
        "early, conservative",
        f"early, {NOT_OBSERVED}",
        f"early, {UNKNOWN}",
    ]
    assert sorted(samples["send"][f"early, {NOT_OBSERVED}"]["observed"]) == list(SEND_MS)
