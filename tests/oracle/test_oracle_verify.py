"""The stateless CN oracle (ebutool.oracle.verify) on Record streams built by tests/rr.py."""

from __future__ import annotations

import json

import pytest

import ebutool
from ebutool.core.constants import DEFAULT_CONFIG
from ebutool.core.errors import UsageError
from ebutool.oracle import COLUMNS, KeyTable, Nonce, Oracle, crypto, load_key_table
from ebutool.oracle import verify as verify_mod
from ebutool.oracle.keys import parse_hex_secret, split_spec
from ebutool.records.record import HandoverEvent
from tests.support import rr
from tests.support.rr import CN, CN2, COA1, COA2, EVIL, HOA, KCN, MS, NONCES, RR, T0, S

KCN2 = bytes.fromhex("a5" * 20)
WRONG_KCN = bytes.fromhex("5a" * 20)


def table(*entries) -> KeyTable:
    """entries: (cn or None, kcn, {index: nonce or Nonce})"""
    t = KeyTable()
    for cn, kcn, nonces in entries:
        if kcn is not None:
            t.set_kcn(kcn, cn)
        if nonces is not None:
            t.set_nonces(
                {i: n if isinstance(n, Nonce) else Nonce(n) for i, n in nonces.items()}, cn
            )
    return t


def run(pkts, keys=None, config=DEFAULT_CONFIG):
    oracle = Oracle(keys, config)
    return list(oracle.run(rr.records(pkts))), oracle


def by_msg(verdicts):
    out = {}
    for v in verdicts:
        out.setdefault(v.msg, []).append(v)
    return out


def summary(verdicts):
    return [(v.msg, v.seq, v.verdict, v.reason, v.key_form) for v in verdicts]


KEYS = table((CN, KCN, NONCES))


# -- genuine exchanges ------------------------------------------------------------------
def test_standard_exchange_with_kcn_is_valid():
    vs, _ = run(rr.standard(RR(), COA1, seq=10), KEYS)
    assert summary(vs) == [
        ("CoT", None, "valid", "care-of keygen token matches Kcn", None),
        ("HoT", None, "valid", "home keygen token matches Kcn", None),
        ("BU", 10, "valid", "authenticator matches", "standard"),
        ("BA", 10, "valid", "authenticator matches", "standard"),
    ]
    bu = by_msg(vs)["BU"][0]
    assert (bu.mn, bu.cn, bu.coa, bu.home_index, bu.careof_index, bu.basis) == (
        HOA,
        CN,
        COA1,
        1,
        2,
        "kcn",
    )
    hot = by_msg(vs)["HoT"][0]
    assert (hot.mn, hot.cn, hot.coa) == (HOA, CN, COA1)  # coa: the tunnel's endpoint


def test_early_exchange_draft_flavour():
    vs, _ = run(rr.early(RR(), COA1, COA2, seq=20), KEYS)
    assert [(m, s, v, k) for m, s, v, _, k in summary(vs)] == [
        ("HoT", None, "valid", None),
        ("EBU", 20, "valid", "early"),
        ("EBA", 20, "valid", "early"),
        ("CoT", None, "valid", None),
        ("BU", 21, "valid", "standard"),
        ("BA", 21, "valid", "standard"),
    ]
    ebu = by_msg(vs)["EBU"][0]
    assert (ebu.coa, ebu.home_index, ebu.careof_index) == (COA2, 1, 0)


def test_early_exchange_rfc4866_flavour():
    vs, _ = run(rr.early(RR(), COA1, COA2, seq=20, rfc4866=True), KEYS)
    got = {(v.msg, v.seq): (v.verdict, v.key_form) for v in vs}
    assert got[("EBU", 20)] == ("valid", "early_rfc4866")
    assert got[("EBA", 20)] == ("valid", "early_rfc4866")
    # the completing BU uses the care-of token the EBA's Care-of Test option carried
    assert got[("BU", 21)] == ("valid", "standard")


