"""`quality` says ok exactly for the rows the statistics count (DESIGN.md section 4:
"summaries and comparisons count `ok` rows only and report the others by reason").

A home registration refused or never acknowledged, and an early binding whose tentative
lifetime ran out, used to leave the statistics by their diagnosis while `quality` said
ok: a reader filtering the table on quality == ok got other numbers than --summary.
The captures are built with the independent builder (tests/support/rfc_scenarios).
"""

from __future__ import annotations

import pandas as pd
import pytest

import ebutool
from ebutool.analysis.summary import counted_mask, exclusion_counts
from tests.support.cli import SAMPLES
from tests.support.rfc_scenarios import Scenario


def _standard(s: Scenario, t: float, ha: str) -> None:
    """A standard handover at ``t`` ms; ``ha``: ok, refused (status 129) or none."""
    s.bu_ha(t, seq=10)
    s.hoti(t, b"H" * 8)
    s.coti(t, b"C" * 8)
    if ha == "ok":
        s.ba_ha(t + 40, seq=10)
    elif ha == "refused":
        s.ba_ha(t + 40, seq=10, status=129)  # 129: administratively prohibited
    s.cot(t + 20, b"C" * 8, index=1)
    s.hot(t + 120, b"H" * 8, index=1)
    s.bu_cn(t + 120, seq=20, hidx=1, cidx=1)
    s.ba_cn(t + 140, seq=20, key=(1, 1))
    s.data_up(t + 141)
    s.data_down(t + 150)


def _early(s: Scenario, t: float, final_bu_after_ms: float) -> None:
    """An early handover at ``t`` ms whose final BU leaves ``final_bu_after_ms`` later."""
    s.hoti(t - 500, b"E" * 8, coa=s.old)
    s.hot(t - 400, b"E" * 8, index=1, coa=s.old)
    s.bu_ha(t, seq=10)
    s.bu_cn(t, seq=30, hidx=1, cidx=0, kbm_cidx=None)  # the EBU (care-of index 0)
    s.coti(t, b"C" * 8)
    s.ba_cn(t + 24, seq=30, key=(1, None))  # the EBA
    s.cot(t + 24, b"C" * 8, index=1)
    s.ba_ha(t + 40, seq=10)
    s.data_down(t + 30)
    s.data_up(t + 41)
    s.bu_cn(t + final_bu_after_ms, seq=31, hidx=1, cidx=1)
    s.ba_cn(t + final_bu_after_ms + 24, seq=31, key=(1, 1))


DRAFT_TENTATIVE_LIFETIME_MS = 3000  # the draft, section 8: a tentative binding lives 3 s
LATE_MS = DRAFT_TENTATIVE_LIFETIME_MS + 1000  # the final BU after the lifetime

CASES = [
    ("standard, home registration refused", lambda s: _standard(s, 1000, "refused"),
     "ha_ba_rejected", "ha_ba_rejected_129"),
    ("standard, home registration unanswered", lambda s: _standard(s, 1000, "none"),
     "ha_bu_unanswered", "ha_bu_unanswered"),
    ("early, tentative binding expired", lambda s: _early(s, 1000, LATE_MS),
     "tentative_binding_expired", "tentative_binding_expired"),
    ("standard, clean", lambda s: _standard(s, 1000, "ok"), "ok", None),
    ("early, clean", lambda s: _early(s, 1000, 40), "ok", None),
]  # fmt: skip


@pytest.mark.parametrize(("case", "build", "quality", "note"), CASES, ids=[c[0] for c in CASES])
def test_quality_names_why_a_row_leaves_the_statistics(tmp_path, case, build, quality, note):
    s = Scenario()
    build(s)
    df = ebutool.analyze(s.write(tmp_path))
    cn = df[df["cn"] == s.cn]
    assert len(cn) == 1, case
    row = cn.iloc[0]
    assert row["quality"] == quality, (case, row["quality"], row["diagnosis"])
    if note is not None:
        assert note in str(row["diagnosis"]).split(";")
    # the statistics count a row exactly when quality says ok
    assert counted_mask(df).tolist() == (df["quality"] == "ok").tolist()


def test_quality_and_the_counted_rows_agree_on_the_samples():
    for path in sorted(SAMPLES.glob("*.pcap")):
        df = ebutool.analyze(path)
        assert counted_mask(df).tolist() == (df["quality"] == "ok").tolist(), path.name


def test_left_out_reasons_are_the_quality_codes(tmp_path):
    """The "left out" statement names each row's quality code (the same words as before)."""
    s = Scenario()
    _standard(s, 1000, "refused")
    df = ebutool.analyze(s.write(tmp_path))
    counts = exclusion_counts(df)
    want = df.loc[df["quality"] != "ok", "quality"].value_counts().to_dict()
    assert counts == want
    assert isinstance(df, pd.DataFrame) and "ha_ba_rejected" in counts
