"""Several inputs, one unreadable: named and counted (unreadable_input), the others'
rows still written, exit status 3 at the end (issue 12 item 8)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.cli import SAMPLES, run_cli


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("command", ["decode", "analyze", "verify", "replay"])
def test_one_unreadable_input_of_three(tmp_path, command, jobs):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"junk, not a capture")
    out = tmp_path / "out.csv"
    res = run_cli(
        command,
        SAMPLES / "mixed.pcap",
        bad,
        SAMPLES / "standard.pcap",
        "-f",
        "csv",
        "-o",
        out,
        "-j",
        jobs,
    )
    assert res.exit_code == 3, res.stderr
    assert "unreadable_input" in res.stderr and "bad.pcap" in res.stderr
    assert "Traceback" not in res.stderr
    sources = {row["source"] for row in csv.DictReader(io.StringIO(out.read_text()))}
    assert sources <= {"mixed.pcap", "standard.pcap"}
    if command != "replay":  # replay's exposure table may be empty for a file
        assert sources == {"mixed.pcap", "standard.pcap"}


def test_unreadable_input_named_with_quiet(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"junk")
    res = run_cli("decode", bad, SAMPLES / "standard.pcap", "-f", "csv", "-q")
    assert res.exit_code == 3
    assert res.stderr.strip().splitlines() == [
        "ebutool: unreadable_input: bad.pcap: not a pcap or pcapng capture (first bytes 0x6a756e6b)"
    ]
    assert "standard.pcap" in res.stdout


def test_every_input_unreadable_is_one_error(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"junk")
    res = run_cli("decode", bad, bad, "-q")
    assert res.exit_code == 3 and res.stderr.count("\n") == 1