def test_rfc4866_eba_with_a_wrong_care_of_token_is_invalid():
    m = RR()
    early_key = rr.kbm_rfc4866(m.h(1))
    pkts = [
        m.hot(T0 - S, COA1, 1),
        m.ebu(T0, COA2, 20, 1, rfc4866=True),
        m.ba(T0 + 30 * MS, COA2, 20, early_key, cot_token=b"\xee" * 8, careof_index=2),
    ]
    vs, _ = run(pkts, KEYS)
    eba = by_msg(vs)["EBA"][0]
    assert (eba.verdict, eba.reason) == (
        "invalid",
        "care-of keygen token in the Care-of Test option does not match Kcn for nonce index 2",
    )
    assert by_msg(vs)["EBU"][0].verdict == "valid"


def test_deregistration_from_home_ignores_care_of_index():
    m = RR()
    # care-of nonce index 0 is not in the nonce table: a deregistration must not need it
    assert 0 not in NONCES
    pkts = [
        m.hoti(T0 - S, COA1),
        m.hot(T0 - S + 100 * MS, COA1, 3),
        m.dereg_home(T0, 30, 3),
        m.ba(T0 + 20 * MS, HOA, 30, rr.kbm_home_only(m.h(3))),
    ]
    vs, _ = run(pkts, KEYS)
    assert summary(vs)[1:] == [
        ("BU", 30, "valid", "authenticator matches", "dereg"),
        ("BA", 30, "valid", "authenticator matches", "dereg"),
    ]
    assert by_msg(vs)["BU"][0].coa == HOA


def test_deregistration_with_lifetime_zero_from_a_care_of_address():
    m = RR()
    pkts = [
        m.hot(T0 - S, COA1, 1),
        m.bu(T0, COA1, 31, 1, 0, kbm=rr.kbm_home_only(m.h(1)), lifetime=0),
    ]
    vs, _ = run(pkts, KEYS)
    bu = by_msg(vs)["BU"][0]
    assert (bu.verdict, bu.key_form, bu.coa) == ("valid", "dereg", COA1)


def test_alternate_care_of_address_is_the_one_authenticated():
    m = RR()
    good = m.bu(T0, COA1, 12, 1, 2, alt_coa=COA2)  # MAC for COA2, sent from COA1
    bad = m.bu(T0 + MS, COA1, 13, 1, 2, alt_coa=COA2, kbm=m.kbm(COA1, 1, 2))
    vs, _ = run([good, bad], KEYS)
    assert [(v.seq, v.coa, v.verdict) for v in vs] == [(12, COA2, "valid"), (13, COA2, "invalid")]


# -- forgeries ----------------------------------------------------------------------------
def test_bu_replayed_from_another_address():
    m = RR()
    genuine = rr.standard(m, COA1, seq=10)
    replay = m.bu(T0 + 5 * S, COA1, 10, 1, 2, send_from=EVIL)  # same MH, attacker's address
    later = rr.standard(m, COA2, seq=11, t0_ns=T0 + 10 * S)
    vs, _ = run(genuine + [replay] + later, KEYS)
    bus = [(v.seq, v.coa, v.verdict, v.reason) for v in vs if v.msg == "BU"]
    assert bus == [
        (10, COA1, "valid", "authenticator matches"),
        (10, EVIL, "invalid", "authenticator mismatch"),
        (11, COA2, "valid", "authenticator matches"),
    ]
    assert all(v.verdict == "valid" for v in vs if v.coa != EVIL)


