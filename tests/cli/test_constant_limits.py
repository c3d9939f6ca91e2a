"""Protocol constants whose nanoseconds would not fit 64 bits, and synth timers below its
microsecond clock: a one-line usage error (exit 2), never an OverflowError in the run or
a simulation that never ends."""

from __future__ import annotations

import pytest

from ebutool.core.constants import MAX_DURATION_S, PROTOCOL_CONSTANTS, SYNTH_TIMERS
from tests.cli.test_protocol_options import PCAP, RUNS, TOML
from tests.support.cli import run_cli

SECONDS = [s for s in PROTOCOL_CONSTANTS if s.unit == "s"]


def _run(name, tmp_path, *args):
    first = TOML if name == "synth" else PCAP
    extra = ["-o", tmp_path / "x.pcap"] if name == "synth" else []
    return run_cli(name, first, *extra, *args)


def _one_usage_line(res) -> str:
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "Traceback" not in res.stderr and "OverflowError" not in res.stderr
    (line,) = res.stderr.splitlines()
    return line


@pytest.mark.parametrize("spec", SECONDS, ids=lambda s: s.name)
def test_a_duration_beyond_int64_nanoseconds_is_refused(tmp_path, spec):
    name = next(n for n in ("analyze", "replay", "synth") if spec.used_by & set(RUNS[n]))
    line = _one_usage_line(_run(name, tmp_path, spec.option, "1e300"))
    assert line == (
        f"ebutool: error: {spec.option} 1e+300: must be at most {MAX_DURATION_S} "
        f"({spec.constant}, s: its nanoseconds must fit 64 bits)"
    )
    # the largest accepted value is a whole number of seconds whose ns fit an int64
    assert MAX_DURATION_S * 10**9 <= 2**63 - 1 < (MAX_DURATION_S + 1) * 10**9
    assert spec.problem(float(MAX_DURATION_S)) is None


def test_the_oracle_no_longer_overflows_on_a_huge_nonce_lifetime(tmp_path):
    # before: exit 0 with "oracle_error: ... OverflowError: cannot convert float infinity"
    line = _one_usage_line(_run("analyze", tmp_path, "--max-nonce-lifetime", "1e300"))
    assert "--max-nonce-lifetime 1e+300: must be at most" in line


def test_a_rate_whose_interval_overflows_and_a_huge_count_are_refused(tmp_path):
    line = _one_usage_line(_run("analyze", tmp_path, "--max-update-rate", "1e-300"))
    assert line.startswith("ebutool: error: --max-update-rate 1e-300: must be at least 1.08")
    line = _one_usage_line(_run("analyze", tmp_path, "--max-state-entries", "1e300"))
    assert "--max-state-entries 1e+300: must be at most" in line


@pytest.mark.parametrize("option", ["--" + n.replace("_", "-") for n in SYNTH_TIMERS])
def test_synth_timers_below_its_microsecond_are_refused(tmp_path, option):
    # before: --initial-bindack-timeout 1e-9 rounded to 0 and the run never ended
    line = _one_usage_line(_run("synth", tmp_path, option, "1e-9"))
    assert line.startswith(f"ebutool: error: {option} 1e-09: synth's clock counts whole micro")
    assert not (tmp_path / "x.pcap").exists()


def test_synth_timer_of_one_microsecond_is_taken(tmp_path):
    res = _run("synth", tmp_path, "--initial-bindack-timeout", "1e-6")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "x.pcap").stat().st_size > 0
