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
    import ebutool.runner.tasks as tasks

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