def test_ebu_with_a_guessed_key():
    m = RR()
    genuine = rr.early(m, COA1, COA2, seq=20)
    forged = m.ebu(T0 + 5 * S, EVIL, 40, 1, kbm=bytes(range(20)))
    vs, _ = run(genuine + [forged], KEYS)
    ebus = [(v.seq, v.verdict, v.reason, v.key_form) for v in vs if v.msg == "EBU"]
    assert ebus == [
        (20, "valid", "authenticator matches", "early"),
        (40, "invalid", "authenticator mismatch", None),
    ]
    assert all(v.verdict == "valid" for v in vs if v.seq != 40)
    # an EBA answering the forged EBU cannot be authenticated with either early key
    vs, _ = run(genuine + [forged, m.ba(T0 + 5 * S + 30 * MS, EVIL, 40, bytes(20))], KEYS)
    eba = [v for v in vs if v.msg == "EBA" and v.seq == 40][0]
    assert (eba.verdict, eba.reason, eba.key_form) == ("invalid", "authenticator mismatch", None)


def test_spoofed_hot():
    m = RR()
    spoof = m.hot(T0 + 119 * MS, COA1, 1, token=b"\x42" * 8, cookie=b"HOTICOOK")
    vs, _ = run(rr.standard(m, COA1, seq=10) + [spoof], KEYS)
    hots = [(v.frame, v.verdict, v.reason) for v in vs if v.msg == "HoT"]
    assert [h[1:] for h in hots] == [
        ("invalid", "home keygen token does not match Kcn for nonce index 1"),
        ("valid", "home keygen token matches Kcn"),
    ]
    assert all(v.verdict == "valid" for v in vs if v.msg != "HoT")


def test_wrong_kcn_for_one_cn_leaves_the_other_valid():
    good, other = RR(), RR(kcn=KCN2, cn=CN2)
    keys = table((CN, KCN, NONCES), (CN2, WRONG_KCN, NONCES))
    pkts = rr.standard(good, COA1, seq=10) + rr.standard(
        other, COA1, seq=50, t0_ns=T0 + S, ha_seq=51
    )
    vs, _ = run(pkts, keys)
    assert all(v.verdict == "valid" for v in vs if v.cn == CN)
    assert {(v.msg, v.verdict, v.reason) for v in vs if v.cn == CN2} == {
        ("HoT", "invalid", "home keygen token does not match Kcn for nonce index 1"),
        ("CoT", "invalid", "care-of keygen token does not match Kcn for nonce index 2"),
        ("BU", "invalid", "authenticator mismatch"),
        ("BA", "invalid", "authenticator mismatch"),
    }


def test_nonce_index_the_table_lacks():
    m = RR(nonces={**NONCES, 9: b"nine-nine"})
    pkts = rr.standard(m, COA1, seq=10) + [
        m.hot(T0 + S, COA2, 9),
        m.cot(T0 + S, COA2, 2),
        m.bu(T0 + S + MS, COA2, 11, 9, 2),
        m.ba(T0 + S + 30 * MS, COA2, 11, m.kbm(COA2, 9, 2)),
    ]
    vs, _ = run(pkts, KEYS)  # KEYS has no index 9
    after = [(v.msg, v.verdict, v.reason) for v in vs if v.frame > 9]
    assert after == [
        ("HoT", "invalid", "unknown nonce index 9"),
        ("CoT", "valid", "care-of keygen token matches Kcn"),
        ("BU", "invalid", "unknown nonce index 9"),
        ("BA", "unverifiable", "unknown nonce index 9"),
    ]
    assert all(v.verdict == "valid" for v in vs if v.frame <= 9)


def test_care_of_index_the_table_lacks():
    m = RR(nonces={**NONCES, 8: b"eight"})
    vs, _ = run([m.hot(T0, COA1, 1), m.cot(T0, COA1, 8), m.bu(T0 + MS, COA1, 10, 1, 8)], KEYS)
    assert by_msg(vs)["BU"][0].reason == "unknown nonce index 8"


