"""Episode reconstruction at the edges: unmapped CoTIs, Karn on address tests, clock
disorder, captures cut at either end, handover events, timeline, auth, tentative
binding lifetime, refreshes and bounded memory."""

from __future__ import annotations

import math

import pytest

from ebutool.analysis import analyze_records, build_episodes
from ebutool.analysis.episodes import Reconstructor
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import HandoverEvent
from tests.support.scenarios import (
    CN,
    GAP,
    MN,
    RETX_MS,
    Capture,
    Delays,
    Plan,
    ba_from,
    bu_to_ha,
    cot,
    coti,
    handover,
    ns,
)

T0 = 1000.0
HOA, HA = "2001:db8:100::1", "2001:db8:100::ff"
COA1, COA2 = "2001:db8:a1::1", "2001:db8:a2::1"
CN1 = "2001:db8:200::1"
NEAR = Delays(d_ha=10, d_hc=30, d_ro=15)
OLD = Delays(d_ha=8, d_hc=30, d_ro=12)


def scenario(procedure="standard", mode="optimistic", **plan):
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    handover(cap, mn, [cn], T0, COA2, COA1, Plan(procedure, mode, old=OLD, **plan), NEAR.d_ha)
    return cap, mn, cn


def analyze(records, **kw):
    diag = Diagnostics()
    return analyze_records(records, diag=diag, **kw), diag


def test_coti_before_anything_maps_its_address():
    """A CoTI has no home address; sent first from the new address it must wait until
    the BU->HA maps that address, and t0 is the CoTI's time."""
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    c = mn.next_cookie()
    cap.add(T0 - 5, coti(COA2, cn, c))
    cap.add(T0 - 5 + NEAR.rtt_ro, cot(COA2, cn, c, 4))
    handover(cap, mn, [cn], T0, COA2, COA1, Plan("home_only"), NEAR.d_ha)
    df, diag = analyze(cap.records())
    row = df.iloc[0]
    assert len(df) == 1 and row["cn"] == CN1 and row["mn"] == HOA
    assert row["t_handover"] == pytest.approx(ns(T0 - 5) / 1e9, abs=1e-6)
    assert row["rtt_ro_ms"] == pytest.approx(NEAR.rtt_ro, abs=0.1)
    assert row["rtt_ha_ms"] == pytest.approx(NEAR.rtt_ha, abs=0.1)
    assert "unmapped_care_of_address" not in diag.counts


def test_coti_never_mapped_is_diagnosed():
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    cap.add(T0, coti("2001:db8:dead::1", cn, mn.next_cookie()))
    df, diag = analyze(cap.records())
    assert df.empty and diag.counts["unmapped_care_of_address"] == 1


def _coti_retransmitted(same_cookie: bool):
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR)
    cap.add(T0, bu_to_ha(mn, COA2, 7))
    cap.add(T0 + NEAR.rtt_ha, ba_from(HA, mn, COA2, 7))
    c1 = mn.next_cookie()
    c2 = c1 if same_cookie else mn.next_cookie()
    cap.add(T0 + GAP, coti(COA2, cn, c1))  # lost
    cap.add(T0 + RETX_MS, coti(COA2, cn, c2))
    cap.add(T0 + RETX_MS + NEAR.rtt_ro, cot(COA2, cn, c2, 4))
    return cap


def test_karn_withholds_rtt_of_coti_resent_with_the_same_cookie():
    df, _ = analyze(_coti_retransmitted(same_cookie=True).records())
    row = df.iloc[0]
    assert math.isnan(row["rtt_ro_ms"]) and row["karn_excluded"] == "rtt_ro"
    assert row["n_retransmissions"] == 1


def test_coti_resent_with_a_new_cookie_is_unambiguous():
    df, _ = analyze(_coti_retransmitted(same_cookie=False).records())
    row = df.iloc[0]
    assert row["rtt_ro_ms"] == pytest.approx(NEAR.rtt_ro, abs=0.1) and row["karn_excluded"] is None


def test_out_of_order_timestamps_are_diagnosed_not_fatal():
    cap, _, _ = scenario()
    recs = cap.records()
    # Swap the timestamps of two data records well after the signalling.
    i = next(i for i in range(len(recs) - 10, 0, -1) if recs[i].ts_ns < recs[i + 1].ts_ns)
    recs[i].ts_ns, recs[i + 1].ts_ns = recs[i + 1].ts_ns, recs[i].ts_ns
    df, diag = analyze(recs)
    assert diag.counts["timestamp_out_of_order"] == 1
    assert list(df["kind"]) == ["standard"]


def test_reply_stamped_before_its_request_gives_no_rtt():
    cap, _, _ = scenario()
    recs = cap.records()
    cot_rec = next(r for r in recs if r.msg == "CoT")
    coti_rec = next(r for r in recs if r.msg == "CoTI")
    cot_rec.ts_ns = coti_rec.ts_ns - 1_000_000
    df, diag = analyze(recs)
    row = df.iloc[0]
    assert math.isnan(row["rtt_ro_ms"]) and "reply_before_request" in row["diagnosis"]
    assert diag.counts["timestamp_out_of_order"] >= 1


