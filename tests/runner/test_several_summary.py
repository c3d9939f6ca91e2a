"""analyze --summary of several inputs read in pieces, without the whole episode table
(issue 12): the octets of the summary of the library's whole table (ebutool.analyze,
summarised and rendered apart), ``-j 2`` == ``-j 1``, an unreadable input among good
ones (exit 3), and a spy showing the whole table is not built."""

from __future__ import annotations

import pytest

import ebutool
from ebutool.analysis import summarize
from ebutool.core.constants import BOOTSTRAP_SEED, MIN_CLAIM_SAMPLES, RTT_TOLERANCE
from ebutool.report import OutputFormat, render_bytes
from tests.support.cli import SAMPLES, run_cli

PATHS = [SAMPLES / "mixed.pcap", SAMPLES / "standard.pcap", SAMPLES / "early-optimistic.pcap"]


def _expected(paths, fmt: OutputFormat, **options) -> bytes:
    """The summary of the whole table the library builds, rendered as analyze writes it."""
    from ebutool.analysis.claim_stats import ClaimSettings

    settings = ClaimSettings(
        min_samples=MIN_CLAIM_SAMPLES, tolerance=RTT_TOLERANCE, seed=BOOTSTRAP_SEED
    )
    whole = ebutool.analyze(*paths, **options)
    return render_bytes(summarize(whole, settings=settings), fmt, name="ebutool_summary")


@pytest.mark.parametrize("fmt", [OutputFormat.csv, OutputFormat.json, OutputFormat.table])
def test_summary_of_several_inputs_is_that_of_the_whole_table(fmt):
    res = run_cli("analyze", *PATHS[:2], "--summary", "-f", fmt.value, "-q")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.encode() == _expected(PATHS[:2], fmt)


def test_summary_of_three_inputs_in_two_processes_is_the_same():
    one = run_cli("analyze", *PATHS, "--summary", "-f", "csv")
    two = run_cli("analyze", "-j", "2", *PATHS, "--summary", "-f", "csv")
    assert one.exit_code == two.exit_code == 0, one.stderr + two.stderr
    assert one.stdout == two.stdout
    assert one.stderr == two.stderr
    assert one.stdout.encode() == _expected(PATHS, OutputFormat.csv)


def test_summary_with_an_unreadable_input_among_good_ones(tmp_path):
    missing = tmp_path / "missing.pcap"
    res = run_cli("analyze", PATHS[0], missing, PATHS[1], "--summary", "-f", "csv")
    assert res.exit_code == 3
    assert "unreadable_input" in res.stderr
    assert res.stdout.encode() == _expected(PATHS[:2], OutputFormat.csv)


def test_summary_of_several_inputs_never_builds_the_whole_table(monkeypatch):
    import ebutool.runner.analyze_inputs as tasks

    want = _expected(PATHS[:2], OutputFormat.csv)  # (before the spy: it builds the table)

    def whole(*args, **kwargs):
        raise AssertionError("the whole episode table was built")

    monkeypatch.setattr(tasks, "analyze_files", whole)
    res = run_cli("analyze", *PATHS[:2], "--summary", "-f", "csv", "-q")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.encode() == want