# -- nonce and token lifetimes -----------------------------------------------------------------
def test_generation_time_only_shows_that_a_nonce_is_fresh():
    # RFC 6275 5.2.7: MAX_NONCE_LIFETIME counts from the nonce's first use, which may come
    # long after the CN generated it; "generated" can only show that it is not expired.
    m = RR()
    old = {**{i: Nonce(n) for i, n in NONCES.items()}, 1: Nonce(NONCES[1], (T0 - 300 * S) / 1e9)}
    vs, _ = run([m.hot(T0, COA1, 1), m.hot(T0, COA1, 3)], table((CN, KCN, old)))
    assert [(v.home_index, v.verdict, v.reason, v.nonce_age_ms) for v in vs] == [
        (1, "valid", "home keygen token matches Kcn", 0.0),  # first used now: age 0
        (3, "valid", "home keygen token matches Kcn", 0.0),
    ]
    # a BU whose nonces' HoT/CoT are not in the capture: the age is unknown, not invalid
    bu = [m.bu(T0, COA1, 10, 1, 2)]
    vs, _ = run(bu, table((CN, KCN, old)))
    assert (vs[0].verdict, vs[0].nonce_age_ms) == ("valid", None)
    assert vs[0].reason == (
        "authenticator matches; nonce age unknown (no HoT/CoT with nonce index 1 in the "
        "capture and no generation time that shows it is fresh)"
    )
    fresh = {i: Nonce(n, (T0 - 10 * S) / 1e9) for i, n in NONCES.items()}
    vs, _ = run(bu, table((CN, KCN, fresh)))  # generated 10 s before: cannot have expired
    assert (vs[0].verdict, vs[0].reason) == ("valid", "authenticator matches")


def test_nonce_age_empty_when_one_nonce_was_not_first_used_in_the_capture():
    # The BU's home nonce was first used at T0 (its HoT is in the capture), its care-of
    # nonce's CoT is not: the oldest nonce's age is unknown (the generation time shows
    # only that it is fresh), not the home nonce's 1,000 ms (review of stop 31).
    m = RR()
    fresh = {i: Nonce(n, (T0 - 10 * S) / 1e9) for i, n in NONCES.items()}
    vs, _ = run([m.hot(T0, COA1, 1), m.bu(T0 + S, COA1, 10, 1, 2)], table((CN, KCN, fresh)))
    bu = by_msg(vs)["BU"][0]
    assert (bu.verdict, bu.reason, bu.nonce_age_ms) == ("valid", "authenticator matches", None)
    # both first used in the capture: the oldest one's age
    vs, _ = run(
        [m.hot(T0, COA1, 1), m.cot(T0 + 500 * MS, COA1, 2), m.bu(T0 + S, COA1, 10, 1, 2)],
        table((CN, KCN, fresh)),
    )
    assert by_msg(vs)["BU"][0].nonce_age_ms == 1000.0


def test_nonce_age_from_first_use_in_the_capture():
    m = RR()
    pkts = [
        m.hot(T0, COA1, 1),
        m.cot(T0, COA1, 2),
        m.cot(T0 + 239 * S, COA2, 7),
        m.bu(T0 + 239 * S, COA2, 10, 1, 7),
        m.cot(T0 + 241 * S, COA2, 7),
        m.bu(T0 + 241 * S + MS, COA2, 11, 1, 7),
    ]
    vs, _ = run(pkts, KEYS)
    assert [(v.msg, v.seq, v.verdict, v.reason) for v in vs if v.msg == "BU"] == [
        ("BU", 10, "valid", "authenticator matches"),
        ("BU", 11, "invalid", "nonce older than MAX_NONCE_LIFETIME"),
    ]
    # the age is that of the older nonce (home index 1, first used at T0)
    assert [v.nonce_age_ms for v in vs if v.msg == "BU"] == [239_000.0, 241_001.0]
    # the same without keys: the CN's rule decided by the capture's first use
    vs, _ = run(pkts)  # BU 10 uses a home token 239 s old: stale (the MN's rule), not invalid
    assert [(v.seq, v.verdict) for v in vs if v.msg == "BU"] == [
        (10, "stale_token"),
        (11, "invalid"),
    ]


