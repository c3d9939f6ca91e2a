"""The oracle's nonce and acknowledgement rules, on captures built with the independent
builder (tests/support/rfc_scenarios): every expected value is the spec's, worked out
here (RFC 6275 5.2.7 nonce lifetime, 9.5.1 BA status values; DESIGN.md sections 3, 4).

Each case was a wrong verdict before (a review of stop 32):
- a BU using nonces first used 480 s or more before was `valid`, "nonce age unknown",
  once the oracle's sweeps had dropped the first uses;
- a BA with status 135 was checked against the BU of its own sequence number (the last
  accepted one), not the refused BU it answers;
- an EBU with care-of index 0 after a CoT of index 0 for that address (an MN back at an
  address) was checked with the standard key only: `invalid`;
- a BU whose two nonce indices the CN lacks named one index, the BA status read from it 136;
- a BU timestamped before its nonces' first use showed a negative nonce age.
"""

from __future__ import annotations

import json

import pytest

import ebutool
from ebutool.core.diagnostics import Diagnostics
from ebutool.oracle.keys import load_keys_file as load_keys
from ebutool.oracle.verify import Oracle
from ebutool.stream.reader import read_records
from tests.support.rfc_scenarios import Scenario

RFC_MAX_NONCE_LIFETIME_S = 240  # RFC 6275 section 12
RFC_STATUS_EXPIRED_HOME, RFC_STATUS_EXPIRED_CAREOF, RFC_STATUS_EXPIRED_BOTH = 136, 137, 138


def _keys(tmp_path, s: Scenario, drop: tuple[int, ...] = ()) -> str:
    path = tmp_path / "keys.json"
    nonces = {str(i): v.hex() for i, v in s.nonces.items() if i not in drop}
    path.write_text(json.dumps({s.cn: {"kcn": s.kcn.hex(), "nonces": nonces}}))
    path.chmod(0o600)
    return str(path)


def _verdicts(tmp_path, s: Scenario, keys: str | None = None):
    """Every Verdict object (the table has no ``status`` column: replay reads it)."""
    table = load_keys(keys) if keys else None
    oracle = Oracle(table, diag=Diagnostics())
    records = read_records(s.write(tmp_path), Diagnostics())
    return list(oracle.run(records))


def _one(verdicts, msg: str, seq: int):
    found = [v for v in verdicts if v.msg == msg and v.seq == seq]
    assert len(found) == 1, [(v.msg, v.seq) for v in verdicts]
    return found[0]


@pytest.mark.parametrize("late_s", [300, 490, 600])
def test_a_bu_with_nonces_first_used_long_before_is_too_old(tmp_path, late_s):
    s = Scenario()
    s.hoti(900, b"H" * 8)
    s.hot(1000, b"H" * 8, index=1)
    s.coti(901, b"C" * 8)
    s.cot(1000, b"C" * 8, index=2)
    s.bu_cn(1000 + late_s * 1000, seq=21, hidx=1, cidx=2)
    s.ba_cn(1000 + late_s * 1000 + 20, seq=21, status=RFC_STATUS_EXPIRED_BOTH)
    bu = _one(_verdicts(tmp_path, s, _keys(tmp_path, s)), "BU", 21)
    assert late_s > RFC_MAX_NONCE_LIFETIME_S
    assert (bu.verdict, bu.reason) == ("invalid", "nonce older than MAX_NONCE_LIFETIME")
    assert bu.nonce_age_ms == pytest.approx(late_s * 1000)
    assert bu.status == RFC_STATUS_EXPIRED_BOTH  # both nonces first used at 1 s


def test_one_old_nonce_of_two_leaves_the_status_open(tmp_path):
    """Home nonce first used 300 s before the BU, care-of nonce 10 ms before (in the
    capture): invalid, but the status is not pinned: a first use in the capture only
    bounds a nonce's age from below, so 136 or 138 may both be right (review)."""
    s = Scenario()
    s.hoti(900, b"H" * 8)
    s.hot(1000, b"H" * 8, index=1)
    s.coti(300_990, b"C" * 8)
    s.cot(301_000, b"C" * 8, index=2)
    s.bu_cn(301_010, seq=21, hidx=1, cidx=2)
    bu = _one(_verdicts(tmp_path, s, _keys(tmp_path, s)), "BU", 21)
    assert bu.verdict == "invalid" and bu.status is None


def test_a_135_ba_answers_the_refused_bu_not_the_accepted_one(tmp_path):
    s = Scenario()
    s.hoti(900, b"H" * 8)
    s.hot(920, b"H" * 8, index=1)
    s.coti(901, b"C" * 8)
    s.cot(921, b"C" * 8, index=2)
    s.bu_cn(1000, seq=21, hidx=1, cidx=2)
    s.ba_cn(1020, seq=21, key=(1, 2))
    s.coti(1900, b"D" * 8)
    s.cot(1920, b"D" * 8, index=3)
    s.bu_cn(2000, seq=5, hidx=1, cidx=3)  # out of window: refused with 135 ...
    s.ba_cn(2020, seq=21, status=135, key=(1, 3))  # ... carrying 21, MACed with 1/3's Kbm
    got = [v for v in _verdicts(tmp_path, s, _keys(tmp_path, s)) if v.msg == "BA"]
    assert [(v.seq, v.verdict) for v in got] == [(21, "valid"), (21, "valid")]
    assert (got[1].home_index, got[1].careof_index) == (1, 3)


