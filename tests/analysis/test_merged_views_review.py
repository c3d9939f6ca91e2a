"""Merged views, two cases a review of stop 32 found wrong.

A request lost once and resent unchanged (same cookie or sequence
number, RFC 6275 11.8): the MN's capture holds both copies, the far view only the
second.  Which copy arrived cannot be told from the two views, so the message gives no
one-way-delay sample (Karn's rule); it added the retransmission interval to the leg's
delay before (owd_mn_ha_ms 270 ms for 20, quality ok).

The views come from the independent builder tests/support/views_builder.py; the links'
delays are the ground truth."""

from __future__ import annotations

import pytest

import ebutool
from tests.support import rfc_packets as P
from tests.support.views_builder import CN, COAS, HA, HOA, Run

MN_HA_MS, HA_CN_MS, MN_CN_MS = 20.0, 40.0, 12.0
RESEND_AFTER_MS = 1000.0  # RFC 6275 INITIAL_BINDACK_TIMEOUT, the first retransmission
TOL_MS = 0.001


def _run(lost: str) -> Run:
    r = Run(d_mh=MN_HA_MS, d_hc=HA_CN_MS, d_mc=MN_CN_MS)
    r.standard_handover(1000, COAS[1], 10, 20, 0, 1, "a")
    t0, coa = 3000.0, COAS[0]
    if lost == "BU to HA":  # the first copy lost between the MN and the HA
        r.add("mn", t0, P.mh_packet(coa, HA, P.MH_BU, P.bu_body(11, P.BU_A | P.BU_H, 60), hoa=HOA))
        r.bu_ha(t0 + RESEND_AFTER_MS, 11, coa)
    else:
        r.bu_ha(t0, 11, coa)
    if lost == "HoTI":
        inner = P.mh_packet(HOA, CN, P.MH_HOTI, P.hoti_body(b"bbbbbbbH"))
        r.add("mn", t0, P.tunnel(coa, HA, inner))
        home = r.hoti_hot(t0 + RESEND_AFTER_MS, b"bbbbbbbH", coa, 1)
    else:
        home = r.hoti_hot(t0, b"bbbbbbbH", coa, 1)
    careof = r.coti_cot(t0, b"bbbbbbbC", coa, 2)
    t_bu = max(home, careof)
    if lost == "BU to CN":
        alone = Run()
        alone.bu_cn(t_bu, 21, coa, 1, 2)
        r.add("mn", t_bu, alone.views["mn"][0][1])
        t_bu += RESEND_AFTER_MS
    acked = r.bu_cn(t_bu, 21, coa, 1, 2)
    r.data_up(acked + 3, coa)
    r.data_down(acked + 23, coa)
    r.standard_handover(7000, COAS[1], 12, 22, 2, 3, "c")
    return r


@pytest.mark.parametrize("lost", ["HoTI", "BU to HA", "BU to CN"])
def test_a_resent_request_gives_no_one_way_delay_sample(tmp_path, lost):
    paths = _run(lost).write(tmp_path, offsets={"ha": -300.0, "cn": 700.0})
    df = ebutool.analyze(paths["mn"], paths["ha"], paths["cn"], merge=True)
    assert len(df) == 3
    for col, truth in (
        ("owd_mn_ha_ms", MN_HA_MS),
        ("owd_ha_cn_ms", HA_CN_MS),
        ("owd_mn_cn_ms", MN_CN_MS),
    ):
        for value in df[col]:
            # right, or empty (its reason in diagnosis): never the resend interval added
            assert value != value or abs(value - truth) <= TOL_MS, (col, list(df[col]))
    assert df["owd_mn_ha_ms"].notna().all()  # every handover has unrepeated MN-HA messages


def test_without_the_mn_only_what_passes_the_ha_is_moved_there(tmp_path):
    """HA and CN views merged, the HA the reference: a CoTI/CoT or a BU/BA between the
    MN and the CN never passes the HA, so it is not moved into the HA's timeline (it was,
    by the HA-CN delay, and dated the HA's first sight of each handover 48 ms before the
    BU's arrival there).  The HA's own times are the truth: its view alone gives them."""
    r = Run(d_mh=MN_HA_MS, d_hc=HA_CN_MS, d_mc=MN_CN_MS)
    r.standard_handover(1000, COAS[1], 10, 20, 0, 1, "a")
    r.standard_handover(3000, COAS[0], 11, 21, 1, 2, "b")
    paths = r.write(tmp_path, offsets={"ha": -300.0, "cn": 700.0}, only=("ha", "cn"))
    alone = ebutool.analyze(paths["ha"])
    merged = ebutool.analyze(paths["ha"], paths["cn"], merge=True)
    assert list(merged["t_first_seen"]) == list(alone["t_first_seen"])
    truth_ms = [1000 + MN_HA_MS - 300.0, 3000 + MN_HA_MS - 300.0]  # the BU's arrival, HA clock
    got_ms = [(t - 1_700_000_000) * 1000 for t in alone["t_first_seen"]]
    assert got_ms == pytest.approx(truth_ms, abs=TOL_MS)
