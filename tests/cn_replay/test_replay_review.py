"""ebutool replay on captures built by the independent scenario builder
(tests/support/rfc_scenarios.py: packets written from the RFC text, tokens and MACs by
hashlib), with the CN's keys, so the oracle decides every update (basis ``kcn``).

Every expected value is computed here from the times the test lays out and the rules
of RFC 6275 9.5 and docs/replay.md, never read back from ebutool's output.
"""

from __future__ import annotations

import pytest

from ebutool.cn_replay import replay
from ebutool.core.units import NS_PER_S
from ebutool.oracle.keys import KeyTable, Nonce
from tests.support.rfc_scenarios import Scenario, ns

# RFC 6275 6.1.8: BA status "Sequence number out of window"; the BA then carries the
# last accepted sequence number (9.5.1).
STATUS_SEQ_OUT_OF_WINDOW = 135
# Care-of nonce index 0: what marks an EBU (DESIGN.md 3), unless the CN handed out index 0
CAREOF_INDEX_ZERO = 0
HOME_INDEX, CAREOF_INDEX = 1, 2


def keys_of(s: Scenario) -> KeyTable:
    keys = KeyTable()
    keys.set_kcn(s.kcn, s.cn)
    keys.set_nonces({i: Nonce(v) for i, v in s.nonces.items()}, s.cn)
    return keys


def epoch(t_ms: float) -> float:
    return ns(t_ms) / NS_PER_S


# -- the decisions table names an update as the oracle did ------------------------------


@pytest.mark.parametrize("cot_index_zero", [True, False])
def test_decisions_msg_is_the_oracles_name(tmp_path, cot_index_zero):
    """A BU with care-of nonce index 0 after a CoT that handed out index 0, MACed with
    the standard Kbm of (home index, 0): the oracle names it a standard BU
    (docs/verify.md), and the decisions table must say BU, not EBU.  Without that CoT,
    an update with index 0 MACed with the early key is an EBU."""
    s = Scenario()
    s.hoti(1000, b"HHHHHHHH")
    s.hot(1020, b"HHHHHHHH", index=HOME_INDEX)
    if cot_index_zero:
        s.coti(1000, b"CCCCCCCC")
        s.cot(1020, b"CCCCCCCC", index=CAREOF_INDEX_ZERO)
        s.bu_cn(1030, seq=10, hidx=HOME_INDEX, cidx=CAREOF_INDEX_ZERO)
        s.ba_cn(1050, seq=10, key=(HOME_INDEX, CAREOF_INDEX_ZERO))
        name, early_key = "BU", False
    else:
        s.bu_cn(1030, seq=10, hidx=HOME_INDEX, cidx=CAREOF_INDEX_ZERO, kbm_cidx=None)
        s.ba_cn(1050, seq=10, key=(HOME_INDEX, None))
        name, early_key = "EBU", True
    r = replay(s.write(tmp_path), keys=keys_of(s))
    d = r.decisions
    assert list(d["msg"]) == [name]
    assert list(d["authentication"]) == ["valid"]
    assert list(d["action"]) == ["tentative" if early_key else "regular"]
    assert list(d["observed_ack"]) == [f"{'EBA' if early_key else 'BA'} status 0 seq 10"]
    assert r.divergences.empty
