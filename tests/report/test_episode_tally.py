"""The statistics counts of a provenance gathered piece by piece (EpisodeTally, for a
streamed analyze output) are those of the whole table (statistics_counts)."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ebutool.analysis.summary import EXCLUDING_NOTES
from ebutool.report.provenance import EpisodeTally, statistics_counts

DIAGNOSES = st.one_of(
    st.none(),
    st.sampled_from([f"{n}x" for n in EXCLUDING_NOTES] + ["other_note", "a;b"]),
)
QUALITY = st.one_of(st.none(), st.sampled_from(["ok", "ok", "clock_suspect", "partial"]))


@st.composite
def episodes(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 30))
    return pd.DataFrame(
        {
            "diagnosis": pd.Series(draw(st.lists(DIAGNOSES, min_size=n, max_size=n)), dtype=object),
            "complete": pd.Series(
                draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool
            ),
            "quality": pd.Series(draw(st.lists(QUALITY, min_size=n, max_size=n)), dtype=object),
        }
    )


@settings(max_examples=80, deadline=None)
@given(df=episodes(), cuts=st.lists(st.integers(0, 30), max_size=5))
def test_tally_of_pieces_is_the_whole_tables_counts(df, cuts):
    edges = sorted({0, len(df), *(c % (len(df) + 1) for c in cuts)})
    tally = EpisodeTally()
    for a, b in zip(edges, edges[1:], strict=False):
        tally.add(df.iloc[a:b].reset_index(drop=True))
    got = tally.counts()
    want = statistics_counts(df)
    assert got == want
    assert list(got["left_out"]) == list(want["left_out"])  # the same order (ranked, ties)
