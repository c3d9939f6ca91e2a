"""A binding made before the capture, seen through data that arrives after the MN's
first update was sent but before that update takes effect at the CN (docs/replay.md
"Time": the CN acts on an update sent at t at t + RTT on the capture clock).

Expected values are worked out here from the packets built, not read from ebutool."""

from __future__ import annotations

from ebutool.core.diagnostics import Diagnostics
from tests.cn_replay.test_replay_scenarios import COA1, COA2, Trace, kinds, run


def test_data_in_flight_before_the_first_update_takes_effect_is_a_prior_binding():
    """The capture begins with a refresh BU for COA1 at 0 ms, answered at 30 ms: the CN
    acts on it at 30.  Its data to COA1 arriving at 10 and 20 ms left the CN before the
    BU reached it, so the CN routed to COA1 on a binding made before the capture: no
    divergence, one replay_prior_binding; the BU then refreshes that binding.  Data to
    COA2 at 50 ms, after the BU took effect, is to an address never bound: one
    data_to_unbound_coa."""
    tr = Trace()
    tr.bu(0, 7)
    tr.data(10)
    tr.data(20)
    tr.ba(30, 7)
    tr.data(40)
    tr.data(50, coa=COA2)
    diag = Diagnostics()
    r = run(tr, diag=diag)
    assert kinds(r) == ["data_to_unbound_coa"]
    assert r.divergences.iloc[0]["coa"] == COA2
    assert diag.counts["replay_prior_binding"] == 1
    assert r.summary["prior_bindings"] == 1
    assert list(r.decisions["action"]) == ["refreshed"]
    assert list(r.decisions["coa"]) == [COA1]


def test_data_after_the_first_update_took_effect_is_still_judged():
    """The same BU, but the CN's first packet to COA2 arrives at 40 ms, after the BU took
    effect (30 ms) binding COA1: no prior binding is assumed, the packet diverges."""
    tr = Trace()
    tr.bu(0, 7)
    tr.ba(30, 7)
    tr.data(40, coa=COA2)
    diag = Diagnostics()
    r = run(tr, diag=diag)
    assert kinds(r) == ["data_to_unbound_coa"]
    assert "replay_prior_binding" not in diag.counts


def test_an_estimated_first_effect_does_not_make_a_prior_binding():
    """EBU for COA1 at 1 ms, A flag clear: no answer, its time comes from the CoTI/CoT of
    the same path at 0 ms (RTT 200: 201 ms), only an estimate.  The CN's data to COA1 at
    40 ms may well be the EBU's effect (the real round trip shorter): it must not be
    taken for a binding from before the capture, which would turn the EBU into
    regular_kept and lose its tentative binding.  As before: the packet before the
    estimated effect is a data_to_unbound_coa, the EBU makes its tentative binding."""
    tr = Trace()
    tr.coti_cot(0, COA1, rtt=200)
    tr.ebu(1, 10, ack=False)
    tr.data(40)
    tr.data(300)
    diag = Diagnostics()
    r = run(tr, diag=diag)
    assert "replay_prior_binding" not in diag.counts
    assert list(r.decisions["action"]) == ["tentative"]
    assert len(r.exposure) == 1
    assert kinds(r) == ["data_to_unbound_coa"]
