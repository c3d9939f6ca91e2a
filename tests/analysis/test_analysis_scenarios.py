"""Episode reconstruction on scenarios built with ebutool's encoder (tests/scenarios.py).

Every expected value is computed here from the delays the test chose: RTTs are the
sums of one-way delays, latencies follow from when the scenario's MN and CN may use
the new address (which, with zero processing time, are exactly the draft's formulas).
Observed latencies may exceed that by at most one data-packet period.
"""

from __future__ import annotations

import math

import pytest

from ebutool.analysis import DESIGN_COLUMNS, EPISODE_COLUMNS, analyze_records
from ebutool.core.diagnostics import Diagnostics
from tests.support.scenarios import (
    CN,
    GAP,
    MN,
    RETX_MS,
    Capture,
    Delays,
    Plan,
    handover,
    ns,
    return_home,
)

T0 = 1000.0
PERIOD = 2.0
HOA, HA = "2001:db8:100::1", "2001:db8:100::ff"
COA1, COA2 = "2001:db8:a1::1", "2001:db8:a2::1"
CN1, CN2 = "2001:db8:200::1", "2001:db8:300::1"
NEAR = Delays(d_ha=10, d_hc=30, d_ro=15)  # at the new address
OLD = Delays(d_ha=8, d_hc=30, d_ro=12)  # at the old address (early pre-handover test)


def run(cap: Capture, vantage: str | None = None):
    diag = Diagnostics()
    df = analyze_records(cap.records(), diag=diag, vantage=vantage)
    return df, diag


def approx(value, expected, tol):
    if expected is None:
        return value is None or (isinstance(value, float) and math.isnan(value))
    return value is not None and not math.isnan(value) and abs(value - expected) <= tol


def check(
    row,
    *,
    kind,
    mode,
    mn=HOA,
    ha=HA,
    cn=CN1,
    prev_coa=COA1,
    coa=COA2,
    t0=T0,
    rtt_ha=None,
    rtt_bt=None,
    rtt_ro=None,
    send=None,
    recv=None,
    predicted=True,
    bt_pred="same",
):
    """``bt_pred``: the RTT_BT the predictions should use ("same": rtt_bt)."""
    """Every column of one row against the ground truth of the test."""
    assert (row["kind"], row["mode"]) == (kind, mode), row["diagnosis"]
    assert (row["mn"], row["ha"], row["cn"], row["prev_coa"], row["coa"]) == (
        mn,
        ha,
        cn,
        prev_coa,
        coa,
    )
    assert row["t_handover"] == pytest.approx(ns(t0) / 1e9, abs=1e-6)
    for col, exp in (("rtt_ha_ms", rtt_ha), ("rtt_bt_ms", rtt_bt), ("rtt_ro_ms", rtt_ro)):
        assert approx(row[col], exp, 0.1), (col, row[col], exp)
    for col, exp in (("send_latency_ms", send), ("recv_latency_ms", recv)):
        assert approx(row[col], exp, PERIOD), (col, row[col], exp)
    if predicted:
        # The draft's section 5 formulas, written out here from the chosen RTTs.
        ha_, bt, ro = rtt_ha, (rtt_bt if bt_pred == "same" else bt_pred), rtt_ro
        full = None if None in (ha_, bt, ro) else max(ha_, bt, ro)
        exp = {
            "std_send_conserv_ms": None if full is None else full + ro,
            "std_send_optimst_ms": full,
            "std_recv_ms": None if full is None else full + ro,
            "early_send_conserv_ms": None if None in (ha_, ro) else max(ha_, ro),
            "early_send_optimst_ms": None if ro is None else 0.0,
            "early_recv_ms": ro,
        }
    else:
        exp = dict.fromkeys(
            [
                "std_send_conserv_ms",
                "std_send_optimst_ms",
                "std_recv_ms",
                "early_send_conserv_ms",
                "early_send_optimst_ms",
                "early_recv_ms",
            ]
        )
    for col, e in exp.items():
        assert approx(row[col], e, 0.1), (col, row[col], e)