# -- keyless mode ------------------------------------------------------------------------------
def test_keyless_valid_exchange_uses_the_captures_tokens():
    vs, _ = run(rr.standard(RR(), COA1, seq=10) + rr.early(RR(), COA1, COA2, 20, t0_ns=T0 + 10 * S))
    checked = [v for v in vs if v.msg not in ("HoT", "CoT")]
    assert [(v.msg, v.verdict, v.basis, v.key_form) for v in checked] == [
        ("BU", "valid", "capture", "standard"),
        ("BA", "valid", "capture", "standard"),
        ("EBU", "valid", "capture", "early"),
        ("EBA", "valid", "capture", "early"),
        ("BU", "valid", "capture", "standard"),
        ("BA", "valid", "capture", "standard"),
    ]
    hot_frames = {str(v.frame) for v in vs if v.msg in ("HoT", "CoT")}
    assert all(set(v.tokens_from.split()) <= hot_frames for v in checked)
    # HoT/CoT themselves cannot be checked without Kcn
    assert {(v.verdict, v.reason) for v in vs if v.msg in ("HoT", "CoT")} == {
        ("unverifiable", "no Kcn for this correspondent node")
    }


def test_keyless_missing_tokens_are_unverifiable_with_reason():
    m = RR()
    no_hot = [p for p in rr.standard(m, COA1, seq=10) if p.label != "HoT"]
    vs, _ = run(no_hot)
    assert [(v.msg, v.verdict, v.reason) for v in vs if v.msg in ("BU", "BA")] == [
        ("BU", "unverifiable", "no home keygen token seen for nonce index 1"),
        ("BA", "unverifiable", "no home keygen token seen for nonce index 1"),
    ]
    no_cot = [p for p in rr.standard(m, COA1, seq=10) if p.label != "CoT"]
    vs, _ = run(no_cot)
    assert by_msg(vs)["BU"][0].reason == "no care-of keygen token seen for nonce index 2"
    no_hot_early = [p for p in rr.early(m, COA1, COA2, 20) if p.label != "HoT"]
    vs, _ = run(no_hot_early)
    assert (by_msg(vs)["EBU"][0].verdict, by_msg(vs)["EBU"][0].reason) == (
        "unverifiable",
        "no home keygen token seen for nonce index 1",
    )


def test_keyless_token_older_than_max_token_lifetime():
    m = RR()
    pkts = [
        m.hot(T0, COA1, 1),
        m.cot(T0 + 211 * S, COA2, 2),
        m.bu(T0 + 211 * S + MS, COA2, 10, 1, 2),
    ]
    vs, _ = run(pkts)
    bu = by_msg(vs)["BU"][0]
    # MAX_TOKEN_LIFETIME is the MN's rule: not "invalid" but a verdict of its own
    assert (bu.verdict, bu.reason, bu.key_form) == (
        "stale_token",
        "token older than MAX_TOKEN_LIFETIME",
        "standard",
    )
    vs, _ = run(pkts, config=DEFAULT_CONFIG.with_(max_token_lifetime=300))
    assert by_msg(vs)["BU"][0].verdict == "valid"


def test_keyless_picks_the_genuine_token_among_a_spoofed_one():
    m = RR()
    pkts = [
        m.hot(T0, COA1, 1),
        m.hot(T0 + MS, COA1, 1, token=b"\x13" * 8),
        m.ebu(T0 + S, COA2, 20, 1),
    ]
    vs, _ = run(pkts)
    ebu = by_msg(vs)["EBU"][0]
    assert (ebu.verdict, ebu.tokens_from) == ("valid", "1")
    forged = [m.hot(T0 + MS, COA1, 1, token=b"\x13" * 8), m.ebu(T0 + S, COA2, 20, 1)]
    vs, _ = run(forged)
    # keyless, no CoT with care-of index 0: a standard BU cannot be ruled out
    assert (by_msg(vs)["EBU"][0].verdict, by_msg(vs)["EBU"][0].reason) == (
        "unverifiable",
        "authenticator mismatch with Kbm_early; a standard BU with care-of nonce index 0 "
        "cannot be ruled out: no care-of keygen token seen for nonce index 0",
    )
    vs, _ = run(forged, KEYS)  # with Kcn the oracle makes the genuine home token itself
    assert (by_msg(vs)["EBU"][0].verdict, by_msg(vs)["EBU"][0].key_form) == ("valid", "early")