def test_capture_starting_mid_episode():
    cap, _, _ = scenario()
    recs = cap.records()
    first_cot = next(i for i, r in enumerate(recs) if r.msg == "CoT")
    df, diag = analyze(recs[first_cot + 1 :])  # starts after CoTI/CoT, before BU->CN
    rows = df[df["cn"] == CN1]
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["kind"] == "incomplete" and "capture_started_mid_episode" in row["diagnosis"]
    assert math.isnan(row["t_handover"]) and math.isnan(row["send_latency_ms"])
    assert diag.counts["orphan_reply"] >= 1


def test_capture_ending_mid_episode():
    cap, _, _ = scenario()
    recs = [r for r in cap.records() if r.ts_ns < ns(T0 + 5)]
    df, _ = analyze(recs)
    row = df.iloc[0]
    assert row["kind"] == "incomplete" and not row["complete"]
    assert "capture_ended_mid_episode" in row["diagnosis"]


def test_handover_event_sets_t0():
    cap, _, _ = scenario(mode="optimistic")
    recs = cap.records()
    plain, _ = analyze(recs)
    event = HandoverEvent(ts_ns=ns(T0 - 5), mn=HOA, coa=COA2, prev_coa=COA1)
    at = next(i for i, r in enumerate(recs) if r.ts_ns >= event.ts_ns)
    df, _ = analyze(recs[:at] + [event] + recs[at:])
    row, base = df.iloc[0], plain.iloc[0]
    assert row["t0_source"] == "event" and base["t0_source"] == "first_packet"
    assert row["t_handover"] == pytest.approx(ns(T0 - 5) / 1e9, abs=1e-6)
    assert row["send_latency_ms"] == pytest.approx(base["send_latency_ms"] + 5, abs=0.01)
    assert row["rtt_ro_ms"] == base["rtt_ro_ms"]


def test_timeline_of_an_early_episode():
    cap, _, _ = scenario("early", "optimistic")
    ep = build_episodes(cap.records())[0]
    got = [(s.msg, s.sender, s.receiver) for s in ep.timeline]
    expected = [
        ("HoTI", "MN", "CN"),
        ("HoT", "CN", "MN"),  # before the handover
        ("BU", "MN", "HA"),
        ("EBU", "MN", "CN"),
        ("CoTI", "MN", "CN"),
        ("data", "MN", "CN"),
        ("BA", "HA", "MN"),
        ("EBA", "CN", "MN"),
        ("CoT", "CN", "MN"),
        ("BU", "MN", "CN"),
        ("data", "CN", "MN"),
        ("BA", "CN", "MN"),
    ]
    assert got == expected
    assert [s.ts_ns for s in ep.timeline] == sorted(s.ts_ns for s in ep.timeline)
    assert ep.timeline[2].ts_ns == ns(T0) and all(s.frame > 0 for s in ep.timeline)


def test_binding_error_is_linked_to_the_data_packet_that_caused_it():
    cap, mn, cn = Capture(), MN(HOA, HA), CN(CN1, NEAR, supports_ebu=False)
    handover(cap, mn, [cn], T0, COA2, COA1, Plan("early", "optimistic", old=OLD), NEAR.d_ha)
    recs = cap.records()
    ep = build_episodes(recs)[0]
    first_data = next(r for r in recs if r.msg == "data" and r.hoa == HOA and r.src == COA2)
    be = next(r for r in recs if r.msg == "BE")
    assert ep.binding_errors == [(be.frame, 1, first_data.frame)]


def test_auth_invalid_when_a_bu_mac_is_forged():
    cap, _, _ = scenario(forged_bu=True)
    df, _ = analyze(cap.records())
    assert df.iloc[0]["auth"] == "invalid"
    df, _ = analyze(cap.records(), oracle=False)
    assert df.iloc[0]["auth"] == "unknown"


def test_auth_with_the_cns_keys():
    from ebutool.oracle.keys import KeyTable, Nonce

    cap, _, cn = scenario("early")
    keys = KeyTable()
    keys.set_kcn(cn.kcn, cn=CN1)
    keys.set_nonces({i: Nonce(v) for i, v in cn.nonces.items()}, cn=CN1)
    df, _ = analyze(cap.records(), keys=keys)
    assert df.iloc[0]["auth"] == "valid"
    wrong = KeyTable()
    wrong.set_kcn(bytes(20), cn=CN1)
    wrong.set_nonces({i: Nonce(v) for i, v in cn.nonces.items()}, cn=CN1)
    df, _ = analyze(cap.records(), keys=wrong)
    assert df.iloc[0]["auth"] == "invalid"


def test_tentative_binding_expires_without_the_final_bu():
    """EBA received but the CoT is lost: no standard BU within TENTATIVE_BINDING_LIFETIME."""
    cap, _, _ = scenario("early", "optimistic", lose_cot=True, data_after=3500.0)
    df, _ = analyze(cap.records())
    row = df.iloc[0]
    notes = set(row["diagnosis"].split(";"))
    assert row["kind"] == "early" and not row["complete"]
    assert {"no_final_bu", "tentative_binding_expired", "coti_unanswered"} <= notes
    longer = DEFAULT_CONFIG.with_(tentative_binding_lifetime=10.0)
    df, _ = analyze(cap.records(), config=longer)
    assert "tentative_binding_expired" not in df.iloc[0]["diagnosis"]


