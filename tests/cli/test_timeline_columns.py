"""timeline --columns with a diagram (text or figure), which has no columns: a usage
error (exit 2, one line), not silently ignored; with --format, or on the list of
episodes, it chooses the table's columns."""

from __future__ import annotations

import pytest

from tests.support.cli import SAMPLES, run_cli

PCAP = SAMPLES / "standard.pcap"


@pytest.mark.parametrize("target", ["-", "ladder.svg", "ladder.txt"])
def test_columns_with_a_diagram_is_refused(tmp_path, target):
    out = target if target == "-" else tmp_path / target
    res = run_cli("timeline", PCAP, "--episode", "1", "--columns", "t_ms", "-o", out)
    assert res.exit_code == 2, res.output  # before: exit 0, the diagram without a word
    (line,) = res.stderr.splitlines()
    assert line.startswith("ebutool: error: --columns chooses the columns of a table")
    assert res.stdout == ""
    assert not list(tmp_path.iterdir())


def test_columns_with_a_format_choose_the_table_columns():
    res = run_cli("timeline", PCAP, "--episode", "1", "--columns", "msg,t_ms", "-f", "csv")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0] == "msg,t_ms"


def test_columns_on_the_list_of_episodes_still_apply():
    res = run_cli("timeline", PCAP, "--columns", "episode", "-f", "csv")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[0] == "episode"
