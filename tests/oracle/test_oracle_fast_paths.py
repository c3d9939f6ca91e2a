"""The oracle's per-message shortcuts give what the plain ways give.

* sweeps of records in time order stop at the first entry they keep (verify.Oracle._sweep,
  tables.sweep_tokens ``ordered``): the same tables, entry for entry, as whole scans, and
  whole scans again once a record comes out of time order;
* the options a BU/BA is read for (binding_checks._options) are those of first_options;
* ScheduledOracle.advance, which returns at once until something is due, applies the
  same first uses and sweeps as a walk of the schedule at every position, and its
  ``largest`` is the most entries a table held after a check.
"""

from __future__ import annotations

import hashlib
import random

from ebutool.oracle import Oracle
from ebutool.oracle import binding_checks as checks_mod
from ebutool.oracle.scheduled import Schedule, ScheduledOracle, run_schedule
from ebutool.oracle.tables import sweep_tokens
from ebutool.wire.mh.messages import BindingAcknowledgement, BindingUpdate
from ebutool.wire.mh.mobility_options import (
    AlternateCareOfAddress,
    BindingAuthorizationData,
    CareOfTestOption,
    NonceIndices,
    Pad1,
    PadN,
    UnknownOption,
)
from tests.support import rr
from tests.support.rr import CN, RR, T0, S

TABLES = ("_home", "_careof", "_sent", "_first_use", "_coa_mn")


def tables(oracle: Oracle) -> list:
    """Every bounded table of ``oracle``, entries in order (values as compared), token
    tuples without the tokens older than the trim a sweep left to the reads."""
    cut = oracle._token_cut
    out = []
    for name in TABLES:
        entries = []
        for k, v in getattr(oracle, name).items():
            if hasattr(v, "__slots__"):  # a Sent
                v = tuple(getattr(v, s) for s in v.__slots__)
            elif name in ("_home", "_careof") and cut is not None:
                v = tuple(x for i in range(0, len(v), 3) if v[i + 1] >= cut for x in v[i : i + 3])
            entries.append((k, v))
        out.append((name, entries))
    return out


def verdict(v):
    return None if v is None else (v.msg, v.verdict, v.reason, v.key_form, v.tokens_from)


def busy_capture(seed: int, n: int = 240) -> list:
    """Keyless exchanges of 5 MNs that reuse their nonce indices (so token tuples hold
    several tokens, and sweeps trim old ones off them), 1-60 s apart, in time order."""
    rng = random.Random(seed)
    t = T0
    pkts = []
    for i in range(n):
        mn = rng.randrange(5)
        m = RR(hoa=f"2001:db8:1::{mn + 1:x}")
        coa = f"2001:db8:2::{rng.randrange(1, 40):x}"
        if rng.random() < 0.5:
            pkts += rr.early(m, "2001:db8:9::1", coa, seq=i, t0_ns=t, hidx=1 + mn % 3, cidx=2)
        else:
            pkts += rr.standard(m, coa, seq=i, t0_ns=t, hidx=1 + mn % 3, cidx=2 + mn % 2)
        t += rng.randrange(1, 60) * S
    return rr.records(pkts)


def test_sweeps_in_time_order_keep_what_whole_scans_keep():
    recs = busy_capture(1)
    fast, whole = Oracle(), Oracle()
    whole._in_order = False  # whole scans throughout (what _sweep did before)
    swept = 0
    for rec in recs:
        before = fast._swept
        assert verdict(fast.check(rec)) == verdict(whole.check(rec))
        swept += fast._swept != before
        assert tables(fast) == tables(whole)
    assert fast._in_order and swept > 50
    assert fast._token_cut is not None  # (trims were left to the reads)
    assert fast.memory() == whole.memory()  # (which makes them)
    assert fast._token_cut is None and tables(fast) == tables(whole)
    assert [v for v in fast._home.values() if len(v) > 3]  # (tuples of several tokens)