def test_an_ebu_back_at_an_address_of_a_care_of_index_0_cot(tmp_path):
    """At X a standard return routability handed out care-of index 0; 39 s later the MN,
    back at X, sends an EBU (care-of index 0, Kbm_early = SHA1(home token), the draft
    4.1): its MAC verifies with Kbm_early only, so it is an EBU, valid."""
    s = Scenario()
    x, y = s.new, s.old
    s.hoti(1000, b"H1H1H1H1", x)
    s.hot(1020, b"H1H1H1H1", index=1, coa=x)
    s.coti(1000, b"C1C1C1C1", x)
    s.cot(1020, b"C1C1C1C1", index=0, coa=x)
    s.bu_cn(1030, seq=10, hidx=1, cidx=0, coa=x)
    s.ba_cn(1050, seq=10, key=(1, 0), coa=x)
    s.coti(20000, b"C2C2C2C2", y)
    s.cot(20020, b"C2C2C2C2", index=2, coa=y)
    s.bu_cn(20030, seq=11, hidx=1, cidx=2, coa=y)
    s.ba_cn(20050, seq=11, key=(1, 2), coa=y)
    s.bu_cn(40000, seq=12, hidx=1, cidx=0, coa=x, kbm_cidx=None)  # the EBU
    s.ba_cn(40020, seq=12, key=(1, None), coa=x)  # the EBA
    for keys in (_keys(tmp_path, s), None):  # Kcn basis, and keyless (tokens seen)
        got = _verdicts(tmp_path, s, keys)
        first = _one(got, "BU", 10)
        assert (first.verdict, first.key_form) == ("valid", "standard")
        ebu = _one(got, "EBU", 12)
        assert (ebu.verdict, ebu.key_form) == ("valid", "early"), ebu.reason
        eba = _one(got, "EBA", 12)
        assert eba.verdict == "valid"


def test_the_analysis_keeps_that_ebu_early(tmp_path):
    """The same return, with home registrations so the analysis sees the move back:
    the handover back to X is early, not standard (it was standard, auth invalid)."""
    s = Scenario()
    x, y = s.new, s.old
    s.bu_ha(1000, seq=1, coa=x)
    s.hoti(1000, b"H1H1H1H1", x)
    s.coti(1000, b"C1C1C1C1", x)
    s.cot(1020, b"C1C1C1C1", index=0, coa=x)
    s.ba_ha(1040, seq=1, coa=x)
    s.hot(1120, b"H1H1H1H1", index=1, coa=x)
    s.bu_cn(1120, seq=10, hidx=1, cidx=0, coa=x)
    s.ba_cn(1140, seq=10, key=(1, 0), coa=x)
    s.bu_ha(20000, seq=2, coa=y)
    s.hoti(20000, b"H2H2H2H2", y)
    s.coti(20000, b"C2C2C2C2", y)
    s.cot(20020, b"C2C2C2C2", index=2, coa=y)
    s.ba_ha(20040, seq=2, coa=y)
    s.hot(20120, b"H2H2H2H2", index=1, coa=y)
    s.bu_cn(20120, seq=11, hidx=1, cidx=2, coa=y)
    s.ba_cn(20140, seq=11, key=(1, 2), coa=y)
    s.hoti(39000, b"H3H3H3H3", y)  # the home test before the move (the draft)
    s.hot(39100, b"H3H3H3H3", index=1, coa=y)
    s.bu_ha(40000, seq=3, coa=x)  # back at X: t0
    s.bu_cn(40000, seq=12, hidx=1, cidx=0, coa=x, kbm_cidx=None)  # the EBU
    s.coti(40000, b"C3C3C3C3", x)
    s.ba_cn(40024, seq=12, key=(1, None), coa=x)  # the EBA
    s.cot(40024, b"C3C3C3C3", index=3, coa=x)
    s.ba_ha(40040, seq=3, coa=x)
    s.data_up(40041, coa=x)
    s.bu_cn(40044, seq=13, hidx=1, cidx=3, coa=x)
    s.ba_cn(40068, seq=13, key=(1, 3), coa=x)
    df = ebutool.analyze(s.write(tmp_path), keys=load_keys(_keys(tmp_path, s)))
    back = df[(df["coa"] == x) & (df["prev_coa"] == y)]
    assert len(back) == 1, df[["coa", "prev_coa", "kind"]]
    row = back.iloc[0]
    assert (row["kind"], row["auth"]) == ("early", "valid"), row["diagnosis"]


