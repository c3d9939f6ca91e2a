"""--max-state-entries is a count: a fraction was taken and cut by int() (1.5 entries
ran as 1, exit 0), and 2^63 passed the bound 2^63-1 (compared as the float 2^63)."""

from __future__ import annotations

import pytest

from tests.support.cli import SAMPLES, run_cli

PCAP = SAMPLES / "early-conservative.pcap"


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("1.5", "--max-state-entries 1.5: must be a whole number (MAX_STATE_ENTRIES, entries)"),
        (str(2**63), "--max-state-entries 9.22337e+18: must be at most 9223372036854775807"),
    ],
)
def test_a_count_must_be_whole_and_fit_int64(value, line):
    res = run_cli("analyze", PCAP, "--max-state-entries", value, "-q", "-f", "csv")
    assert res.exit_code == 2, res.output
    (only,) = res.stderr.splitlines()
    assert only.startswith(f"ebutool: error: {line}"), only


def test_whole_counts_are_taken():
    for value in ("1", "20000", "1e6"):
        res = run_cli("analyze", PCAP, "--max-state-entries", value, "-q", "-f", "csv")
        assert res.exit_code == 0, (value, res.output)