def test_a_record_out_of_time_order_makes_the_sweeps_scan_whole_tables():
    m1, m2 = RR(hoa="2001:db8:1::1"), RR(hoa="2001:db8:1::2")
    late = rr.records(rr.standard(m1, "2001:db8:2::1", seq=1, t0_ns=T0 + 300 * S))
    early = rr.records(rr.standard(m2, "2001:db8:2::2", seq=2, t0_ns=T0 + 10 * S))
    after = rr.records(rr.standard(m1, "2001:db8:2::3", seq=3, t0_ns=T0 + 520 * S))
    oracle = Oracle()
    for rec in late + early:
        oracle.check(rec)
    assert not oracle._in_order
    assert (m2.hoa, CN, 2) in oracle._sent  # (put after m1's: a sweep that stopped at
    for rec in after:  # the first entry it keeps would keep it)
        oracle.check(rec)
    # the sweep at T0 + 520 s drops BUs older than MAX_NONCE_LIFETIME (240 s)
    assert (m2.hoa, CN, 2) not in oracle._sent and (m1.hoa, CN, 1) in oracle._sent
    assert "2001:db8:2::2" not in oracle._coa_mn  # (2 x MAX_TOKEN_LIFETIME: 420 s)


def test_sweep_tokens_ordered_is_the_whole_scan_on_newest_first_tuples():
    rng = random.Random(7)
    for _ in range(300):
        table = {}
        for k in range(rng.randrange(1, 8)):
            times = sorted((rng.randrange(100) for _ in range(rng.randrange(1, 5))), reverse=True)
            table[k] = tuple(x for ts in times for x in (b"t%d" % ts, ts, ts + 1000))
        cut = rng.randrange(110)
        expected = {}
        for k, v in table.items():  # the tokens at or after the cut, in their order
            kept = [v[i : i + 3] for i in range(0, len(v), 3) if v[i + 1] >= cut]
            if kept:
                expected[k] = tuple(x for e in kept for x in e)
        ordered, whole = dict(table), dict(table)
        sweep_tokens(ordered, cut, ordered=True)
        sweep_tokens(whole, cut)
        assert list(ordered.items()) == list(whole.items()) == list(expected.items())


def test_options_are_the_first_of_each_class():
    rng = random.Random(3)
    pool = [
        Pad1(),
        PadN(b"\x00\x00"),
        UnknownOption(99, b"x"),
        NonceIndices(1, 2),
        NonceIndices(3, 4),
        BindingAuthorizationData(b"a" * 12),
        BindingAuthorizationData(b"b" * 12),
        AlternateCareOfAddress("2001:db8::1"),
        AlternateCareOfAddress("2001:db8::2"),
        CareOfTestOption(b"c" * 8),
        CareOfTestOption(b"d" * 8),
    ]
    for _ in range(500):
        opts = rng.sample(pool, rng.randrange(len(pool) + 1))
        for msg in (BindingUpdate(options=opts), BindingAcknowledgement(options=opts)):
            got = checks_mod._options(msg)
            want = msg.first_options(*checks_mod._OPTION_CLASSES)
            assert len(got) == len(want) == 4
            assert all(g is w for g, w in zip(got, want, strict=True))


def _walk(schedule: Schedule, group: int, pos: int, state: dict) -> None:
    """The reference: what is due before ``pos``, found by walking the whole schedule."""
    state["swept"] = [t for p, t in schedule.sweeps if p <= pos]
    for p, g, cn, index, ts in schedule.first_uses:
        if g != group and p < pos:
            state["uses"].setdefault((cn, index), ts)


def test_advance_applies_what_is_due_before_each_position():
    schedule = Schedule(
        sweeps=[(4, 400), (9, 900), (9, 901), (15, 1500)],
        first_uses=[
            (2, 1, "cn1", 1, 200),
            (3, 0, "cn1", 2, 300),  # this group's own: never injected
            (5, 1, "cn1", 3, 500),
            (5, 2, "cn2", 3, 501),
            (9, 1, "cn2", 4, 902),
            (12, 1, "cn2", 5, 1200),
        ],
    )
    for step in (1, 2, 3, 5):  # told before every record, or only before some
        oracle = ScheduledOracle(schedule=schedule, group=0)
        sweeps = []
        oracle._sweep = sweeps.append  # (records the times; the tables are empty anyway)
        state: dict = {"swept": [], "uses": {}}
        for pos in range(0, 18, step):
            oracle.advance(pos)
            _walk(schedule, 0, pos, state)
            assert sweeps == state["swept"], (step, pos)
            assert oracle._first_use == state["uses"], (step, pos)


