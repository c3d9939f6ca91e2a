"""analyze's own numeric options: NaN, infinite or overflowing values are usage errors
(exit 2, one line), never a run with a meaningless threshold or time shift."""

from __future__ import annotations

import pytest

from tests.support.cli import SAMPLES, run_cli

PCAP = SAMPLES / "standard.pcap"


def _one_usage_line(res) -> str:
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "Traceback" not in res.stderr
    (line,) = res.stderr.splitlines()
    return line


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "-inf"])
def test_claim_tolerance_out_of_range_or_nan_is_refused(value):
    # before: nan gave exit 0 (click's range check is false for NaN)
    line = _one_usage_line(run_cli("analyze", PCAP, "--summary", "--claim-tolerance", value))
    assert "--claim-tolerance" in line and "0.0<=x<=1.0" in line


@pytest.mark.parametrize(
    "spec,what",
    [
        ("inf", "offset"),
        ("nan", "offset"),
        ("1e300", "offset"),
        ("-1e12", "offset"),
        ("1,nan", "drift"),
        ("1,inf", "drift"),
        ("1,2e6", "drift"),
    ],
)
def test_clock_offset_not_finite_or_beyond_int64_ns_is_refused(spec, what):
    # before: inf and 1e300 gave exit 0
    line = _one_usage_line(run_cli("analyze", PCAP, "--clock-offset", f"{PCAP}={spec}"))
    assert line.startswith(f"ebutool: error: --clock-offset '{PCAP}={spec}': the {what} must be")


def test_a_finite_clock_offset_is_taken():
    res = run_cli("analyze", PCAP, "--clock-offset", f"{PCAP}=0.5,20", "-o", "/dev/null")
    assert res.exit_code == 0, res.output
