"""Replay keeps a bounded number of unanswered CoTIs (memory stays bounded on traces
with lost CoTs); a forgotten CoTI is a counted warning and gives no RTT sample."""

from ebutool.cn_replay import collected_trace as engine
from ebutool.core.diagnostics import Diagnostics
from ebutool.records.record import Record
from ebutool.wire.mh.messages import CareOfTest, CareOfTestInit

CN = "2001:db8:c::1"


def _coti(i, cookie):
    return Record(
        frame=i,
        ts_ns=i * 1_000_000,
        src=f"2001:db8:f::{i}",
        dst=CN,
        msg="CoTI",
        mh=CareOfTestInit(init_cookie=cookie),
    )


def _cot(i, to, cookie):
    return Record(
        frame=i, ts_ns=i * 1_000_000, src=CN, dst=to, msg="CoT", mh=CareOfTest(init_cookie=cookie)
    )


def test_unanswered_cotis_bounded(monkeypatch):
    monkeypatch.setattr(engine, "MAX_OPEN_COTIS", 3)
    cookies = [bytes([k]) * 8 for k in range(1, 6)]
    items = [_coti(i + 1, c) for i, c in enumerate(cookies)]  # frames 1..5, none answered yet
    items += [
        _cot(10, "2001:db8:f::1", cookies[0]),  # forgotten: no sample
        _cot(11, "2001:db8:f::5", cookies[4]),
    ]  # kept: one sample
    diag = Diagnostics()
    tr = engine.collect(items, None, diag)
    assert diag.counts["replay_coti_forgotten"] == 2  # CoTIs 1 and 2
    assert [d.frame for d in diag.kept if d.code == "replay_coti_forgotten"] == [1, 2]
    assert dict(tr.rtt) == {(CN, "2001:db8:f::5"): [(5_000_000, 6_000_000)]}


def test_within_bound_nothing_forgotten():
    cookies = [bytes([k]) * 8 for k in range(1, 6)]
    items = [_coti(i + 1, c) for i, c in enumerate(cookies)]
    items += [_cot(10, "2001:db8:f::1", cookies[0])]
    diag = Diagnostics()
    tr = engine.collect(items, None, diag)
    assert diag.total == 0
    assert dict(tr.rtt) == {(CN, "2001:db8:f::1"): [(1_000_000, 9_000_000)]}