def one(df):
    assert len(df) == 1, df[["mn", "cn", "kind"]]
    return df.iloc[0]


def test_early_send_optimst_needs_the_early_inputs():
    from ebutool.analysis.formulas import predict

    assert predict(20.0, 80.0, None)["early_send_optimst"] is None
    assert predict(None, None, 30.0)["early_send_optimst"] == 0.0
    # a standard episode whose CoT was lost: no RTT_RO, so no 0 from the formula either
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    handover(
        cap,
        mn,
        [cn],
        T0,
        COA2,
        COA1,
        Plan("standard", "optimistic", PERIOD, lose_cot=True),
        NEAR.d_ha,
    )
    df, _ = run(cap)
    row = one(df)
    assert math.isnan(row["rtt_ro_ms"]) and math.isnan(row["early_send_optimst_ms"])


def test_columns_are_the_design_contract_in_order():
    df, _ = run(Capture())
    assert (
        list(df.columns)[:20]
        == DESIGN_COLUMNS
        == [
            "mn",
            "ha",
            "cn",
            "prev_coa",
            "coa",
            "kind",
            "mode",
            "t_handover",
            "rtt_ha_ms",
            "rtt_bt_ms",
            "rtt_ro_ms",
            "send_latency_ms",
            "recv_latency_ms",
            "std_send_conserv_ms",
            "std_send_optimst_ms",
            "std_recv_ms",
            "early_send_conserv_ms",
            "early_send_optimst_ms",
            "early_recv_ms",
            "auth",
        ]
    )
    assert df.empty and list(df.columns) == list(EPISODE_COLUMNS)
    assert str(df["rtt_ha_ms"].dtype) == "float64" and str(df["episode"].dtype) == "Int64"


@pytest.mark.parametrize("mode", ["conservative", "optimistic"])
def test_standard(mode):
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    handover(cap, mn, [cn], T0, COA2, COA1, Plan("standard", mode, PERIOD), NEAR.d_ha)
    df, diag = run(cap)
    d = NEAR
    full = max(d.rtt_ha, d.rtt_bt, d.rtt_ro)  # BU->CN leaves when BA, HoT and CoT are in
    send = full + d.rtt_ro if mode == "conservative" else full
    row = one(df)
    check(
        row,
        kind="standard",
        mode=mode,
        rtt_ha=d.rtt_ha,
        rtt_bt=d.rtt_bt,
        rtt_ro=d.rtt_ro,
        send=send,
        recv=full + d.rtt_ro,
    )
    assert row["rtt_ro_from"] == "coti_cot" and not row["home_test_before_handover"]
    assert row["complete"] and row["n_retransmissions"] == 0 and row["diagnosis"] is None
    assert row["t0_source"] == "first_packet" and row["auth"] == "valid"
    assert not diag.counts


@pytest.mark.parametrize("mode", ["conservative", "optimistic"])
def test_early(mode):
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    handover(cap, mn, [cn], T0, COA2, COA1, Plan("early", mode, PERIOD, old=OLD), NEAR.d_ha)
    df, diag = run(cap)
    d = NEAR
    send = max(d.rtt_ha, d.rtt_ro) if mode == "conservative" else 0.0
    row = one(df)
    # RTT_BT comes from the home test run from the old address before the handover.
    check(
        row,
        kind="early",
        mode=mode,
        rtt_ha=d.rtt_ha,
        rtt_bt=OLD.rtt_bt,
        rtt_ro=d.rtt_ro,
        send=send,
        recv=d.rtt_ro,
    )
    assert row["rtt_ro_from"] == "ebu_eba" and row["home_test_before_handover"]
    assert row["complete"] and row["diagnosis"] is None and not diag.counts


