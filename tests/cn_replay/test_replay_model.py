"""The reference CN's binding cache on its own (no packets), and invariants of whole replays."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ebutool.cn_replay import replay_records
from ebutool.cn_replay.binding_cache import (
    Action,
    CorrespondentModel,
    Policy,
    State,
    Update,
    seq_greater,
)
from ebutool.core.constants import DEFAULT_CONFIG
from tests.cn_replay.test_replay_scenarios import CN, COA1, COA2, MN, Trace

S = 1_000_000_000


def upd(
    i, at_s, seq, coa=COA1, early=False, lifetime=100.0, ack=True, ok=True, dereg=False, status=None
):
    return Update(
        i, i + 1, round(at_s * S), MN, CN, coa, seq, lifetime, ack, early, dereg, ok, status
    )


@settings(max_examples=200)
@given(st.integers(0, 65535), st.integers(0, 65535))
def test_seq_greater_is_rfc6275_rule(last, new):
    """RFC 6275 9.5.1: new is "less than or equal" when it lies in the range of the last
    number and the preceding 32768 values, inclusive."""
    behind = (last - new) % 65536  # new == (last - behind) mod 2^16
    in_window = behind <= 32768  # last itself (0) ... the 32768th value before it
    assert seq_greater(new, last) == (not in_window)


def test_seq_greater_examples():
    assert seq_greater(1, 0) and seq_greater(0, 65535) and seq_greater(32767, 0)
    assert not seq_greater(0, 0) and not seq_greater(32768, 0) and not seq_greater(65535, 0)


def test_state_machine_none_tentative_regular():
    m = CorrespondentModel(DEFAULT_CONFIG)
    o = m.process(upd(0, 1.0, 10, early=True, lifetime=40))
    assert o.action is Action.tentative and o.entry.state is State.tentative
    assert o.ack.early and o.ack.status == 0 and o.ack.lifetime_s == 3.0
    assert m.entries[(MN, CN)].expires_ns == 4 * S
    o = m.process(upd(1, 2.0, 11, lifetime=1000))
    assert o.action is Action.verified and o.entry.state is State.regular
    assert o.ack.lifetime_s == DEFAULT_CONFIG.max_rr_binding_lifetime  # min(requested, 420 s)
    assert m.tentatives[0].verified and m.tentatives[0].end_ns == 2 * S
    o = m.process(upd(2, 3.0, 12, lifetime=8))
    assert o.action is Action.refreshed and m.entries[(MN, CN)].expires_ns == 11 * S


def test_tentative_expiry_then_any_sequence_number():
    m = CorrespondentModel(DEFAULT_CONFIG.with_(tentative_binding_lifetime=0.5))
    m.process(upd(0, 1.0, 500, early=True))
    look = m.lookup(MN, CN, COA1, round(1.5 * S))
    assert look.entry is not None  # valid while now <= expiry
    look = m.lookup(MN, CN, COA1, round(1.5 * S) + 1)
    assert look.entry is None and look.lapsed is m.tentatives[0]
    assert m.tentatives[0].end_reason == "expired"
    o = m.process(upd(1, 2.0, 3))  # no entry: any number is accepted
    assert o.action is Action.regular
    assert m.lookup(MN, CN, COA1, 3 * S).lapsed is None  # the CoA is bound again


def test_standard_policy_drops_ebus_and_keeps_numbers():
    m = CorrespondentModel(DEFAULT_CONFIG, Policy.standard)
    m.process(upd(0, 1.0, 10))
    o = m.process(upd(1, 2.0, 11, coa=COA2, early=True))
    assert o.action is Action.unsupported and o.ack is None
    assert m.entries[(MN, CN)].coa == COA1 and m.entries[(MN, CN)].seq == 10
    assert not m.tentatives


def test_rejections():
    m = CorrespondentModel(DEFAULT_CONFIG)
    m.process(upd(0, 1.0, 10))
    o = m.process(upd(1, 2.0, 10, coa=COA2, ack=False))
    assert o.action is Action.rejected_sequence and o.ack.status == 135 and o.ack.seq == 10
    o = m.process(upd(2, 3.0, 11, coa=COA2, ok=False))
    assert o.action is Action.discarded and o.ack is None
    o = m.process(upd(3, 4.0, 11, coa=COA2, ok=False, status=137))
    assert o.action is Action.rejected_nonce and o.ack.status == 137
    assert m.entries[(MN, CN)].coa == COA1


def test_deregistration_without_entry_is_acknowledged():
    m = CorrespondentModel(DEFAULT_CONFIG)
    o = m.process(upd(0, 1.0, 1, coa=MN, lifetime=0, dereg=True))
    assert o.action is Action.deleted and o.ack.status == 0 and o.entry is None


# -- invariants of whole replays ------------------------------------------------------------
event = st.one_of(
    st.tuples(st.just("ebu"), st.sampled_from([COA1, COA2]), st.booleans(), st.booleans()),
    st.tuples(st.just("bu"), st.sampled_from([COA1, COA2]), st.booleans(), st.booleans()),
    st.tuples(st.just("dereg"), st.just(None), st.booleans(), st.booleans()),
    st.tuples(st.just("data"), st.sampled_from([COA1, COA2]), st.integers(0, 300), st.booleans()),
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 900), event), min_size=1, max_size=14),
    st.sampled_from([0.2, 1.0, 3.0]),
    st.sampled_from(["early", "standard"]),
)
def test_every_cn_packet_is_accounted_once(steps, lifetime, policy):
    """Each route-optimised CN packet is at most one of: unverified in one tentative
    binding, or one data divergence; overstay = data_after_tentative_lifetime rows =
    violations; no tentative binding outlives TENTATIVE_BINDING_LIFETIME."""
    tr = Trace()
    t, seq, n_data, data_bytes = 0, 100, 0, 0
    for gap, (kind, coa, a, b) in steps:
        t += gap
        if kind == "ebu":
            tr.ebu(t, seq, coa=coa, ack=a)
            if b:
                tr.ba(t + 20, seq, coa=coa)
            seq += 1
        elif kind == "bu":
            tr.bu(t, seq, coa=coa, ack=a)
            if b:
                tr.ba(t + 20, seq, coa=coa)
            seq += 1
        elif kind == "dereg":
            tr.dereg(t, seq, ack=a)
            seq += 1
        else:
            n_data += 1
            data_bytes += tr.data(t, coa=coa, size=a)
    r = replay_records(
        tr.records(),
        authenticate=lambda rec: "valid",
        cn_policy=policy,
        config=DEFAULT_CONFIG.with_(tentative_binding_lifetime=lifetime),
    )
    ex, dv = r.exposure, r.divergences
    data_divs = dv[dv["kind"].isin(["data_to_unbound_coa", "data_after_tentative_lifetime"])]
    overstay = dv[dv["kind"] == "data_after_tentative_lifetime"]
    assert int(ex["unverified_packets"].sum()) + len(data_divs) <= n_data
    assert int(ex["unverified_bytes"].sum()) <= data_bytes
    assert int(ex["overstay_packets"].sum()) == len(overstay) == int(ex["violations"].sum())
    assert len(set(data_divs["frame"])) == len(data_divs)
    # a binding begun after the capture's last packet has no observed duration (empty)
    unobserved = ex["end_reason"] == "after_capture"
    assert (ex["tentative_ms"].isna() == unobserved).all()
    assert (ex.loc[~unobserved, "tentative_ms"] <= lifetime * 1000 + 1e-6).all()
    assert (ex.loc[~unobserved, "tentative_ms"] >= 0).all()
    if policy == "standard":
        assert ex.empty
        assert set(r.decisions.loc[r.decisions["msg"] == "EBU", "action"]) <= {"unsupported"}


def test_model_rejects_bad_policy():
    with pytest.raises(ValueError):
        CorrespondentModel(DEFAULT_CONFIG, "sometimes")


@settings(max_examples=300)
@given(st.integers(0, 4_000_000_000), st.integers(0, 999_999))
@example(1, 999_996)  # sec + ns / 1e9 gives 1.9999959999999999
@example(1_700_000_000, 31_000)
def test_one_time_helper_for_the_whole_replay(sec, us):
    """Every replay module converts times through ebutool.core.units (no second copy
    of ``seconds``): epoch seconds print as the capture's microsecond value, and a
    duration in seconds becomes the nearest nanosecond."""
    import ebutool.cn_replay as pkg
    from ebutool.cn_replay import binding_cache as cn_model
    from ebutool.cn_replay import divergences, exposure
    from ebutool.core import units as times

    for mod in (cn_model, divergences, exposure, pkg):
        assert getattr(mod, "seconds", times.seconds) is times.seconds
    ts = sec * S + us * 1000
    assert repr(times.seconds(ts)) == repr(float(f"{sec}.{us:06d}"))
    assert times.to_ns(us / 1e6) == us * 1000
    assert times.ms(ts - sec * S) == us / 1000
