"""The quality column's rule (ebutool.analysis.quality): one code per row, in order."""

from __future__ import annotations

import pandas as pd

from ebutool.analysis import quality as Q


def test_first_reason_wins_and_ok_needs_a_complete_clean_row():
    assert Q.quality(True, "conservative", []) == "ok"
    assert Q.quality(True, "unknown", ["no_home_registration"]) == "ok"
    assert Q.quality(False, "conservative", []) == "incomplete"
    assert Q.quality(True, "eba_only", []) == "eba_only"
    assert Q.quality(True, "optimistic", ["reply_before_request"]) == "inconsistent_times"
    assert Q.quality(False, "unknown", ["capture_started_mid_episode"]) == (
        "capture_began_mid_procedure"
    )
    both = ["capture_started_mid_episode", "binding_refresh"]
    assert Q.quality(False, "unknown", both) == "refresh"
    assert Q.quality(False, "eba_only", ["care_of_index_0_ambiguous"]) == (
        "ambiguous_classification"
    )


def test_is_ok_reads_rows_and_tables_without_the_column():
    df = pd.DataFrame({"quality": ["ok", "refresh"], "kind": ["standard", "incomplete"]})
    assert [Q.is_ok(r) for _, r in df.iterrows()] == [True, False]
    assert Q.is_ok({"kind": "standard"})  # output of an older ebutool: every row counts
    assert not Q.is_ok({"quality": None})


def test_every_code_is_in_the_docs_table():
    table = Q.markdown_table()
    assert "| `ok` |" in table
    for code in Q.QUALITY_CODES:
        assert f"| `{code}` |" in table
