"""A trace's `handover` events whose lines come after records with later times
(docs/trace-format.md: times need not increase).  What those records did before the
event arrived cannot be redone, so the handover the event dates or opens is flagged
`handover_event_out_of_order`, quality `inconsistent_times` (it was quality ok with a
send latency of 4153 ms for 153).  The packets are an independent builder's capture
(tests/support/rfc_scenarios), its lines written by `ebutool convert`; the events are
written here by hand (docs/trace-format.md)."""

from __future__ import annotations

import json

import ebutool
from tests.support.cli import run_cli
from tests.support.rfc_scenarios import BASE_NS, Scenario

ATTACH_BEFORE_MS = 4.0  # the MN attached this long before its first packet from there


def _handover(s: Scenario, t0: float, new: str, seq: int, tag: bytes) -> None:
    s.bu_ha(t0, seq=seq, coa=new)
    s.hoti(t0 + 0.01, tag + b"H", coa=new)
    s.coti(t0 + 0.02, tag + b"C", coa=new)
    s.ba_ha(t0 + 41, seq=seq, coa=new)
    s.cot(t0 + 30, tag + b"C", index=2, coa=new)
    s.hot(t0 + 80, tag + b"H", index=1, coa=new)
    s.bu_cn(t0 + 80.5, seq=seq + 100, hidx=1, cidx=2, coa=new)
    s.ba_cn(t0 + 110.5, seq=seq + 100, key=(1, 2), coa=new)
    s.data_up(t0 + 149, new)


def _trace(tmp_path, where: str) -> str:
    s = Scenario()
    a, b = s.old, s.new
    s.data_up(900, a)
    starts = [(1000.0, b, a), (3000.0, a, b), (5000.0, b, a)]
    for i, (t0, new, _) in enumerate(starts):
        _handover(s, t0, new, 10 + i, b"%07d" % i)
    pcap = s.write(tmp_path)
    trace = tmp_path / "packets.jsonl"
    res = run_cli("convert", str(pcap), "-o", str(trace), "-q")
    assert res.exit_code == 0, res.stderr
    head, *lines = [json.loads(x) for x in trace.read_text().splitlines()]
    events = [
        {
            "type": "handover",
            "time_ns": BASE_NS + round((t0 - ATTACH_BEFORE_MS) * 1e6),
            "mn": s.hoa,
            "coa": new,
            "prev_coa": prev,
        }
        for t0, new, prev in starts
    ]
    if where == "end":
        lines += events
    else:  # in time order
        lines = sorted(lines + events, key=lambda x: x["time_ns"])
    out = tmp_path / f"{where}.jsonl"
    out.write_text("".join(json.dumps(x) + "\n" for x in [head, *lines]))
    return str(out)


def test_events_in_time_order_date_their_handovers(tmp_path):
    df = ebutool.analyze(_trace(tmp_path, "in_order"))
    assert list(df["t0_source"]) == ["event"] * 3
    assert list(df["send_latency_ms"]) == [149 + ATTACH_BEFORE_MS] * 3
    assert set(df["quality"]) == {"ok"}


def test_events_after_later_records_flag_what_they_dated(tmp_path):
    df = ebutool.analyze(_trace(tmp_path, "end"))
    flagged = df[df["diagnosis"].fillna("").str.contains("handover_event_out_of_order")]
    assert len(flagged) >= 1
    assert set(flagged["quality"]) == {"inconsistent_times"}
    ok = df[df["quality"] == "ok"]
    # every row left in statistics has the latency its own t0 gives
    assert list(ok["send_latency_ms"]) == [149.0] * len(ok)


def test_another_mns_later_records_do_not_make_an_event_late(tmp_path):
    """Lateness is per mobile node: MN2's event written just after an MN1 packet 3 ms
    later (nothing of MN2 out of order) dates MN2's handover, quality ok, as a run
    split by mobile node (analyze STORE -j 2) also sees it (review of stop 32)."""
    m1 = Scenario()
    m2 = Scenario(hoa="2001:db8:1::200", old="2001:db8:a::200", new="2001:db8:b::200")
    m1.data_up(900, m1.old)
    _handover(m1, 1000, m1.new, 10, b"AAAAAAA")
    m2.data_up(901, m2.old)
    _handover(m2, 1001, m2.new, 20, b"BBBBBBB")
    both = Scenario()
    both.packets = sorted(m1.packets + m2.packets)
    pcap = both.write(tmp_path, "both.pcap")
    conv = tmp_path / "conv.jsonl"
    assert run_cli("convert", str(pcap), "-o", str(conv), "-q").exit_code == 0
    head, *lines = [json.loads(x) for x in conv.read_text().splitlines()]
    t_event = BASE_NS + round((1001 - ATTACH_BEFORE_MS) * 1e6)
    event = {"type": "handover", "time_ns": t_event, "mn": m2.hoa, "coa": m2.new,
             "prev_coa": m2.old}  # fmt: skip
    after = next(k for k, x in enumerate(lines) if x["time_ns"] > t_event)  # an MN1 packet
    assert lines[after]["src"] == m1.new
    lines.insert(after + 1, event)
    trace = tmp_path / "two.jsonl"
    trace.write_text("".join(json.dumps(x) + "\n" for x in [head, *lines]))
    df = ebutool.analyze(str(trace))
    row = df[df["mn"] == m2.hoa].iloc[0]
    assert (row["t0_source"], row["quality"]) == ("event", "ok")
    assert row["send_latency_ms"] == 149 + ATTACH_BEFORE_MS  # from the event
