"""JSON Lines traces keep ESP protection ("esp": SPI, sequence number, algorithm), and
refuse times a capture cannot hold (before 1970 / the simulation start).

Ground truth: the scapy-protected capture (tests/esp/peer.py: SPIs and sequence numbers
chosen there) and the ESP sample analysed directly with its SAs."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from ebutool.core.diagnostics import Diagnostics
from ebutool.records.from_packet import StreamStats
from ebutool.stream.reader import read_records
from ebutool.trace.jsonl import read_trace_records, schema_errors
from tests.esp.test_scapy_peer import protected_sample
from tests.support.cli import SAMPLES

ESP_SAMPLE = SAMPLES / "esp" / "early-conservative.pcap"
SA_FILE = SAMPLES / "esp" / "early-conservative.xfrm"
LINE = {
    "type": "packet",
    "time_ns": 1_700_000_000_000_000_000,
    "msg": "data",
    "src": "2001:db8:b::100",
    "dst": "2001:db8:1::1",
    "tunnel_src": "2001:db8:b::100",
    "tunnel_dst": "2001:db8:1::1",
    "proto": 17,
}


def _read(lines):
    text = "".join(json.dumps(ln) + "\n" for ln in lines)
    diag, stats = Diagnostics(), StreamStats()
    recs = list(read_trace_records(io.BytesIO(text.encode()), diag, stats, "t.jsonl"))
    return recs, diag, stats


@pytest.fixture
def private_sa(tmp_path):
    copy = tmp_path / SA_FILE.name
    shutil.copyfile(SA_FILE, copy)
    copy.chmod(0o600)
    return copy


def test_converted_trace_gives_the_capture_esp_protected_column(tmp_path, cli, private_sa):
    trace = tmp_path / "esp.jsonl"
    res = cli("convert", ESP_SAMPLE, "--esp-sa", private_sa, "-o", trace, "-q")
    assert res.exit_code == 0, res.stderr
    lines = [json.loads(ln) for ln in trace.read_text().splitlines()]
    assert any("esp" in ln for ln in lines)
    direct = cli("analyze", ESP_SAMPLE, "--esp-sa", private_sa, "-f", "csv", "-q")
    from_trace = cli("analyze", trace, "-f", "csv", "-q")
    assert direct.exit_code == from_trace.exit_code == 0, direct.stderr + from_trace.stderr
    header, *rows = direct.stdout.splitlines()
    at = header.split(",").index("esp_protected")
    assert rows and all(r.split(",")[at] == "HoTI;HoT;BU;BA" for r in rows)
    assert [r.split(",")[at] for r in from_trace.stdout.splitlines()[1:]] == [
        r.split(",")[at] for r in rows
    ]


def test_trace_keeps_spi_sequence_and_algorithm(tmp_path, cli):
    """The SPIs and sequence numbers scapy put on the wire come back from the trace."""
    from tests.esp.test_scapy_peer import ebutool_sa

    _, esp, sas, _ = protected_sample(tmp_path, "ctr-sha1")
    ours = [ebutool_sa(sa) for sa in sas.values()]
    direct = list(read_records(esp, Diagnostics(), StreamStats(), esp_sas=ours))
    trace = tmp_path / "t.jsonl"
    from ebutool.trace.jsonl import write_trace

    with open(trace, "w") as fh:
        write_trace(direct, fh, "esp.pcap")
    back = list(read_records(trace, Diagnostics(), StreamStats()))
    got = [(r.esp_spi, r.esp_seq, r.esp_algorithm) for r in back]
    assert got == [(r.esp_spi, r.esp_seq, r.esp_algorithm) for r in direct]
    spis = {spi for spi, _, _ in got if spi is not None}
    assert spis == {0x1001, 0x2001, 0x1002, 0x2002}  # the peer's SPIs (protected_sample)
    assert {alg for _, _, alg in got if alg} == {"aes-ctr/hmac-sha1-96"}


def test_line_without_esp_reads_as_clear():
    (rec,), diag, _ = _read([LINE])
    assert (rec.esp_spi, rec.esp_seq, rec.esp_algorithm) == (None, None, None)
    assert diag.total == 0


@pytest.mark.parametrize(
    "esp",
    [
        {"spi": 1 << 32, "seq": 1, "algorithm": "aes-gcm-16"},
        {"spi": 1, "seq": -1, "algorithm": "aes-gcm-16"},
        {"spi": 1, "seq": 1 << 64, "algorithm": "aes-gcm-16"},
        {"spi": 1, "seq": 1},
        {"spi": 1, "seq": 1, "algorithm": ""},
        {"spi": 1, "seq": 1, "algorithm": "aes-gcm-16", "key": "00"},
        "0x1001",
    ],
)
def test_bad_esp_object_is_a_counted_line(esp):
    line = {**LINE, "esp": esp}
    recs, diag, stats = _read([LINE, line])
    assert len(recs) == 1 and diag.counts["bad_trace_record"] == 1
    assert stats.skipped["bad_trace_record"] == 1
    assert "esp" in diag.kept[0].message
    assert schema_errors(line) != []  # the schema says the same


@pytest.mark.parametrize(
    "time", [{"time_ns": -1}, {"time_ns": -(1 << 63)}, {"time": -0.5}, {"time": -9e9}]
)
def test_time_before_1970_is_a_counted_line(time):
    """A capture yields no time before 1970 (ebutool.records.from_packet); a trace line
    with one is refused and counted, the other lines are read."""
    line = {k: v for k, v in LINE.items() if k != "time_ns"} | time
    recs, diag, stats = _read([LINE, line, LINE])
    assert len(recs) == 2
    assert diag.counts["bad_trace_record"] == 1 and stats.skipped["bad_trace_record"] == 1
    assert "out of range 0.." in diag.kept[0].message
    assert schema_errors(line) != []


@pytest.mark.parametrize("time", [{"time_ns": 0}, {"time": 0}, {"time": 0.000000001}])
def test_time_zero_is_read(time):
    line = {k: v for k, v in LINE.items() if k != "time_ns"} | time
    (rec,), diag, _ = _read([line])
    assert rec.ts_ns == (1 if time.get("time") == 0.000000001 else 0) and diag.total == 0
    assert schema_errors(line) == []