def test_largest_is_the_most_entries_after_a_check():
    recs = busy_capture(2, n=120)
    messages = [
        (
            p,
            0,
            r.ts_ns,
            r.src if r.msg in ("HoT", "CoT") else None,
            getattr(r.mh, "nonce_index", None),
        )
        for p, r in enumerate(recs)
        if r.mh is not None
    ]
    schedule = run_schedule(messages)
    assert schedule.sweeps
    oracle = ScheduledOracle(schedule=schedule, group=1)  # (group 0's uses injected)
    most = 0
    for pos, rec in enumerate(recs):
        oracle.advance(pos)
        oracle.check(rec)
        most = max(most, *(len(getattr(oracle, name)) for name in TABLES))
        assert oracle.largest == most
    assert most > len(oracle._sent) or most > len(oracle._home)  # sweeps shrank them


def test_largest_counts_every_table():
    hoti = rr.records([RR().hoti(T0, "2001:db8:2::1")])[0]
    for i, name in enumerate(TABLES):
        oracle = ScheduledOracle()
        getattr(oracle, name).update((k, None) for k in range(50 + i))
        assert oracle.check(hoti) is None
        assert oracle.largest == 50 + i, name


def test_a_group_whose_clock_lags_the_runs_sweeps_keeps_tokens_older_than_the_cut():
    """A ScheduledOracle is swept on the run's clock: a token its own records bring
    later, older than that sweep's cut, is kept until the next sweep (as a sweep that
    trims every tuple at once does), not dropped when read."""
    recs = rr.records(rr.standard(RR(), "2001:db8:2::1", seq=1, t0_ns=T0 + 10 * S))
    ahead = T0 + 2000 * S  # another group's time at the sweep (cut: 2000 - 420 s)
    schedule = Schedule(sweeps=[(2, ahead)], first_uses=[])
    got = {}
    for lazy in (True, False):
        oracle = ScheduledOracle(schedule=schedule, group=0)
        oracle._in_order = lazy  # False: whole scans and trims at the sweep
        out = []
        for pos, rec in enumerate(recs):
            oracle.advance(pos)
            out.append(verdict(oracle.check(rec)))
        got[lazy] = out, oracle.memory()
    assert got[True] == got[False]
    assert ("BU", "valid", "authenticator matches", "standard", "6 4") in got[True][0]


def test_records_out_of_time_order_give_what_whole_scans_give():
    """Exchanges in time order, then some of the earlier ones again (older tokens for
    tuples a sweep left untrimmed): verdicts and table sizes as with whole scans."""
    for seed in (4, 5, 6):
        recs = busy_capture(seed, n=160)
        rng = random.Random(seed)
        late = sorted(rng.sample(range(len(recs) // 2), 40))
        recs = recs + [recs[i] for i in late]  # (the same keys again, older times)
        fast, whole = Oracle(), Oracle()
        whole._in_order = False
        for rec in recs:
            assert verdict(fast.check(rec)) == verdict(whole.check(rec))
        assert not fast._in_order
        assert fast.memory() == whole.memory()
        assert tables(fast) == tables(whole)


def test_kbms_from_the_cache_are_those_computed():
    """Sent.kbm with a cache shared by many Sents (several forms and care-of tokens for
    the same home tokens) gives what it computes without one, and what the RFC says."""
    from ebutool.oracle import crypto
    from ebutool.oracle.tables import KBM_CACHE, Sent

    rng = random.Random(9)
    homes = [bytes([i]) * 8 for i in range(6)]
    forms_pool = [
        (crypto.KEY_EARLY,),
        (crypto.KEY_EARLY, crypto.KEY_EARLY_RFC4866),
        (crypto.KEY_DEREG,),
    ]
    cache: dict = {}
    for _ in range(3 * KBM_CACHE):
        sent = Sent(0, "EBU", rng.choice(forms_pool))
        sent.homes = tuple(x for h in rng.sample(homes, 3) for x in (h, 0, 0))
        if rng.random() < 0.5:
            sent.careofs = tuple(x for c in rng.sample(homes, 2) for x in (c + b"c", 0, 0))
        for k in range(sent.count()):
            i, j = sent.positions(k)
            home = sent.homes[i]
            if j is None:
                form = sent.forms[k % len(sent.forms)]
                tail = bytes(8) if form == crypto.KEY_EARLY_RFC4866 else b""
                want = hashlib.sha1(home + tail).digest()
            else:
                want = hashlib.sha1(home + sent.careofs[j]).digest()
            assert sent.kbm(k, cache) == sent.kbm(k) == want
    assert 0 < len(cache) <= KBM_CACHE
