"""A synthesized capture whose stamps its file format cannot hold: pcap keeps 32-bit
unsigned seconds (the last is 2106-02-07T06:28:15Z), pcapng 64-bit microseconds, neither
a time before 1970.  A scenario starting in 2200, or a --clock before 1970, ended in
'internal error: error: 'I' format requires 0 <= number <= 4294967295' (exit 4) from the
pcap writer; now one line naming the scenario's start (exit 3) or the --clock (exit 2),
and nothing written."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.support.cli import SAMPLES, run_cli

TOML = SAMPLES / "standard.toml"  # duration 5000 ms
PCAP_LAST = "2106-02-07T06:28:15Z"


def _starting(tmp_path: Path, start: str) -> Path:
    text = TOML.read_text()
    head, sep, rest = text.partition("\nstart = ")
    assert sep, "the sample sets its start"
    path = tmp_path / "s.toml"
    path.write_text(head + sep + start + "\n" + rest.split("\n", 1)[1])
    return path


@pytest.mark.parametrize(
    ("start", "out", "says"),
    [
        ("2200-01-01T00:00:00Z", "x.pcap", f"2200-01-01T00:00:04Z, after {PCAP_LAST}"),
        ("4294967294", "x.pcap", f"2106-02-07T06:28:18Z, after {PCAP_LAST}"),  # 2^32 - 2 s
    ],
)
def test_a_start_the_format_cannot_hold_names_the_start(tmp_path, start, out, says):
    scenario = _starting(tmp_path, start)
    result = run_cli("synth", scenario, "-o", tmp_path / out)
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"ebutool: error: {scenario}: [scenario]: 'start': the mn capture"), line
    assert says in line, line
    assert not (tmp_path / out).exists()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("start = 2024-01-01T12:00:00Z", "start = 1e13"),  # year 318857: read by nothing
        ("duration_ms = 5000", "duration_ms = 1e300"),  # ran until killed
    ],
)
def test_a_run_ending_after_2262_is_refused_before_it_runs(tmp_path, old, new):
    """ebutool reads times as int64 nanoseconds (1970 to 2262-04-11T23:47:16Z): synth
    wrote start = 1e13 as a pcapng whose every frame analyze skipped
    (timestamp_out_of_range 504, exit 0, no episode), and ran duration_ms = 1e300 until
    it was killed.  Now refused with the scenario (exit 3) before the run."""
    text = TOML.read_text()
    assert text.count(old) == 1
    scenario = tmp_path / "s.toml"
    scenario.write_text(text.replace(old, new))
    out = tmp_path / "x.pcapng"
    result = run_cli("synth", scenario, "-o", out)
    assert result.exit_code == 3, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"ebutool: error: {scenario}: [scenario]: 'start' and 'duration_ms'")
    assert "end after 2262-04-11T23:47:16Z" in line, line
    assert not out.exists()


def test_a_clock_past_2262_names_the_clock(tmp_path):
    out = tmp_path / "x.pcapng"
    result = run_cli("synth", TOML, "-o", out, "--clock", "mn=1e13")  # 317 years on
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("ebutool: error: --clock mn=1e+13,0: the mn capture"), line
    assert "after 2262-04-11T23:47:16Z, the last time ebutool reads" in line, line
    assert not out.exists()


def test_the_same_start_in_pcapng_is_written(tmp_path):
    """2200 fits pcapng's 64-bit microseconds: the stamps are as the scenario says."""
    scenario = _starting(tmp_path, "2200-01-01T00:00:00Z")
    out = tmp_path / "x.pcapng"
    result = run_cli("synth", scenario, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    # the first block after the section header and interface description: an enhanced
    # packet block (type 6) whose timestamp (microseconds, high then low 32 bits) is
    # in 2200 (7258118400 s since 1970)
    offset = 0
    while struct.unpack_from("<I", data, offset)[0] != 6:
        offset += struct.unpack_from("<I", data, offset + 4)[0]
    high, low = struct.unpack_from("<II", data, offset + 12)
    assert 7258118400 <= ((high << 32) | low) // 10**6 < 7258118400 + 5


def test_a_clock_before_1970_names_the_clock(tmp_path):
    scenario = _starting(tmp_path, "0")
    out, view = tmp_path / "x.pcap", tmp_path / "cn.pcap"
    result = run_cli("synth", scenario, "-o", out, "--view", f"cn={view}", "--clock", "cn=-70000")
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("ebutool: error: --clock cn=-70000,0: the cn capture: its first"), line
    assert "before 1970: no pcap file holds it" in line, line
    assert not out.exists() and not view.exists()