def test_early_to_cn_without_ebu_support_falls_back():
    """The CN drops the EBU and answers the MN's data with a Binding Error; the MN
    completes with the standard BU, reusing its pre-handover home token."""
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR, supports_ebu=False)
    handover(cap, mn, [cn], T0, COA2, COA1, Plan("early", "optimistic", PERIOD, old=OLD), NEAR.d_ha)
    df, _ = run(cap)
    d = NEAR
    # The BU->CN leaves once the CoT is in (home token reused: RTT_BT drops out, draft 5.1)
    row = one(df)
    # predicted as a standard update whose home token was already there: RTT_BT 0 (5.1)
    check(
        row,
        kind="early_fallback",
        mode="optimistic",
        rtt_ha=d.rtt_ha,
        rtt_bt=OLD.rtt_bt,
        rtt_ro=d.rtt_ro,
        send=0.0,
        recv=d.rtt_ro + d.rtt_ro,
        bt_pred=0.0,
    )
    assert row["rtt_bt_basis"] == "token_reused" and row["rtt_bt_pred_ms"] == 0.0
    assert row["n_binding_errors"] == 1 and row["rtt_ro_from"] == "coti_cot"
    assert {"binding_error", "ebu_unanswered"} <= set(row["diagnosis"].split(";"))


def test_early_fallback_on_a_cn_that_answers_ebus_is_a_loss():
    """The same CN answered the MN's EBU at the first handover; at the second no EBA came
    (EBU or EBA lost): early_fallback, diagnosed as a loss, not as a legacy CN."""
    cap, mn = Capture(), MN(HOA, HA)
    cn_ok, cn_lossy = CN(CN1, NEAR), CN(CN1, NEAR, supports_ebu=False)
    coa3 = "2001:db8:a3::1"
    handover(
        cap, mn, [cn_ok], T0, COA2, COA1, Plan("early", "optimistic", PERIOD, old=OLD), NEAR.d_ha
    )
    handover(
        cap,
        mn,
        [cn_lossy],
        T0 + 2000,
        coa3,
        COA2,
        Plan("early", "optimistic", PERIOD, old=OLD),
        NEAR.d_ha,
    )
    df, _ = run(cap)
    assert list(df["kind"]) == ["early", "early_fallback"]
    notes = set(df.iloc[1]["diagnosis"].split(";"))
    assert "ebu_or_eba_lost" in notes and "ebu_unanswered" in notes
    assert "ebu_or_eba_lost" not in (df.iloc[0]["diagnosis"] or "")


def test_early_fallback_with_binding_error_status_2_is_a_cn_without_ebus():
    from ebutool.wire.build import mh_packet
    from ebutool.wire.mh import messages as M

    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR, supports_ebu=False)
    handover(cap, mn, [cn], T0, COA2, COA1, Plan("early", "optimistic", PERIOD, old=OLD), NEAR.d_ha)
    # the CN does not know the EBU's MH type: Binding Error status 2 (RFC 6275 9.2)
    cap.add(
        T0 + GAP + NEAR.rtt_ro, mh_packet(M.BindingError(status=2, home_address=HOA), CN1, COA2)
    )
    df, _ = run(cap)
    row = one(df)
    assert row["kind"] == "early_fallback"
    assert "ebu_refused_binding_error" in row["diagnosis"].split(";")


def test_return_to_a_previous_address_starts_at_its_first_packet_even_data():
    """A -> B -> A without handover events: the MN's first packet back from A is
    reverse-tunnelled data, 1 ms before its BU to the HA; t0 is that packet."""
    from tests.support.scenarios import reverse_tunnelled

    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    handover(cap, mn, [cn], T0, COA2, COA1, Plan("standard", "conservative", PERIOD), NEAR.d_ha)
    t_back = T0 + 2000
    cap.add(t_back - 1.0, reverse_tunnelled(mn, COA1, cn))
    handover(
        cap,
        mn,
        [cn],
        t_back,
        COA1,
        COA2,
        Plan("standard", "conservative", PERIOD, data_before=0.0),
        NEAR.d_ha,
    )
    df, _ = run(cap)
    assert len(df) == 2
    back = df.iloc[1]
    d = NEAR
    full = max(d.rtt_ha, d.rtt_bt, d.rtt_ro)
    check(
        back,
        kind="standard",
        mode="conservative",
        prev_coa=COA2,
        coa=COA1,
        t0=t_back - 1.0,
        rtt_ha=d.rtt_ha,
        rtt_bt=d.rtt_bt,
        rtt_ro=d.rtt_ro,
        send=full + d.rtt_ro + 1.0,
        recv=full + d.rtt_ro + 1.0,
    )


