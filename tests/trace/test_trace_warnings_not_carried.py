"""A trace written from a capture keeps the records, not the capture's warnings: a
HoTI behind an RPL source route still in transit (RFC 6554, segments left 1) gives a
``routing_header_in_transit`` warning when the capture is read, and its record the final
destination; the trace read back has that destination and no warning.  ``convert`` now
says which warnings the trace does not carry (docs/trace-format.md); a checksum that
does not verify, which the trace's ``checksum_ok`` carries, is said again on reading.

Packets are packed by hand (tests/support/rfc_packets.py; the RPL routing header as
tests/wire/test_routing_in_transit.py packs it from RFC 6554)."""

from __future__ import annotations

from ebutool.core.diagnostics import Diagnostics
from ebutool.stream.reader import read_records
from tests.support import rfc_packets as R
from tests.support.cli import run_cli
from tests.wire.test_routing_in_transit import CN, HOP1, MN_HOA, NH_MH, rh3

NH_ROUTING = 43


def _convert(tmp_path, pkt: bytes):
    cap, out = tmp_path / "c.pcap", tmp_path / "c.jsonl"
    cap.write_bytes(R.pcap([(10**18, pkt)]))
    res = run_cli("convert", cap, "-o", out)
    assert res.exit_code == 0, res.stderr
    diag = Diagnostics()
    return res.stderr, list(read_records(str(out), diag)), diag


def test_convert_names_the_warnings_its_trace_does_not_carry(tmp_path):
    hoti = R.mobility_header(1, R.hoti_body(b"C" * 8), src=MN_HOA, dst=CN)
    pkt = R.ipv6(MN_HOA, HOP1, NH_ROUTING, rh3(NH_MH, 1, [CN], 8, 8) + hoti)
    stderr, recs, diag = _convert(tmp_path, pkt)
    line = next(x for x in stderr.splitlines() if "does not carry" in x)
    assert "(routing_header_in_transit 1)" in line
    assert "warnings: routing_header_in_transit 1" in stderr  # said by convert itself
    assert [(r.msg, r.dst) for r in recs] == [("HoTI", CN)]  # the outcome is kept
    assert "routing_header_in_transit" not in diag.counts  # ... the warning is not


def test_a_warning_the_trace_carries_is_not_named(tmp_path):
    hoti = bytearray(R.mobility_header(1, R.hoti_body(b"C" * 8), src=MN_HOA, dst=CN))
    hoti[4] ^= 0xFF  # the checksum's first octet: it no longer verifies
    stderr, recs, diag = _convert(tmp_path, R.ipv6(MN_HOA, CN, NH_MH, bytes(hoti)))
    assert "does not carry" not in stderr
    assert "bad_mh_checksum 1" in stderr
    assert [r.checksum_ok for r in recs] == [False]
    assert dict(diag.counts) == {"bad_mh_checksum": 1}  # said again on reading
