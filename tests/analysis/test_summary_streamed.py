"""analyze --summary of one input keeps only the columns the statistics read as the
pieces pass (ebutool.runner.lean; issue 12): no whole episode table is built, and the
summary is the one of the whole table."""

from __future__ import annotations

import pytest

from ebutool.analysis import summarize
from ebutool.report import OutputFormat, render_table
from tests.support.cli import SAMPLES, run_cli


@pytest.mark.parametrize("sample", ["mixed", "early-conservative", "standard"])
@pytest.mark.parametrize("keys", [False, True])
def test_summary_without_the_whole_table(sample, keys, monkeypatch):
    import ebutool.runner.analyze_inputs as tasks

    path = SAMPLES / f"{sample}.pcap"
    extra = ["--keys", str(SAMPLES / f"{sample}.keys.json")] if keys else []
    whole = tasks.analyze_files([str(path)], 1, keys=_keys(extra))
    want = render_table(summarize(whole), OutputFormat.csv)

    def refused(*a, **k):
        raise AssertionError("the whole table was built")

    monkeypatch.setattr(tasks, "analyze_files", refused)
    res = run_cli("analyze", path, "--summary", "-f", "csv", "-q", *extra)
    assert res.exit_code == 0, res.output
    assert res.stdout == want


def _keys(extra: list[str]):
    if not extra:
        return None
    from ebutool.oracle.keys import load_keys_file

    return load_keys_file(extra[1])


@pytest.mark.parametrize("sample", ["mixed", "early-optimistic"])
def test_provenance_of_a_streamed_table(sample, monkeypatch, tmp_path):
    """analyze -f csv --provenance writes the rows in pieces (no whole table) and the
    record counts them as the whole table's would (build_provenance of analyze_files)."""
    import json

    import ebutool.runner.analyze_inputs as tasks
    from ebutool.analysis.claim_stats import ClaimSettings
    from ebutool.report.provenance import build_provenance

    path = str(SAMPLES / f"{sample}.pcap")
    whole = tasks.analyze_files([path], 1)

    def refused(*a, **k):
        raise AssertionError("the whole table was built")

    monkeypatch.setattr(tasks, "analyze_files", refused)
    side, out = tmp_path / "p.json", tmp_path / "e.csv"
    res = run_cli("analyze", path, "-f", "csv", "-o", out, "--provenance", side, "-q")
    assert res.exit_code == 0, res.output
    got = json.loads(side.read_text())
    want = build_provenance(
        [path],
        episodes=whole,
        command="analyze",
        command_line=got["command_line"],
        settings=ClaimSettings(),
    )
    assert got == want
    assert out.read_text() == render_table(whole, OutputFormat.csv)
