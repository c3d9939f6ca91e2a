"""A trace whose times are finer than a microsecond (a nanosecond capture converted:
`time_ns` exact) prints its times with 9 decimals, as the capture does (it printed 6,
rounded: t_first_seen ...712051 for ...712050600)."""

from __future__ import annotations

from tests.support.cli import run_cli
from tests.support.rfc_scenarios import Scenario

SUB_US_MS = 0.0006  # 600 ns: below what 6 decimals of a second show


def test_a_nanosecond_trace_prints_what_its_capture_prints(tmp_path):
    s = Scenario()
    t0 = 1000.0 + SUB_US_MS
    s.bu_ha(t0, seq=10)
    s.hoti(t0, b"H" * 8)
    s.coti(t0, b"C" * 8)
    s.ba_ha(t0 + 40, seq=10)
    s.cot(t0 + 30, b"C" * 8, index=2)
    s.hot(t0 + 80, b"H" * 8, index=1)
    s.bu_cn(t0 + 80, seq=20, hidx=1, cidx=2)
    s.ba_cn(t0 + 110, seq=20, key=(1, 2))
    s.data_up(t0 + 111)
    pcap = s.write(tmp_path)
    trace = tmp_path / "s.jsonl"
    assert run_cli("convert", str(pcap), "-o", str(trace), "-q").exit_code == 0
    cols = ["-c", "coa,t_handover,send_latency_ms", "-f", "csv", "-q"]
    from_pcap = run_cli("analyze", str(pcap), *cols)
    from_trace = run_cli("analyze", str(trace), *cols)
    assert from_pcap.exit_code == from_trace.exit_code == 0
    assert ".000000600" in from_pcap.stdout  # the capture's exact time
    assert from_trace.stdout == from_pcap.stdout