@pytest.mark.parametrize(("hidx", "cidx"), [(3, 3), (4, 5)])
def test_a_bu_with_both_nonces_unknown_names_both(tmp_path, hidx, cidx):
    s = Scenario()
    s.nonces[4], s.nonces[5] = b"nonce-four!!", b"nonce-five!!"
    s.hoti(900, b"H" * 8)
    s.hot(920, b"H" * 8, index=hidx)
    s.coti(901, b"C" * 8)
    s.cot(921, b"C" * 8, index=cidx)
    s.bu_cn(1000, seq=21, hidx=hidx, cidx=cidx)
    keys = _keys(tmp_path, s, drop=(hidx, cidx))
    bu = _one(_verdicts(tmp_path, s, keys), "BU", 21)
    assert bu.verdict == "invalid" and bu.status == RFC_STATUS_EXPIRED_BOTH
    assert f"{hidx} (home)" in bu.reason and f"{cidx} (care-of)" in bu.reason


def test_one_unknown_care_of_nonce_is_137(tmp_path):
    s = Scenario()
    s.nonces[5] = b"nonce-five!!"
    s.hoti(900, b"H" * 8)
    s.hot(920, b"H" * 8, index=1)
    s.coti(901, b"C" * 8)
    s.cot(921, b"C" * 8, index=5)
    s.bu_cn(1000, seq=21, hidx=1, cidx=5)
    bu = _one(_verdicts(tmp_path, s, _keys(tmp_path, s, drop=(5,))), "BU", 21)
    assert (bu.verdict, bu.reason) == ("invalid", "unknown nonce index 5")
    assert bu.status == RFC_STATUS_EXPIRED_CAREOF


def test_a_bu_stamped_before_its_nonces_first_use_has_no_age(tmp_path):
    s = Scenario()
    s.hoti(900, b"H" * 8)
    s.hot(1000, b"H" * 8, index=1)
    s.coti(901, b"C" * 8)
    s.cot(1000, b"C" * 8, index=2)
    s.bu_cn(1000, seq=21, hidx=1, cidx=2)
    s.packets[-1] = (s.packets[-1][0] - 10_000_000, s.packets[-1][1])  # 10 ms earlier ...
    path = tmp_path / "ooo.pcap"
    from tests.support import rfc_packets as P

    path.write_bytes(P.pcap(s.packets, nanosecond=True))  # ... but last in the file
    oracle = Oracle(load_keys(_keys(tmp_path, s)), diag=Diagnostics())
    bu = _one(list(oracle.run(read_records(path, Diagnostics()))), "BU", 21)
    assert bu.verdict == "valid" and bu.nonce_age_ms is None
    assert "timestamps out of order" in bu.reason


def test_a_135_ba_answers_the_refused_bu_even_after_a_newer_one(tmp_path):
    """BU 5 (refused, nonces 1/3) and then BU 22 (nonces 1/4) leave before the 135
    carrying 21 arrives: it answers BU 5, the newest BU whose number is not greater than
    the last accepted one, and is MACed with BU 5's Kbm (RFC 6275 9.5.1)."""
    s = Scenario()
    s.nonces[4] = b"nonce-four!!"
    s.hoti(900, b"H" * 8)
    s.hot(920, b"H" * 8, index=1)
    s.coti(901, b"C" * 8)
    s.cot(921, b"C" * 8, index=2)
    s.bu_cn(1000, seq=21, hidx=1, cidx=2)
    s.ba_cn(1020, seq=21, key=(1, 2))
    s.coti(1900, b"D" * 8)
    s.cot(1920, b"D" * 8, index=3)
    s.coti(1901, b"E" * 8)
    s.cot(1921, b"E" * 8, index=4)
    s.bu_cn(2000, seq=5, hidx=1, cidx=3)
    s.bu_cn(2005, seq=22, hidx=1, cidx=4)
    s.ba_cn(2020, seq=21, status=135, key=(1, 3))
    s.ba_cn(2025, seq=22, key=(1, 4))
    got = [v for v in _verdicts(tmp_path, s, _keys(tmp_path, s)) if v.msg == "BA"]
    assert [(v.seq, v.verdict, v.careof_index) for v in got] == [
        (21, "valid", 2),
        (21, "valid", 3),
        (22, "valid", 4),
    ]


def test_a_135_ba_whose_refused_bu_the_capture_lacks_is_unverifiable(tmp_path):
    """The only captured BU before the 135 (carrying 21) has number 30, greater than 21:
    it cannot be the one refused (a BU before the capture was); the BA cannot be
    checked, not 'invalid' (review of stop 32)."""
    s = Scenario()
    s.hoti(900, b"H" * 8)
    s.hot(920, b"H" * 8, index=1)
    s.coti(901, b"C" * 8)
    s.cot(921, b"C" * 8, index=2)
    s.bu_cn(1000, seq=30, hidx=1, cidx=2)
    s.ba_cn(1010, seq=21, status=135, key=(1, 3))  # answers a BU 10 before the capture
    s.ba_cn(1020, seq=30, key=(1, 2))
    for keys in (_keys(tmp_path, s), None):
        got = [v for v in _verdicts(tmp_path, s, keys) if v.msg == "BA"]
        assert [(v.seq, v.verdict) for v in got] == [(21, "unverifiable"), (30, "valid")]
