"""Care-of nonce index 0 in a standard exchange (issue 11 item 1; DESIGN.md 3): the
oracle calls such a BU a standard BU when a CoT with care-of index 0 for that address and
CN came before it, or when its MAC verifies with the standard Kbm; where neither can be
told it says so.  Packets and MACs from tests/support/rr.py (RFC 6275 text, own HMAC)."""

from __future__ import annotations

from ebutool.oracle import KeyTable, Nonce, Oracle
from tests.support import rr
from tests.support.rr import CN, COA1, KCN, MS, NONCES, RR, T0

NONCE0 = bytes.fromhex("00aa00aa00aa00aa")
WITH0 = {**NONCES, 0: NONCE0}


def keys(nonces) -> KeyTable:
    t = KeyTable()
    t.set_kcn(KCN, CN)
    t.set_nonces({i: Nonce(n) for i, n in nonces.items()}, CN)
    return t


def checked(pkts, table=None):
    return [
        (v.msg, v.verdict, v.reason, v.key_form)
        for v in Oracle(table).run(rr.records(pkts))
        if v.msg not in ("HoT", "CoT")
    ]


STANDARD_AFTER_COT0 = (
    "authenticator matches (a standard BU: a CoT with care-of nonce index 0 came before it)"
)


def test_standard_bu_with_careof_index_0_after_its_cot():
    m = RR(nonces=WITH0)
    pkts = rr.standard(m, COA1, seq=10, hidx=1, cidx=0)
    records = rr.records(pkts)
    assert [r.msg for r in records if r.msg in ("BU", "EBU")][-1] == "EBU"  # by its form
    for table in (keys(WITH0), None):  # with Kcn, and keyless from the capture's tokens
        assert checked(pkts, table) == [
            ("BU", "valid", STANDARD_AFTER_COT0, "standard"),
            ("BA", "valid", "authenticator matches", "standard"),
        ]


def test_standard_bu_with_careof_index_0_told_by_its_mac():
    # the CoT is not in the capture (it began later): with Kcn the standard Kbm decides
    m = RR(nonces=WITH0)
    pkts = [p for p in rr.standard(m, COA1, seq=10, hidx=1, cidx=0) if p.label != "CoT"]
    assert checked(pkts, keys(WITH0)) == [
        (
            "BU",
            "valid",
            "authenticator matches (a standard BU with care-of nonce index 0: the standard "
            "Kbm matches); nonce age unknown (no HoT/CoT with nonce index 0 in the capture "
            "and no generation time that shows it is fresh)",
            "standard",
        ),
        ("BA", "valid", "authenticator matches", "standard"),
    ]
    # keyless there is no care-of token to try: said so, not called a mismatch
    (bu, ba) = checked(pkts)
    assert bu == (
        "EBU",
        "unverifiable",
        "authenticator mismatch with Kbm_early; a standard BU with care-of nonce index 0 "
        "cannot be ruled out: no care-of keygen token seen for nonce index 0",
        None,
    )
    assert ba[0] == "EBA" and ba[1] != "valid"


def test_a_genuine_ebu_stays_an_ebu():
    m = RR(nonces=WITH0)
    pkts = [m.hot(T0, COA1, 1), m.ebu(T0 + 10 * MS, COA1, 20, 1)]
    for table in (keys(WITH0), keys(NONCES), None):
        assert checked(pkts, table) == [("EBU", "valid", "authenticator matches", "early")]
    # an EBU with a wrong MAC, keys known and nonce 0 at the CN: both keys tried, invalid
    bad = [m.hot(T0, COA1, 1), m.ebu(T0 + 10 * MS, COA1, 20, 1, kbm=bytes(20))]
    assert checked(bad, keys(WITH0)) == [("EBU", "invalid", "authenticator mismatch", None)]
