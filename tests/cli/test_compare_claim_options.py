"""compare takes the claim's settings as analyze --summary and report do: with the same
settings, compare --by kind gives analyze --summary's table (it gave the defaults'
whatever analyze was told; a review of stop 32)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.support.cli import SAMPLES, run_cli

SAMPLE = str(SAMPLES / "mixed.pcap")
SETTINGS = [
    [],
    ["--min-claim-samples", "1"],
    ["--min-claim-samples", "1000"],
    ["--bootstrap-seed", "7", "--claim-tolerance", "0.5"],
]


def _csv(*args: str) -> pd.DataFrame:
    res = run_cli(*args, "-f", "csv", "-q")
    assert res.exit_code == 0, res.stderr
    return pd.read_csv(io.StringIO(res.stdout))


@pytest.mark.parametrize(
    "settings", SETTINGS, ids=["defaults", "one-sample", "min-samples", "seed"]
)
def test_compare_by_kind_is_the_summary_with_the_same_settings(settings):
    summary = _csv("analyze", SAMPLE, "--summary", *settings)
    compared = _csv("compare", SAMPLE, "--by", "kind", *settings)
    pd.testing.assert_frame_equal(compared, summary)


def test_the_settings_change_compares_table():
    assert not _csv("compare", SAMPLE, "--by", "kind").equals(
        _csv("compare", SAMPLE, "--by", "kind", "--min-claim-samples", "1")
    )
