"""Issue 11: situations that used to give wrong rows that look normal.

Each capture is built from raw bytes (tests/support/rfc_scenarios.py, from the RFC text)
and each expected row is computed here from the scenario's own packet times.
"""

from __future__ import annotations

import ebutool
from ebutool.core.diagnostics import Diagnostics
from tests.support.rfc_scenarios import Scenario, epoch_s, expect_row, predictions

H, C = b"homeck01", b"careck01"


def analyze(s: Scenario, tmp_path, **kw):
    diag = Diagnostics()
    df = ebutool.analyze(s.write(tmp_path), diag=diag, **kw)
    return df, diag


def one(df):
    assert len(df) == 1, df[["cn", "coa", "kind", "diagnosis"]].to_string()
    return df.iloc[0]


def standard_handover(s: Scenario, t0: float = 1000.0, cidx: int = 2, seq: int = 20) -> dict:
    """A clean standard handover at the MN (seed Figure 1); the times it used."""
    s.data_up(900, s.old)
    s.data_down(905, s.old)
    s.bu_ha(t0, seq=10)
    s.hoti(t0 + 0.01, H)
    s.coti(t0 + 0.02, C)
    s.ba_ha(t0 + 20, seq=10)
    s.cot(t0 + 30, C, index=cidx)
    s.hot(t0 + 80, H, index=1)
    s.bu_cn(t0 + 80.5, seq=seq, hidx=1, cidx=cidx)
    s.data_down(t0 + 96, s.new)
    s.ba_cn(t0 + 110.5, seq=seq, key=(1, cidx))
    s.data_up(t0 + 111, s.new)
    return {"rtt_ha": 20.0, "rtt_bt": 80.0 - 0.01, "rtt_ro": 30.0 - 0.02}


def standard_expected(s: Scenario, t0: float, rtts: dict, **over) -> dict:
    exp = dict(
        mn=s.hoa,
        ha=s.ha,
        cn=s.cn,
        prev_coa=s.old,
        coa=s.new,
        kind="standard",
        mode="conservative",
        t_handover=epoch_s(t0),
        rtt_ha_ms=rtts["rtt_ha"],
        rtt_bt_ms=rtts["rtt_bt"],
        rtt_ro_ms=rtts["rtt_ro"],
        send_latency_ms=111.0,
        recv_latency_ms=96.0,
        auth="valid",
        quality="ok",
        complete=True,
        diagnosis=None,
        rtt_bt_basis="home_test",
        **predictions(rtts["rtt_ha"], rtts["rtt_bt"], rtts["rtt_ro"]),
    )
    exp.update(over)
    return exp


def test_clean_standard_handover_is_ok(tmp_path):
    s = Scenario()
    rtts = standard_handover(s)
    df, _ = analyze(s, tmp_path)
    expect_row(one(df), **standard_expected(s, 1000.0, rtts))