def _standard_with_home_test_at(t_hoti, t_hot):
    """A standard handover at T0 whose home test ran at the given times (None: no home
    test in the capture): HoTI from the old address, HoT through the tunnel."""
    from tests.support.scenarios import (
        _final_bu,
        ba_from,
        bu_to_ha,
        cot,
        coti,
        hot,
        hoti,
        ro_data_up,
    )

    cap, mn, cn, d = Capture(), MN(HOA, HA), CN(CN1, NEAR), NEAR
    cap.add(T0 - 50, ro_data_up(mn, COA1, cn))
    if t_hoti is not None:
        c = mn.next_cookie()
        cap.add(t_hoti, hoti(mn, COA1, cn, c))
        cap.add(t_hot, hot(mn, COA1 if t_hot < T0 else COA2, cn, c, 3))
    seq = mn.next_seq()
    cap.add(T0, bu_to_ha(mn, COA2, seq))
    cap.add(T0 + d.rtt_ha, ba_from(HA, mn, COA2, seq))
    cc = mn.next_cookie()
    cap.add(T0 + GAP, coti(COA2, cn, cc))
    cap.add(T0 + GAP + d.rtt_ro, cot(COA2, cn, cc, 4))
    t_bu = max(T0 + d.rtt_ha, t_hot or T0, T0 + GAP + d.rtt_ro) + GAP
    _final_bu(cap, mn, cn, COA2, t_bu, Plan(), mode_waits_for_ba=True)
    df, _ = run(cap)
    rows = df[df["coa"] == COA2]
    return one(rows)


def _std_predictions(row, bt):
    d = NEAR
    full = max(d.rtt_ha, bt, d.rtt_ro)
    assert row["std_send_conserv_ms"] == pytest.approx(full + d.rtt_ro)
    assert row["std_send_optimst_ms"] == pytest.approx(full)
    assert row["std_recv_ms"] == pytest.approx(full + d.rtt_ro)


def test_standard_home_test_sent_before_t0_predicts_from_t0_to_the_hot():
    # HoTI 10 ms before t0, HoT 70 ms after: the MN waited 70 ms for it after t0
    row = _standard_with_home_test_at(T0 - 10, T0 + 70)
    assert row["kind"] == "standard" and row["home_test_before_handover"]
    assert row["rtt_bt_ms"] == pytest.approx(80.0)  # the measured exchange
    assert row["rtt_bt_basis"] == "t0_to_hot" and row["rtt_bt_pred_ms"] == pytest.approx(70.0)
    _std_predictions(row, 70.0)


def test_standard_reusing_a_token_predicts_with_rtt_bt_zero():
    row = _standard_with_home_test_at(T0 - 200, T0 - 120)  # home test done before t0
    assert row["kind"] == "standard" and row["rtt_bt_basis"] == "token_reused"
    _std_predictions(row, 0.0)
    row = _standard_with_home_test_at(None, None)  # token predates the capture
    assert row["kind"] == "standard" and row["rtt_bt_ms"] is None or math.isnan(row["rtt_bt_ms"])
    assert row["rtt_bt_basis"] == "token_reused" and row["rtt_bt_pred_ms"] == 0.0
    _std_predictions(row, 0.0)


@pytest.mark.parametrize("period", [2.0, 5.0])
def test_data_gap_before_the_handover(period):
    """Data flows every ``period`` ms both ways before t0: the latencies include up to
    one such wait, and data_gap_*_ms report it."""
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    plan = Plan("standard", "conservative", period, data_before=100.0)
    handover(cap, mn, [cn], T0, COA2, COA1, plan, NEAR.d_ha)
    df, _ = run(cap)
    row = one(df)
    assert row["data_gap_send_ms"] == pytest.approx(period, abs=1e-6)
    assert row["data_gap_recv_ms"] == pytest.approx(period, abs=1e-6)


