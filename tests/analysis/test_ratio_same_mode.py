"""ratio_to_standard compares like with like: an early median against the standard median
of the same mode.  ``unknown`` (the MN's view could not tell) and ``not_observable`` are
no mode: their early and standard episodes may each be conservative or optimistic, as the
``all`` margin mixes modes, and get no ratio either."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ebutool.analysis import summarize
from ebutool.report.paper import paper_table


def _rows(mode: str, early: list[float], standard: list[float]) -> list[dict]:
    return [
        {"kind": kind, "mode": mode, "send_latency_ms": v}
        for kind, values in (("early", early), ("standard", standard))
        for v in values
    ]


def _ratio(s: pd.DataFrame, kind: str, mode: str) -> float:
    sel = s[(s["kind"] == kind) & (s["mode"] == mode) & (s["quantity"] == "send_latency")]
    assert len(sel) == 1
    return sel.iloc[0]["ratio_to_standard"]


def test_no_ratio_for_modes_that_are_not_one_mode():
    # unknown: an early MN that sent at once (0 ms, optimistic-like) against standard
    # MNs that waited (100 ms): the ratio 0 would read as "early takes no time"
    rows = _rows("conservative", [40.0, 50.0], [100.0, 100.0])
    rows += _rows("unknown", [0.0, 0.0], [100.0, 100.0])
    rows += _rows("", [5.0], [50.0])  # not_observable
    rows += [{"kind": "early_fallback", "mode": "unknown", "send_latency_ms": 80.0}]
    s = summarize(pd.DataFrame(rows))
    assert _ratio(s, "early", "conservative") == pytest.approx(45.0 / 100.0)
    for kind, mode in (
        ("early", "unknown"),
        ("early_fallback", "unknown"),
        ("early", "not_observable"),
        ("early", "all"),
    ):
        assert math.isnan(_ratio(s, kind, mode)), (kind, mode)
    table = paper_table(s)
    unknown = table[(table["kind"] == "early") & (table["mode"] == "unknown")].iloc[0]
    assert pd.isna(unknown["send_ratio"])