def test_refreshes_after_completion_do_not_change_the_episode():
    cap, mn, cn = scenario()
    before, _ = analyze(cap.records())
    later = T0 + 300
    cap.add(later, bu_to_ha(mn, COA2, 900))
    cap.add(later + NEAR.rtt_ha * 5, ba_from(HA, mn, COA2, 900))
    after, diag = analyze(cap.records())
    assert len(after) == 1 and "orphan_reply" not in diag.counts
    assert after.iloc[0]["rtt_ha_ms"] == before.iloc[0]["rtt_ha_ms"] == pytest.approx(NEAR.rtt_ha)


def test_state_does_not_grow_with_data_packets():
    short, _, _ = scenario(data_after=400.0)
    long_, _, _ = scenario(data_after=4000.0)
    eps_s, eps_l = build_episodes(short.records()), build_episodes(long_.records())
    assert len(long_.records()) > 5 * len(short.records())
    assert len(eps_s[0].timeline) == len(eps_l[0].timeline)
    rc = Reconstructor()
    for rec in long_.records():
        rc.feed(rec)
    ho = rc.mns[HOA].current
    ep = ho.cns[CN1]
    assert len(ep.steps) < 20 and not rc.pending and len(rc.coti_index) == 0
    assert len(rc.mns[HOA].tests(CN1).done or ()) <= 8


def test_robust_on_random_record_streams():
    """Shuffled and truncated real streams: never an exception, always a typed table."""
    import random

    base = []
    for proc in ("standard", "early"):
        base += scenario(proc)[0].records()
    rng = random.Random(7)
    for _ in range(25):
        recs = rng.sample(base, k=rng.randint(0, len(base)))
        df, _ = analyze(recs)
        assert list(df.columns)[:3] == ["mn", "ha", "cn"]
        assert set(df["kind"]) <= {
            "standard",
            "early",
            "early_fallback",
            "home_only",
            "deregistration",
            "incomplete",
        }


def test_capture_starting_with_the_has_ba_does_not_make_the_ha_a_cn():
    """The capture begins after the BU to the HA, HoTI and CoTI: its first packet is
    the HA's BA (no Binding Authorization Data, unlike a CN's).  The HA must not
    appear as a correspondent node."""
    from tests.support.scenarios import CN, MN, Capture, Delays, Plan, handover, ns

    d = Delays(d_ha=10, d_hc=30, d_ro=15)
    hoa, ha, cn = "2001:db8:100::1", "2001:db8:100::ff", "2001:db8:200::1"
    cap, mn = Capture(), MN(hoa, ha)
    handover(
        cap, mn, [CN(cn, d)], 1000.0, "2001:db8:a2::1", "2001:db8:a1::1", Plan("standard"), d.d_ha
    )
    cap.pkts = [p for p in cap.pkts if p[0] >= ns(1000.0 + d.rtt_ha - 0.001)]
    from ebutool.analysis import analyze_records

    df = analyze_records(cap.records())
    assert ha not in set(df["cn"].dropna())
    assert set(df["ha"].dropna()) == {ha}


def _early_capture():
    from tests.support.scenarios import CN, MN, Capture, Delays, Plan, handover

    d, old = Delays(d_ha=10, d_hc=30, d_ro=15), Delays(d_ha=8, d_hc=30, d_ro=12)
    cap = Capture()
    handover(
        cap,
        MN("2001:db8:100::1", "2001:db8:100::ff"),
        [CN("2001:db8:200::1", d)],
        1000.0,
        "2001:db8:a2::1",
        "2001:db8:a1::1",
        Plan("early", old=old),
        d.d_ha,
    )
    return cap


def test_update_rate_and_rr_lifetime_options_are_used():
    """The early MN sends its EBU at t0 and the standard BU ~30 ms later (2 BUs to the
    CN within a second), each asking for a lifetime of 60 units = 240 s."""
    from dataclasses import replace

    from ebutool.analysis import analyze_records
    from ebutool.core.constants import DEFAULT_CONFIG

    cap = _early_capture()
    base = analyze_records(cap.records()).iloc[0]
    assert base["diagnosis"] is None  # 2 <= 3 per second, 240 s <= 420 s
    strict = replace(DEFAULT_CONFIG, max_update_rate=1.0, max_rr_binding_lifetime=200.0)
    row = analyze_records(cap.records(), config=strict).iloc[0]
    assert set(row["diagnosis"].split(";")) == {"update_rate_exceeded", "lifetime_above_max_rr"}
    loose = replace(DEFAULT_CONFIG, max_update_rate=2.0, max_rr_binding_lifetime=240.0)
    assert analyze_records(cap.records(), config=loose).iloc[0]["diagnosis"] is None
