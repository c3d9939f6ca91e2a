"""The simulation engine of ``ebutool synth``: message timing against the configured
delays (draft sections 3, 4.1, 4.3), data paths, legacy CNs, jitter, loss, rate limits
and determinism.  Packets are decoded with ebutool's capture decoder (not the engine's
own bookkeeping), and every expected time is computed here from the scenario's delays."""

from __future__ import annotations

import copy

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import record_from_packet
from ebutool.synth import parse_scenario, simulate

KCN = "00112233445566778899aabbccddeeff01234567"
HOA = "2001:db8:1::5"
HA = "2001:db8:1::1"
CN = "2001:db8:c::1"
COA_A, COA_B = "2001:db8:a::5", "2001:db8:b::5"
# one-way delays, ms
D = {"a_ha": 10, "a_cn": 7, "b_ha": 25, "b_cn": 9, "ha_cn": 30}
RATE = 100  # data packets per second each way
PERIOD = 1000 / RATE  # ms


def scenario_dict(
    procedure="early",
    mode="conservative",
    start="net-a",
    handovers=((1000, "net-b"),),
    duration=2500,
    **cn,
) -> dict:
    return {
        "scenario": {"name": "t", "duration_ms": duration, "seed": 7},
        "home_agent": [{"name": "ha", "address": HA}],
        "correspondent": [
            {
                "name": "cn",
                "address": CN,
                "kcn": KCN,
                "ha_delay_ms": D["ha_cn"],
                "nonces": {"1": "0102030405060708", "2": "1112131415161718"},
                **cn,
            }
        ],
        "network": [
            {
                "name": "net-a",
                "prefix": "2001:db8:a::/64",
                "ha_delay_ms": D["a_ha"],
                "cn_delay_ms": {"cn": D["a_cn"]},
            },
            {
                "name": "net-b",
                "prefix": "2001:db8:b::/64",
                "ha_delay_ms": D["b_ha"],
                "cn_delay_ms": {"cn": D["b_cn"]},
            },
        ],
        "mobile_node": [
            {
                "name": "mn",
                "home_address": HOA,
                "procedure": procedure,
                "mode": mode,
                "start": start,
                "handover": [{"at_ms": t, "network": n} for t, n in handovers],
            }
        ],
        "flow": [{"mn": "mn", "cn": "cn", "rate_pps": RATE, "size": 16}],
    }


def run(doc: dict, seed=None, config=None):
    return simulate(parse_scenario(copy.deepcopy(doc)), seed=seed, config=config)


def records(result) -> list:
    """Every mobility-relevant packet of the capture, as ebutool's decoder sees it, with
    ``t`` = scenario time in ms."""
    cached = getattr(result, "_decoded", None)
    if cached is not None:
        return cached
    diag, out = Diagnostics(), []
    for frame, (ts, wire) in enumerate(result.packets, 1):
        rec = record_from_packet(frame, ts, wire, 0, diag)
        if rec is not None:
            out.append((rec, (ts - result.scenario.start_ns) / 1e6))
    assert not diag.counts, diag.kept
    result._decoded = out
    return out


def times(result, msg, **match) -> list[float]:
    """Scenario times (ms) of the records labelled ``msg`` whose attributes match."""
    return [
        t
        for r, t in records(result)
        if r.msg == msg and all(getattr(r, k) == v for k, v in match.items())
    ]


def ro_data_from(result, coa) -> list[float]:
    return [t for r, t in records(result) if r.msg == "data" and r.src == coa and r.hoa == HOA]


def ro_data_to(result, coa) -> list[float]:
    return [t for r, t in records(result) if r.msg == "data" and r.dst == coa and r.rh2 == HOA]


def test_early_conservative_timeline_follows_the_configured_delays():
    res = run(scenario_dict())
    t0, rtt_ha, rtt_ro = 1000, 2 * D["b_ha"], 2 * D["b_cn"]
    assert times(res, "HoTI", tunnel_src=COA_A) == [t0 - 500]  # anticipated, old network
    assert times(res, "HoT", tunnel_dst=COA_A) == [t0 - 500 + 2 * (D["a_ha"] + D["ha_cn"])]
    assert times(res, "BU", src=COA_B, dst=HA) == [t0]
    assert times(res, "EBU", src=COA_B, dst=CN) == [t0]
    assert times(res, "CoTI", src=COA_B) == [t0]
    assert times(res, "BA", src=HA, dst=COA_B) == [t0 + rtt_ha]
    assert times(res, "CoT", dst=COA_B) == [t0 + rtt_ro]
    eba, ba = times(res, "BA", src=CN, dst=COA_B)
    assert eba == t0 + rtt_ro  # EBA
    assert times(res, "BU", src=COA_B, dst=CN) == [t0 + max(rtt_ha, rtt_ro)]  # after CoT and BA<-HA
    assert ba == t0 + max(rtt_ha, rtt_ro) + rtt_ro
    first = ro_data_from(res, COA_B)[0]
    assert t0 + max(rtt_ha, rtt_ro) <= first <= t0 + max(rtt_ha, rtt_ro) + PERIOD
    first_in = ro_data_to(res, COA_B)[0]
    assert t0 + rtt_ro <= first_in <= t0 + rtt_ro + PERIOD
    # before the acknowledgements the MN's data went through the reverse tunnel
    tunnelled = [t for r, t in records(res) if r.msg == "data" and r.tunnel_src == COA_B]
    assert tunnelled and max(tunnelled) < first


