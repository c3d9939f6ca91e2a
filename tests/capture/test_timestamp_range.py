"""Issue 12 item 3: capture times outside int64 nanoseconds since 1970 (1970..2262).

A pcapng interface's if_tsoffset (or if_tsresol) can push ordinary timestamps beyond
2262 or before 1970.  Such a packet is counted and diagnosed (``timestamp_out_of_range``,
once per packet), never crashed on; ``-j N`` keeps the other files' output; ``convert``
never writes a time its own trace reader rejects.  The captures are packed by hand.
"""

from __future__ import annotations

import io
import struct

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import capture_records, read_records
from tests.capture.pcapng_raw import LINKTYPE_RAW, epb, idb, shb, tsoffset, tsresol
from tests.support import rfc_packets as R

T0_US = 1_700_000_000_000_000  # 2023-11-14, in the default resolution (microseconds)
BU = R.mh_packet(
    "2001:db8:2::100", "2001:db8:3::1", 5, R.bu_body(1, 0x8000, 100), hoa="2001:db8:1::100"
)
UDP = R.ipv6("2001:db8:2::100", "2001:db8:3::1", 17, struct.pack("!HHHH", 1, 2, 8, 0))


def capture(*interface_options: bytes, ts: int = T0_US) -> bytes:
    return (
        shb()
        + idb(LINKTYPE_RAW, *interface_options)
        + epb(0, ts, BU)
        + epb(0, ts + 1000, UDP)
        + epb(0, ts + 2000, BU)
    )


CASES = {
    "beyond_2262": capture(tsoffset(10_000_000_000)),  # + 317 years
    "before_1970": capture(tsoffset(-10_000_000_000)),
    "huge_resolution": capture(tsresol(0), ts=T0_US),  # the same number as seconds
    "offset_max": capture(tsoffset(2**63 - 1)),
}


def read(raw: bytes):
    diag, stats = Diagnostics(), StreamStats()
    recs = list(capture_records(io.BytesIO(raw), diag, stats, "x"))
    return recs, diag, stats


def test_in_range_capture_gives_records():
    recs, diag, stats = read(capture())
    assert [r.frame for r in recs] == [1, 3]
    assert recs[0].ts_ns == T0_US * 1000
    assert "timestamp_out_of_range" not in diag.counts


@pytest.mark.parametrize("name", sorted(CASES))
def test_out_of_range_packets_are_counted_and_diagnosed(name):
    recs, diag, stats = read(CASES[name])
    assert recs == []
    assert diag.counts["timestamp_out_of_range"] == 2  # the two BUs; the UDP never matters
    assert stats.frames == 3
    assert stats.skipped["timestamp_out_of_range"] == 2


@pytest.mark.parametrize("name", sorted(CASES))
def test_reference_reader_gives_the_same(name, tmp_path):
    from ebutool.capture import open_frames
    from ebutool.stream.reader import records_from_frames

    p = tmp_path / f"{name}.pcapng"
    p.write_bytes(CASES[name])
    diag, stats = Diagnostics(), StreamStats()
    assert list(records_from_frames(open_frames(p, diag), diag, stats)) == []
    assert diag.counts["timestamp_out_of_range"] == 2
    d2 = Diagnostics()
    assert list(read_records(p, d2)) == []
    assert d2.counts == diag.counts


@pytest.mark.parametrize("name", sorted(CASES))
def test_analyze_does_not_crash(name, tmp_path, cli):
    p = tmp_path / f"{name}.pcapng"
    p.write_bytes(CASES[name])
    for fmt in ("csv", "json", "table"):
        res = cli("analyze", p, "-f", fmt)
        assert res.exit_code == 0, res.stderr
        assert "timestamp_out_of_range 2" in res.stderr
        assert "Traceback" not in res.stderr


def test_parallel_run_keeps_the_other_files_rows(tmp_path, cli):
    bad, good = tmp_path / "a_bad.pcapng", tmp_path / "b_good.pcapng"
    bad.write_bytes(CASES["beyond_2262"])
    good.write_bytes(capture())
    res = cli("analyze", "-j", "2", bad, good, "-f", "csv")
    assert res.exit_code == 0, res.stderr
    rows = res.stdout.splitlines()
    assert len(rows) == 2 and "b_good.pcapng" in rows[1]
    assert "timestamp_out_of_range 2" in res.stderr


@pytest.mark.parametrize("name", sorted(CASES))
def test_convert_writes_only_times_its_reader_accepts(name, tmp_path, cli):
    p, out = tmp_path / f"{name}.pcapng", tmp_path / f"{name}.jsonl"
    p.write_bytes(CASES[name])
    res = cli("convert", p, "-o", out)
    assert res.exit_code == 0, res.stderr
    diag = Diagnostics()
    list(read_records(out, diag))
    assert "bad_trace_record" not in diag.counts
    res = cli("analyze", out)
    assert res.exit_code == 0 and "bad_trace_record" not in res.stderr
