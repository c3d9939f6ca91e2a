"""Every episode is in exactly one kind x mode group of the summary (and of compare's
table), also when its kind or mode is empty: not observable at its vantage point
(docs/analysis.md: an HA row's kind, a CN row's mode other than optimistic) or missing
in a hand-made table.  Such rows are the group ``unknown`` (docs/outputs.md); the groups'
episode and counted numbers add up to the table's (was: those rows were in no group).

Inputs: hand-made episode tables (expected counts by hand), and the CN-side and HA-side
captures built octet by octet from the RFC text in tests/analysis/test_vantage_rfc.py."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import ebutool
from ebutool.analysis import summarize
from ebutool.analysis.summary import counted_mask
from ebutool.report.compare import compare_table
from tests.analysis.test_vantage_rfc import cn_view, ha_view
from tests.support import rfc_packets as R

NOT_OBSERVED = "not_observable"  # the group of an empty kind or mode (docs/outputs.md)
UNKNOWN = "unknown"  # the MN's own mode when it could not be told: a group apart
ALL = "all"  # the margin over a kind's modes: repeats its rows
SEND_MS = 100.0  # a send latency, for the rows that have one
EMPTY_VALUES = (None, float("nan"), "")  # how a missing kind or mode may come
KIND_VALUES = ("standard", "early", "early_fallback", "home_only", *EMPTY_VALUES)
MODE_VALUES = ("conservative", "optimistic", UNKNOWN, *EMPTY_VALUES)
MAX_ROWS = 30  # rows of a generated table


def _table(kinds, modes, ok) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": pd.Series(kinds, dtype=object),
            "mode": pd.Series(modes, dtype=object),
            "quality": ["ok" if k else "incomplete" for k in ok],
            "complete": list(ok),
            "send_latency_ms": [SEND_MS] * len(kinds),
        }
    )


def _groups(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per kind x mode group (the "all" margins left out)."""
    return summary[summary["mode"] != ALL].drop_duplicates(["kind", "mode"])


def test_empty_kind_and_mode_are_the_not_observable_group_by_hand():
    df = _table(
        kinds=["early", "early", "early_fallback", "early_fallback", None, "", "standard", "early"],
        modes=[None, "conservative", "optimistic", float("nan"), None, "optimistic", "", UNKNOWN],
        ok=[True, True, True, True, True, False, True, True],
    )
    summary = summarize(df)
    got = {
        (k, m): (e, c)
        for k, m, e, c in _groups(summary)[["kind", "mode", "episodes", "counted"]].itertuples(
            index=False
        )
    }
    assert got == {
        ("standard", NOT_OBSERVED): (1, 1),
        ("early", "conservative"): (1, 1),
        ("early", UNKNOWN): (1, 1),  # the MN's own unknown mode: not the empty one's group
        ("early", NOT_OBSERVED): (1, 1),
        ("early_fallback", "optimistic"): (1, 1),
        ("early_fallback", NOT_OBSERVED): (1, 1),
        (NOT_OBSERVED, "optimistic"): (1, 0),
        (NOT_OBSERVED, NOT_OBSERVED): (1, 1),
    }
    margins = summary[summary["mode"] == ALL].drop_duplicates("kind")
    # early_fallback now has two modes, so its margin; the unknown kind too
    assert dict(zip(margins["kind"], margins["episodes"], strict=True)) == {
        "standard": 1,
        "early": 3,
        "early_fallback": 2,
        NOT_OBSERVED: 2,
    }
    early_unknown = summary[
        (summary["kind"] == "early")
        & (summary["mode"] == NOT_OBSERVED)
        & (summary["quantity"] == "send_latency")
    ]
    assert early_unknown["n"].tolist() == [1] and early_unknown["median_ms"].tolist() == [SEND_MS]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(KIND_VALUES), st.sampled_from(MODE_VALUES), st.booleans()),
        min_size=1,
        max_size=MAX_ROWS,
    )
)
def test_groups_add_up_to_the_episodes(rows):
    kinds, modes, ok = zip(*rows, strict=True)
    df = _table(kinds, modes, ok)
    groups = _groups(summarize(df))
    assert groups["episodes"].sum() == len(df)
    assert groups["counted"].sum() == int(counted_mask(df).sum())
    compared = _groups(compare_table(df.assign(file="x.pcap"), "kind"))
    assert compared["episodes"].sum() == len(df)


def _summary_of(tmp_path, name: str, packets) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = tmp_path / f"{name}.pcap"
    path.write_bytes(R.pcap(sorted(packets, key=lambda p: p[0])))
    rows = ebutool.analyze(path)
    return rows, summarize(rows)


def test_cn_side_episode_without_mode_is_counted(tmp_path):
    rows, summary = _summary_of(tmp_path, "cn-side", cn_view())
    assert rows["mode"].isna().all() and len(rows) == 1  # the CN cannot tell the mode
    groups = _groups(summary)
    assert groups[["kind", "mode", "episodes", "counted"]].values.tolist() == [
        ["standard", NOT_OBSERVED, 1, 1]
    ]


def test_ha_side_episode_without_kind_is_counted(tmp_path):
    rows, summary = _summary_of(tmp_path, "ha-side", ha_view())
    assert rows["kind"].isna().all() and len(rows) == 1  # the HA cannot tell the kind
    groups = _groups(summary)
    assert groups[["kind", "mode", "episodes", "counted"]].values.tolist() == [
        [NOT_OBSERVED, NOT_OBSERVED, 1, int(counted_mask(rows).sum())]
    ]