def test_early_messages_have_the_drafts_form():
    res = run(scenario_dict())
    ebu = next(r for r, _ in records(res) if r.msg == "EBU")
    from ebutool.wire.mh.messages import BU_FLAG_A, BU_FLAG_H
    from ebutool.wire.mh.mobility_options import BindingAuthorizationData, NonceIndices

    assert not ebu.mh.flags & BU_FLAG_H and ebu.mh.flags & BU_FLAG_A and ebu.mh.lifetime > 0
    assert ebu.mh.option(NonceIndices).careof_index == 0
    assert ebu.mh.option(BindingAuthorizationData) is not None
    std = [r for r, _ in records(res) if r.msg == "BU" and r.dst == CN][0]
    assert std.mh.option(NonceIndices).careof_index != 0
    assert all(r.checksum_ok for r, _ in records(res) if r.mh is not None)


def test_standard_conservative_timeline():
    res = run(scenario_dict(procedure="standard"))
    t0, rtt_ha, rtt_ro = 1000, 2 * D["b_ha"], 2 * D["b_cn"]
    rtt_bt = 2 * (D["b_ha"] + D["ha_cn"])
    assert not times(res, "EBU")
    assert times(res, "HoTI", tunnel_src=COA_B) == [t0]
    assert times(res, "HoT", tunnel_dst=COA_B) == [t0 + rtt_bt]
    assert times(res, "CoT", dst=COA_B) == [t0 + rtt_ro]
    bu_at = t0 + max(rtt_ha, rtt_bt, rtt_ro)
    assert times(res, "BU", src=COA_B, dst=CN) == [bu_at]
    assert times(res, "BA", src=CN, dst=COA_B) == [bu_at + rtt_ro]
    assert bu_at + rtt_ro <= ro_data_from(res, COA_B)[0] <= bu_at + rtt_ro + PERIOD
    assert bu_at + rtt_ro <= ro_data_to(res, COA_B)[0] <= bu_at + rtt_ro + PERIOD


def test_optimistic_mn_sends_route_optimised_data_right_after_the_ebu():
    res = run(scenario_dict(mode="optimistic"))
    first = ro_data_from(res, COA_B)[0]
    assert 1000 <= first <= 1000 + PERIOD
    res = run(scenario_dict(procedure="standard", mode="optimistic"))
    bu_at = 1000 + 2 * (D["b_ha"] + D["ha_cn"])
    assert bu_at <= ro_data_from(res, COA_B)[0] <= bu_at + PERIOD


def test_no_home_token_gives_a_standard_update_section_4_3():
    res = run(scenario_dict(start="home", handovers=((1000, "net-a"), (2000, "net-b"))))
    assert not [t for t in times(res, "EBU") if t < 2000]  # leaving home: standard
    assert times(res, "HoTI", tunnel_src=COA_A) == [1000, 1500]  # after t0, then anticipated
    assert times(res, "EBU") == [2000]  # next handover: early
    assert not [t for r, t in records(res) if t < 1000]  # at home: no Mobile IPv6


def test_expired_home_token_gives_a_standard_update():
    doc = scenario_dict()
    sc = parse_scenario(copy.deepcopy(doc))
    res = simulate(sc, config=sc.config().with_(max_token_lifetime=0.3))  # HoT is 420 ms old
    assert not times(res, "EBU")
    assert times(res, "HoTI", tunnel_src=COA_B) == [1000]
    doc["protocol"] = {"max_token_lifetime": 0.3}  # the same from the [protocol] table
    assert not times(run(doc), "EBU")


def test_legacy_cn_drops_the_ebu_and_answers_data_with_a_binding_error():
    res = run(scenario_dict(mode="optimistic", early_binding_updates=False))
    t0, rtt_ha, rtt_ro = 1000, 2 * D["b_ha"], 2 * D["b_cn"]
    assert times(res, "EBU") == [t0]
    assert times(res, "BA", src=CN) == [t0 + max(rtt_ha, rtt_ro) + rtt_ro]  # no EBA, standard BA
    bes = [r for r, t in records(res) if r.msg == "BE"]
    assert len(bes) == 1 and bes[0].mh.status == 1 and bes[0].mh.home_address == HOA
    assert bes[0].src == CN and bes[0].dst == COA_B
    be_at = times(res, "BE")[0]
    first_ro = ro_data_from(res, COA_B)[0]
    assert be_at == first_ro + rtt_ro  # the first RO packet drew it
    bu_at = t0 + max(rtt_ha, rtt_ro)
    assert not [t for t in ro_data_from(res, COA_B) if be_at < t < bu_at]  # stopped until the BU
    quiet = run(scenario_dict(mode="optimistic", early_binding_updates=False, binding_errors=False))
    assert not times(quiet, "BE")


