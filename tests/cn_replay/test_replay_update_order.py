"""The CN acts on one MN's updates in the order the MN sent them (docs/replay.md "Time":
constant path delays, so the path is first in, first out).  An update's time estimated
from another exchange must not put it after a later update whose time its own
acknowledgement measured.  Expected values are worked out from the packets built."""

from __future__ import annotations

import pytest

from tests.cn_replay.test_replay_scenarios import COA1, MS, T0, Trace, kinds, run

S = 1_000_000_000


def test_an_estimated_time_does_not_reorder_the_mns_updates():
    """EBU seq 10 at 1 ms, A flag clear: no answer, its time comes from the CoTI/CoT of
    the same path at 0 ms (RTT 200): 201 ms.  The BU seq 11 sent at 50 ms is answered at
    80 ms: the CN acted on it at 80, so on the EBU (sent before it on the same path)
    by 80 too.  Then EBU -> tentative, BU -> verified; nothing diverges, and the EBU is
    not refused with status 135 as 'older' than the BU."""
    tr = Trace()
    tr.coti_cot(0, COA1, rtt=200)
    tr.ebu(1, 10, ack=False)
    tr.bu(50, 11)
    tr.ba(80, 11)
    for t in range(100, 1600, 100):  # the capture goes on past INITIAL_BINDACK_TIMEOUT
        tr.data(t)
    r = run(tr)
    assert list(r.decisions["seq"]) == [10, 11]
    assert list(r.decisions["action"]) == ["tentative", "verified"]
    assert kinds(r) == []
    assert len(r.exposure) == 1
    row = r.exposure.iloc[0]
    assert row["verified"] and row["end_reason"] == "verified"
    bu_effect = (T0 + 80 * MS) / S
    assert row["tentative_end"] == pytest.approx(bu_effect, abs=1e-6)
    assert row["tentative_start"] <= row["tentative_end"]
    assert r.decisions["cn_time"].iloc[0] <= bu_effect + 1e-6
