"""The figures' groups of episodes whose mode is empty (a CN's or HA's view: the mode
is not observable there) are labelled "unknown", as the summary's groups
(docs/outputs.md), and hold every such episode: one group with the MN's own "unknown"
mode, not "early / nan" (the report's box plot) or "early, -" (compare's figure)."""

from __future__ import annotations

import pandas as pd

from ebutool.report.compare import latency_samples
from ebutool.report.html.figures import kind_mode_samples

UNKNOWN = "unknown"
EMPTY_MODES = (None, float("nan"), "", UNKNOWN)  # each way a mode may be empty, and unknown
SEND_MS = (110.0, 120.0, 130.0, 140.0)  # one per empty mode above
KNOWN_SEND_MS = 50.0  # the conservative early episode's


def _episodes() -> pd.DataFrame:
    modes = [*EMPTY_MODES, "conservative"]
    return pd.DataFrame(
        {
            "kind": ["early"] * len(modes),
            "mode": pd.Series(modes, dtype=object),
            "quality": "ok",
            "complete": True,
            "send_latency_ms": [*SEND_MS, KNOWN_SEND_MS],
            "recv_latency_ms": float("nan"),
        }
    )


def test_report_figure_groups_an_empty_mode_as_unknown():
    samples = kind_mode_samples(_episodes(), " / ")
    assert sorted(samples["send"]) == ["early / conservative", f"early / {UNKNOWN}"]
    assert sorted(samples["send"][f"early / {UNKNOWN}"]["observed"]) == list(SEND_MS)
    assert samples["send"]["early / conservative"]["observed"] == [KNOWN_SEND_MS]


def test_compare_figure_groups_an_empty_mode_as_unknown():
    samples = latency_samples(_episodes().assign(file="a.pcap"), "kind")
    assert sorted(samples["send"]) == ["early, conservative", f"early, {UNKNOWN}"]
    assert sorted(samples["send"][f"early, {UNKNOWN}"]["observed"]) == list(SEND_MS)