@pytest.mark.parametrize("mode", ["conservative", "optimistic"])
def test_early_without_ack_request_has_no_mode_by_definition(mode):
    """An EBU without the A flag: no EBA to wait for, so waiting for it cannot be
    judged.  Mode unknown, unless the MN sent route-optimised data before even the HA's
    BA arrived (then it waited for nothing: optimistic)."""
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    plan = Plan("early", mode, PERIOD, old=OLD, ebu_no_ack=True)
    handover(cap, mn, [cn], T0, COA2, COA1, plan, NEAR.d_ha)
    df, _ = run(cap)
    row = one(df)
    assert row["kind"] == "early"
    # optimistic: data from t0 + PERIOD, long before BA<-HA at t0 + RTT_HA = t0 + 20 ms
    assert row["mode"] == ("unknown" if mode == "conservative" else "optimistic")


def test_home_registration_only():
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    handover(cap, mn, [cn], T0, COA2, COA1, Plan("home_only", period=PERIOD), NEAR.d_ha)
    df, _ = run(cap, vantage="mn")
    row = one(df)
    check(row, kind="home_only", mode="unknown", cn=None, rtt_ha=NEAR.rtt_ha, predicted=False)
    assert row["complete"] and row["rtt_ro_from"] is None and row["vantage"] == "mn"
    # Only a BU to the HA and its BA: the HA sees the same packets, so without --vantage
    # the capture is ambiguous: a warning, and no MN- or HA-side value is guessed.
    df, diag = run(cap)
    row = one(df)
    assert diag.counts["ambiguous_vantage"] == 1 and row["vantage"] is None
    assert math.isnan(row["rtt_ha_ms"]) and math.isnan(row["t_handover"])
    assert "vantage_unknown" in row["diagnosis"]


def test_return_home_is_deregistration():
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    handover(cap, mn, [cn], T0, COA1, None, Plan("standard", "optimistic", PERIOD), NEAR.d_ha)
    home_at = T0 + 1000
    return_home(cap, mn, [cn], home_at, NEAR.d_ha, Plan())
    df, _ = run(cap)
    assert list(df["kind"]) == ["standard", "deregistration"]
    row = df.iloc[1]
    # From home the home test takes the direct path; no CoTI: no RTT_RO, nothing predicted.
    check(
        row,
        kind="deregistration",
        mode="unknown",
        prev_coa=COA1,
        coa=HOA,
        t0=home_at,
        rtt_ha=NEAR.rtt_ha,
        rtt_bt=NEAR.rtt_ro,
        predicted=False,
    )
    assert row["complete"]


def test_lost_cot_leaves_the_episode_incomplete():
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    handover(
        cap,
        mn,
        [cn],
        T0,
        COA2,
        COA1,
        Plan("standard", "conservative", PERIOD, lose_cot=True, data_after=1500.0),
        NEAR.d_ha,
    )
    df, _ = run(cap)
    row = one(df)
    check(row, kind="incomplete", mode="unknown", rtt_ha=NEAR.rtt_ha, rtt_bt=NEAR.rtt_bt)
    notes = set(row["diagnosis"].split(";"))
    assert "coti_unanswered" in notes and "capture_ended_mid_episode" not in notes
    assert not row["complete"]