def test_mixed_kcn_for_one_cn_keyless_for_another():
    keys = table((CN, KCN, NONCES))
    pkts = rr.standard(RR(), COA1, 10) + rr.standard(
        RR(kcn=KCN2, cn=CN2), COA1, 50, t0_ns=T0 + S, ha_seq=51
    )
    vs, _ = run(pkts, keys)
    assert {v.basis for v in vs if v.cn == CN} == {"kcn"}
    assert {v.basis for v in vs if v.cn == CN2 and v.msg in ("BU", "BA")} == {"capture"}
    assert all(v.verdict == "valid" for v in vs if v.msg in ("BU", "BA"))


# -- what is (not) checked; malformed messages ------------------------------------------------
def test_records_a_cn_does_not_check_give_none():
    m = RR()
    oracle = Oracle(KEYS)
    recs = rr.records(
        [
            m.hoti(T0, COA1),
            m.coti(T0, COA1),
            m.ha_bu(T0, COA1, 5),
            m.ha_ba(T0 + MS, COA1, 5),
            m.data_to_cn(T0, COA1),
        ]
    )
    assert [oracle.check(r) for r in recs] == [None] * 5
    assert oracle.check(HandoverEvent(ts_ns=T0, mn=HOA, coa=COA1)) is None


def test_bu_without_authorization_data_or_nonce_indices():
    m = RR()
    pkts = [
        m.hot(T0, COA1, 1),
        m.cot(T0, COA1, 2),
        m.bu(T0 + MS, COA1, 10, 1, 2, auth=False),
        m.ba(T0 + 2 * MS, COA1, 10, None),
        m.bu(T0 + 3 * MS, COA1, 11, 1, 2, nonce_indices=False, kbm=m.kbm(COA1, 1, 2)),
    ]
    vs, _ = run(pkts, KEYS)
    assert [(v.msg, v.seq, v.verdict, v.reason) for v in vs if v.seq] == [
        ("BU", 10, "invalid", "no Binding Authorization Data option"),
        ("BA", 10, "invalid", "no Binding Authorization Data option"),
        ("BU", 11, "invalid", "no Nonce Indices option"),
    ]


def test_ba_rejecting_an_expired_nonce_and_unmatched_ba():
    m = RR()
    pkts = [
        m.bu(T0, COA1, 10, 1, 2),
        m.ba(T0 + MS, COA1, 10, None, status=136),
        m.ba(T0 + 2 * MS, COA1, 77, m.kbm(COA1, 1, 2)),
    ]
    vs, _ = run(pkts, KEYS)
    assert [(v.seq, v.verdict, v.reason) for v in vs if v.msg == "BA"] == [
        (
            10,
            "unverifiable",
            "status 136 (expired_home_nonce_index) without Binding Authorization Data option",
        ),
        (77, "unverifiable", "no Binding Update seen for this acknowledgement"),
    ]


def test_ba_with_wrong_mac_is_invalid():
    m = RR()
    pkts = rr.standard(m, COA1, seq=10)
    pkts[-2] = m.ba(pkts[-2].ts_ns, COA1, 10, m.kbm(COA1, 1, 3))  # wrong care-of nonce
    vs, _ = run(pkts, KEYS)
    assert (by_msg(vs)["BA"][0].verdict, by_msg(vs)["BA"][0].reason) == (
        "invalid",
        "authenticator mismatch",
    )


def test_macs_are_compared_in_constant_time(monkeypatch):
    calls = []
    real = crypto.same

    def spy(a, b):
        calls.append(len(a))
        return real(a, b)

    monkeypatch.setattr(crypto, "same", spy)
    vs, _ = run(rr.standard(RR(), COA1, seq=10), KEYS)
    assert all(v.verdict == "valid" for v in vs)
    assert calls.count(8) == 2 and calls.count(12) == 2  # two tokens, two authenticators


