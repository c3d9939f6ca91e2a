"""``--cn-policy observed`` and an EBA the capture cut inside its fixed fields: an answer
came, its status is unknown (a CN without EBU support answers an EBU only with 136-138:
RFC 6275 9.5.1 checks the nonce indices before the MAC, and drops a failed MAC
silently).  So a cut answer is no evidence either way: it must not make the CN
``standard`` as if it had answered nothing (docs/replay.md "Per-CN policies").

Capture built with the independent builder (tests/support/rfc_scenarios); the cut is
the pcap record's captured length (rfc_packets.pcap, cut=): 8 of the EBA's 32 octets
kept, its Sequence Number gone (one cut in its Lifetime is read by its Status and
Sequence Number: tests/cn_replay/test_replay_cut_answer_more.py)."""

from __future__ import annotations

from ebutool.cn_replay import replay
from tests.support.rfc_scenarios import Scenario

H, C = b"homeck01", b"careck01"
T0 = 1000.0  # ms
EBA_AT = T0 + 110.5
DATA_AT = [T0 + 200 + 100 * i for i in range(10)]  # the CN's data to the new CoA


def _capture(tmp_path, cut: int | None):
    s = Scenario()
    s.data_down(905, s.old)
    s.bu_ha(T0, seq=10)
    s.hoti(T0 + 0.01, H)
    s.coti(T0 + 0.02, C)
    s.ba_ha(T0 + 20, seq=10)
    s.cot(T0 + 30, C, index=2)
    s.hot(T0 + 80, H, index=1)
    s.bu_cn(T0 + 80.5, seq=20, hidx=1, cidx=0, kbm_cidx=None)  # the EBU (early Kbm)
    s.ba_cn(EBA_AT, seq=20, key=(1, None))  # its EBA (cut below: 32 - 24 = 8 octets)
    for t in DATA_AT:
        s.data_down(t, s.new)
    s.bu_cn(T0 + 2112, seq=21, hidx=1, cidx=2)
    s.ba_cn(T0 + 2140, seq=21, key=(1, 2))
    return s.write(tmp_path, "obs.pcap", cut={EBA_AT: cut} if cut else {})


def test_a_cut_eba_does_not_make_the_cn_standard(tmp_path):
    """The CN's only EBA is cut: its policy stays undecided (``observed``, modelled early,
    as a CN sent no EBU) and says why;
    the EBU makes a tentative binding, the BU verifies it, the CN's 10 packets to the new
    care-of address while tentative are no divergence."""
    r = replay(_capture(tmp_path, 24), cn_policy="observed")
    cn = r.decisions["cn"].iloc[0]
    assert r.summary["cn_policies"] == {cn: "observed"}  # undecided, not standard
    why = r.summary["cn_policies_observed"][cn]
    assert "cut" in why
    assert r.summary["divergences"] == 0, r.divergences
    assert list(r.decisions["action"]) == ["tentative", "verified"]
    assert len(r.exposure) == 1 and r.exposure.iloc[0]["verified"]


def test_a_whole_eba_still_makes_the_cn_early(tmp_path):
    r = replay(_capture(tmp_path, None), cn_policy="observed")
    cn = r.decisions["cn"].iloc[0]
    assert r.summary["cn_policies"] == {cn: "early"}
    assert r.summary["cn_policies_observed"][cn] == "answered 1 of 1 EBUs"