def test_two_mobile_nodes_interleaved():
    cap = Capture()
    a, b = MN(HOA, HA), MN("2001:db8:100::2", "2001:db8:100::fe")
    cn = CN(CN1, NEAR)
    far = Delays(d_ha=20, d_hc=25, d_ro=40)
    cn_b = CN(CN1, far)
    handover(cap, a, [cn], T0, COA2, COA1, Plan("standard", "conservative", PERIOD), NEAR.d_ha)
    handover(
        cap,
        b,
        [cn_b],
        T0 + 3,
        "2001:db8:b2::2",
        "2001:db8:b1::2",
        Plan("early", "optimistic", PERIOD, old=OLD),
        far.d_ha,
    )
    df, diag = run(cap)
    assert len(df) == 2 and not diag.counts
    ra = df[df["mn"] == HOA].iloc[0]
    rb = df[df["mn"] == "2001:db8:100::2"].iloc[0]
    full = max(NEAR.rtt_ha, NEAR.rtt_bt, NEAR.rtt_ro)
    check(
        ra,
        kind="standard",
        mode="conservative",
        rtt_ha=NEAR.rtt_ha,
        rtt_bt=NEAR.rtt_bt,
        rtt_ro=NEAR.rtt_ro,
        send=full + NEAR.rtt_ro,
        recv=full + NEAR.rtt_ro,
    )
    check(
        rb,
        kind="early",
        mode="optimistic",
        mn="2001:db8:100::2",
        ha="2001:db8:100::fe",
        prev_coa="2001:db8:b1::2",
        coa="2001:db8:b2::2",
        t0=T0 + 3,
        rtt_ha=far.rtt_ha,
        rtt_bt=OLD.rtt_bt,
        rtt_ro=far.rtt_ro,
        send=0.0,
        recv=far.rtt_ro,
    )


def test_one_mn_two_cns_share_the_home_registration():
    cap, mn = Capture(), MN(HOA, HA)
    c1, c2 = CN(CN1, NEAR), CN(CN2, Delays(d_ha=NEAR.d_ha, d_hc=50, d_ro=25))
    handover(cap, mn, [c1, c2], T0, COA2, COA1, Plan("standard", "optimistic", PERIOD), NEAR.d_ha)
    df, _ = run(cap)
    assert list(df["cn"]) == [CN1, CN2]
    for row, c in zip(df.to_dict("records"), (c1, c2), strict=False):
        d = c.delays
        full = max(d.rtt_ha, d.rtt_bt, d.rtt_ro)
        check(
            row,
            kind="standard",
            mode="optimistic",
            cn=c.addr,
            rtt_ha=NEAR.rtt_ha,
            rtt_bt=d.rtt_bt,
            rtt_ro=d.rtt_ro,
            send=full,
            recv=full + d.rtt_ro,
        )
    assert list(df["episode"]) == [1, 2]


def test_retransmission_with_a_new_sequence_number_is_counted():
    """The first BU to the HA is lost and resent with a new sequence number: one
    retransmission, and (unambiguous) RTT_HA from the resend."""
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    plan = Plan(
        "early",
        "conservative",
        PERIOD,
        old=OLD,
        retransmit_ha_bu=True,
        new_seq=True,
        data_after=1300.0,
    )
    handover(cap, mn, [cn], T0, COA2, COA1, plan, NEAR.d_ha)
    df, _ = run(cap)
    row = one(df)
    d = NEAR
    check(
        row,
        kind="early",
        mode="conservative",
        rtt_ha=d.rtt_ha,
        rtt_bt=OLD.rtt_bt,
        rtt_ro=d.rtt_ro,
        send=RETX_MS + d.rtt_ha,
        recv=d.rtt_ro,
    )
    assert row["n_retransmissions"] == 1 and row["karn_excluded"] is None


def test_retransmitted_binding_update_follows_karn():
    """The first BU to the HA is lost and resent (same sequence number) after the
    BA timeout: which copy the BA answers is unknown, so RTT_HA gets no sample."""
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    plan = Plan("early", "conservative", PERIOD, old=OLD, retransmit_ha_bu=True, data_after=1300.0)
    handover(cap, mn, [cn], T0, COA2, COA1, plan, NEAR.d_ha)
    df, _ = run(cap)
    row = one(df)
    d = NEAR
    # The conservative MN waits for the BA<-HA, which arrives RTT_HA after the resend.
    check(
        row,
        kind="early",
        mode="conservative",
        rtt_ha=None,
        rtt_bt=OLD.rtt_bt,
        rtt_ro=d.rtt_ro,
        send=RETX_MS + d.rtt_ha,
        recv=d.rtt_ro,
    )
    assert row["karn_excluded"] == "rtt_ha" and row["n_retransmissions"] == 1
    # A naive first-BU-to-BA sample would have been RETX_MS + RTT_HA:
    assert math.isnan(row["rtt_ha_ms"]) and GAP < 1