# -- bounded memory ------------------------------------------------------------------------------
def test_memory_stays_bounded_over_a_long_capture():
    oracle = Oracle()
    n = 300
    peak = {}
    for i in range(n):
        # fresh nonces for each exchange: the CN's nonce lifetime counts from first use
        h, c = 10 + 2 * i, 11 + 2 * i
        m = RR(hoa=f"2001:db8:1::{i + 1:x}", nonces={h: NONCES[1], c: NONCES[2]})
        t = T0 + i * 5 * S  # one exchange every 5 s: 1500 s in all
        pkts = rr.standard(m, f"2001:db8:2::{i + 1:x}", seq=i, t0_ns=t, hidx=h, cidx=c)
        for rec in rr.records(pkts):
            v = oracle.check(rec)
            assert v is None or v.verdict in ("valid", "unverifiable")
        for k, size in oracle.memory().items():
            peak[k] = max(peak.get(k, 0), size)
    # tokens live 2 x 210 s, BUs 240 s: at 1 exchange / 5 s that is ~85 and ~50 x 2, plus
    # what accumulates between two sweeps (every 1/8 of the shortest lifetime, 210 s / 8)
    slack = 1 + 1 / verify_mod._SWEEPS_PER_LIFETIME
    assert peak["home_tokens"] <= 90 * slack and peak["careof_tokens"] <= 90 * slack
    assert peak["sent"] <= 2 * 50 * slack
    assert peak["coa_mn"] <= 90 * slack
    assert peak["first_use"] <= 2 * 2 * 100 * slack  # 2 nonces per exchange, kept 480 s
    assert oracle.counts["valid"] == 2 * n


# -- the file-level entry point --------------------------------------------------------------------
def test_verify_on_a_capture_file(tmp_path):
    path = tmp_path / "x.pcap"
    path.write_bytes(rr.pcap(rr.standard(RR(), COA1, seq=10)))
    df = ebutool.verify(path, keys=KEYS)
    assert list(df.columns[:9]) == [
        "frame",
        "time",
        "msg",
        "mn",
        "cn",
        "coa",
        "seq",
        "verdict",
        "reason",
    ]
    assert list(df.columns) == COLUMNS
    assert list(df["msg"]) == ["CoT", "HoT", "BU", "BA"]
    assert (df["verdict"] == "valid").all()
    assert df.loc[df["msg"] == "BU", "time"].iloc[0] == pytest.approx((T0 + 121 * MS) / 1e9)
    assert str(df["seq"].dtype) == "Int64"
    empty = verify_mod.verdicts_frame([])
    assert list(empty.columns) == COLUMNS and empty.empty


def test_config_must_be_positive():
    with pytest.raises(UsageError, match="MAX_NONCE_LIFETIME"):
        Oracle(config=DEFAULT_CONFIG.with_(max_nonce_lifetime=0))
    with pytest.raises(UsageError, match="MAX_TOKEN_LIFETIME"):
        Oracle(config=DEFAULT_CONFIG.with_(max_token_lifetime=-1))


# -- key tables ------------------------------------------------------------------------------------
def test_no_secret_in_reprs():
    keys = table((CN, KCN, NONCES))
    vs, oracle = run(rr.standard(RR(), COA1, seq=10), keys)
    text = repr(keys) + repr(vs) + repr(oracle.__dict__)
    for secret in [KCN, *NONCES.values()]:
        assert secret.hex() not in text.lower()


def test_key_table_lookup_per_cn_and_default():
    keys = table((None, KCN, NONCES), (CN2, KCN2, None))
    assert keys.kcn(CN) == KCN and keys.kcn(CN2) == KCN2
    assert keys.nonce_table(CN2) is keys.nonce_table(CN)  # the default table
    assert keys.usable("2001:db8::99")
    assert not KeyTable().usable(CN)


