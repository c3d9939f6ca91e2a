"""``--weird-log PATH`` naming one of the inputs (or another output) is refused like
``-o``: exit 2, one line, before any input is read.  Before, it was claimed only when the
log was written, after the whole run: the table was already on standard output (or the
other output written) and replay's summary on stderr when the refusal came."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.cli import SAMPLES, run_cli

COMMANDS = [
    ["analyze", "-f", "csv"],
    ["analyze", "-f", "csv", "--summary"],
    ["analyze", "-f", "csv", "--follow"],
    ["decode", "-f", "csv"],
    ["verify", "-f", "csv"],
    ["replay", "-f", "csv"],
]


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "a.pcap"
    shutil.copyfile(SAMPLES / "standard.pcap", path)
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("how", ["same", "link"])
def test_weird_log_naming_an_input_is_refused_before_the_work(
    capture: Path, command: list[str], how: str
) -> None:
    target = capture
    if how == "link":
        target = capture.parent / "w.log"
        target.symlink_to(capture.name)
    before = capture.read_bytes()
    result = run_cli(*command, capture, "--weird-log", target)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""  # nothing of the run: it did not start
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"ebutool: error: --weird-log {target} is the same file as input {capture}: "
        "it would overwrite it"
    ]
    assert capture.read_bytes() == before
    assert sorted(os.listdir(capture.parent)) == sorted(["a.pcap", *(["w.log"] * (how == "link"))])


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_weird_log_naming_the_output_is_refused_before_the_work(
    capture: Path, tmp_path: Path, command: list[str]
) -> None:
    x = tmp_path / "x.csv"
    result = run_cli(*command, capture, "-o", x, "--weird-log", x)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is the same file as" in lines[0], result.stderr
    assert "--weird-log" in lines[0] and "-o" in lines[0]
    assert not x.exists()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_weird_log_is_still_written(capture: Path, tmp_path: Path, command: list[str]) -> None:
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(capture.read_bytes()[:-7])  # the last packet cut: one warning at least
    log = tmp_path / "w.log"
    result = run_cli(*command, cut, "-o", tmp_path / "t.csv", "--weird-log", log)
    assert result.exit_code in (0, 1), result.output
    text = log.read_text()
    assert text.startswith("#separator") and "#path\tweird" in text
    assert "\ttruncated_record\tframe 504: record cut off" in text, text
    assert not list(tmp_path.glob(".*.part"))