def test_legacy_cn_conservative_fallback_waits_for_the_standard_ba():
    res = run(scenario_dict(early_binding_updates=False))
    t0, rtt_ha, rtt_ro = 1000, 2 * D["b_ha"], 2 * D["b_cn"]
    ba_at = t0 + max(rtt_ha, rtt_ro) + rtt_ro
    assert times(res, "BA", src=CN) == [ba_at] and not times(res, "BE")
    assert ba_at <= ro_data_from(res, COA_B)[0] <= ba_at + PERIOD


def test_nothing_reaches_the_old_care_of_address_after_the_handover():
    res = run(scenario_dict())
    late = [t for r, t in records(res) if t > 1000 and COA_A in (r.dst, r.tunnel_dst)]
    assert not late


def test_same_seed_same_bytes_other_seed_other_cookies_same_times():
    doc = scenario_dict()
    a, b, c = run(doc), run(doc), run(doc, seed=99)
    assert a.packets == b.packets
    assert [t for t, _ in a.packets] == [t for t, _ in c.packets]
    assert a.packets != c.packets


def test_jitter_stays_within_its_bound_and_depends_on_the_seed():
    doc = scenario_dict()
    doc["network"][1]["jitter_ms"] = 5
    res = run(doc)
    rtt = times(res, "CoT", dst=COA_B)[0] - 1000
    assert 2 * D["b_cn"] <= rtt <= 2 * D["b_cn"] + 2 * 5
    rtts = {times(run(doc, seed=s), "BA", src=HA)[0] - 1000 for s in range(6)}
    assert len(rtts) > 1 and all(2 * D["b_ha"] <= x <= 2 * D["b_ha"] + 10 for x in rtts)


def test_lossy_network_retransmits_with_exponential_back_off():
    doc = scenario_dict(duration=12000)
    doc["network"][1]["loss"] = 0.5
    completed_after_retries = 0
    for seed in range(5):
        res = run(doc, seed=seed)
        assert res.lost > 0
        sends = times(res, "BU", src=COA_B, dst=HA)
        acked = times(res, "BA", src=HA, dst=COA_B)
        gaps = [b - a for a, b in zip(sends, sends[1:], strict=False)]
        # INITIAL_BINDACK_TIMEOUT (1 s), doubling, until the BA comes back
        assert gaps == [1000 * 2**k for k in range(len(gaps))]
        assert not acked or sends[-1] < acked[0]
        seqs = [r.mh.sequence for r, _ in records(res) if r.msg == "BU" and r.dst == HA]
        assert seqs == sorted(set(seqs))  # a new sequence number each time
        if len(sends) > 1 and times(res, "BA", src=CN, dst=COA_B):
            completed_after_retries += 1
    assert completed_after_retries > 0


def test_binding_updates_respect_max_update_rate():
    flips = tuple((400 + 100 * k, "net-b" if k % 2 == 0 else "net-a") for k in range(12))
    doc = scenario_dict(handovers=flips, duration=2000, mode="optimistic")
    doc["mobile_node"][0]["home_test"] = "periodic"
    doc["mobile_node"][0]["home_test_interval_ms"] = 50
    sc = parse_scenario(copy.deepcopy(doc))
    limited = [t for r, t in records(simulate(sc)) if r.msg in ("BU", "EBU") and r.dst == CN]
    assert limited
    for t in limited:
        assert sum(t - 1000 < u <= t for u in limited) <= 3
    free = [
        t
        for r, t in records(simulate(sc, config=sc.config().with_(max_update_rate=100)))
        if r.msg in ("BU", "EBU") and r.dst == CN
    ]
    assert len(free) > len(limited)


def test_nonce_index_follows_the_nonce_interval():
    doc = scenario_dict(handovers=((1000, "net-b"), (2000, "net-a")))
    doc["correspondent"][0]["nonce_interval_ms"] = 1200
    hots = [(t, r.mh.nonce_index) for r, t in records(run(doc)) if r.msg == "HoT"]
    assert hots == [(580.0, 1), (1500 + 2 * (D["b_ha"] + D["ha_cn"]), 2)]


@pytest.mark.parametrize("procedure", ["early", "standard"])
def test_two_correspondents_get_one_episode_each(procedure):
    doc = scenario_dict(procedure=procedure)
    cn2 = dict(doc["correspondent"][0], name="cn2", address="2001:db8:c::2", ha_delay_ms=12)
    doc["correspondent"].append(cn2)
    for net, d in zip(doc["network"], (5, 6), strict=False):
        net["cn_delay_ms"]["cn2"] = d
    doc["flow"].append({"mn": "mn", "cn": "cn2", "rate_pps": 10, "size": 8})
    res = run(doc)
    ba = times(res, "BA", src="2001:db8:c::2", dst=COA_B)
    assert (
        ba[-1]
        == 1000
        + max(2 * D["b_ha"], 2 * 6, 2 * (D["b_ha"] + 12) if procedure == "standard" else 0)
        + 2 * 6
    )