def test_spec_parsing_and_errors_never_show_values():
    assert split_spec("2001:DB8:c:0::1=abcd", "--kcn") == (CN, "abcd")
    assert split_spec("abcd", "--kcn") == (None, "abcd")
    assert split_spec("*=abcd", "--kcn") == (None, "abcd")
    assert parse_hex_secret("0x0A:0b 0C", "x") == b"\x0a\x0b\x0c"
    for bad in ("deadbeefzz", "abc", ""):
        with pytest.raises(UsageError) as exc:
            parse_hex_secret(bad, "--kcn")
        assert (bad not in str(exc.value)) or not bad
    with pytest.raises(UsageError) as exc:
        split_spec("c0ffee42=abcd", "--kcn")  # a mistyped secret before '='
    assert "c0ffee42" not in str(exc.value)


def test_load_key_table_from_options_env_and_files(tmp_path):
    (tmp_path / "k.hex").write_text(KCN2.hex().upper() + "\n")
    (tmp_path / "n.json").write_text(
        json.dumps(
            {"1": NONCES[1].hex(), "2": {"nonce": NONCES[2].hex(), "generated": 1700000000.5}}
        )
    )
    keys = load_key_table(
        kcn=[f"{CN}={KCN.hex()}"],
        kcn_files=[f"{CN2}={tmp_path / 'k.hex'}"],
        nonces=[str(tmp_path / "n.json")],
        env={"EBUTOOL_KCN": WRONG_KCN.hex()},
    )
    assert keys.kcn(CN) == KCN and keys.kcn(CN2) == KCN2
    assert keys.kcn("2001:db8::77") is None  # env ignored: keys came by option
    assert keys.nonce(CN, 2) == Nonce(NONCES[2], 1700000000.5)
    env_keys = load_key_table(env={"EBUTOOL_KCN": f"{CN}={KCN.hex()}, {CN2}={KCN2.hex()}"})
    assert env_keys.kcn(CN) == KCN and env_keys.kcn(CN2) == KCN2
    with pytest.raises(UsageError, match="given twice"):
        load_key_table(kcn=[KCN.hex(), KCN2.hex()])


def test_keys_json_file(tmp_path):
    (tmp_path / "n.json").write_text(json.dumps({"1": NONCES[1].hex()}))
    (tmp_path / "k2.hex").write_text(KCN2.hex())
    (tmp_path / "keys.json").write_text(
        json.dumps(
            {
                CN: {"kcn": KCN.hex(), "nonces": "n.json"},
                CN2: {"kcn_file": "k2.hex", "nonces": {"7": NONCES[7].hex()}},
            }
        )
    )
    keys = load_key_table(keys_file=str(tmp_path / "keys.json"))
    assert keys.kcn(CN) == KCN and keys.nonce(CN, 1).value == NONCES[1]
    assert keys.kcn(CN2) == KCN2 and keys.nonce(CN2, 7).value == NONCES[7]
    (tmp_path / "bad.json").write_text(json.dumps({CN: {"kcn": "not-hex-" + KCN.hex()}}))
    with pytest.raises(UsageError) as exc:
        load_key_table(keys_file=str(tmp_path / "bad.json"))
    assert KCN.hex() not in str(exc.value)


def test_bad_nonce_tables(tmp_path):
    cases = {
        "list.json": "[1, 2]",
        "idx.json": '{"one": "00"}',
        "range.json": '{"70000": "00"}',
        "hex.json": '{"1": "xyz"}',
        "gen.json": '{"1": {"nonce": "00", "generated": "soon"}}',
        "notjson.json": "{",
        "field.json": '{"1": {"nonce": "00", "extra": 1}}',
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(UsageError):
            load_key_table(nonces=[str(tmp_path / name)])
    with pytest.raises(UsageError, match="no such file"):
        load_key_table(nonces=[str(tmp_path / "missing.json")])
