"""An output that is one of the inputs, or two outputs that are one file: a usage error
(exit 2, one line) before anything is written; the input stays as it was."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.cli import SAMPLES, run_cli


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "a.pcap"
    shutil.copyfile(SAMPLES / "standard.pcap", path)
    return path


def _refused(result) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "same file" in lines[0], result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "{a}", "-o", "{a}"],
        ["analyze", "{a}", "-o", "{dot}"],
        ["analyze", "{a}", "-o", "{link}"],
        ["analyze", "{dir}", "-o", "{a}"],
        ["analyze", "--follow", "{a}", "-f", "csv", "-o", "{a}"],
        ["analyze", "{a}", "-o", "/dev/null", "--weird-log", "{a}"],
        ["convert", "{a}", "-o", "{link}"],
        ["timeline", "{a}", "-f", "csv", "-o", "{a}"],
        ["annotate", "{a}", "-o", "{a}"],
        ["replay", "{a}", "-o", "{a}"],
        ["report", "{a}", "-o", "{a}"],
        ["verify", "{a}", "-o", "{a}"],
        ["decode", "{a}", "-o", "{a}"],
        ["compare", "{a}", "-o", "{a}"],
    ],
)
def test_an_output_that_is_an_input_is_refused_and_the_input_kept(
    capture: Path, args: list[str]
) -> None:
    link = capture.parent / "link.pcap"
    link.symlink_to(capture.name)
    before = capture.read_bytes()
    names = {"a": capture, "dot": f"{capture.parent}/./a.pcap", "link": link, "dir": capture.parent}
    result = run_cli(*[a.format(**names) for a in args])
    _refused(result)
    assert capture.read_bytes() == before
    assert sorted(os.listdir(capture.parent)) == ["a.pcap", "link.pcap"]  # no temporary left


def test_synth_scenario_is_an_input(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    shutil.copyfile(SAMPLES / "standard.toml", scenario)
    result = run_cli("synth", scenario, "-o", scenario)
    _refused(result)
    assert scenario.read_bytes() == (SAMPLES / "standard.toml").read_bytes()


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "{a}", "-f", "csv", "-o", "{x}", "--provenance", "{x}"],
        ["analyze", "{a}", "-f", "csv", "-o", "{x}", "--weird-log", "{x}"],
        ["replay", "{a}", "-o", "{x}", "--divergences", "{x}"],
        ["replay", "{a}", "-o", "{x}", "--decisions", "{x}"],
        ["synth", "{toml}", "-o", "{x}", "--json", "{x}"],
        ["synth", "{toml}", "-o", "{x}", "--view", "cn={x}"],
    ],
)
def test_two_outputs_that_are_one_file_are_refused(
    capture: Path, tmp_path: Path, args: list[str]
) -> None:
    x = tmp_path / "x.csv"
    result = run_cli(*[a.format(a=capture, x=x, toml=SAMPLES / "standard.toml") for a in args])
    _refused(result)
    assert result.stdout == ""
    assert not x.exists()


@pytest.mark.parametrize("plot", ["{x}", "{dot}", "{link}"])
@pytest.mark.parametrize(
    "args",
    [
        ["model", "--rtt-ha", "40", "--rtt-bt", "120", "--sweep", "rtt_ro=10:50:10"],
        ["model", "--rtt-ha", "40", "--rtt-bt", "120", "--sweep", "rtt_ro=10:50:10", "-f", "csv"],
        ["compare", "{a}"],
    ],
)
def test_the_table_and_its_plot_in_one_file_are_refused(
    capture: Path, tmp_path: Path, args: list[str], plot: str
) -> None:
    """``-o X --plot X``: the figure and the table would be one file (one of them lost)."""
    x = tmp_path / "x.png"
    link = tmp_path / "link.png"
    link.symlink_to(x.name)  # (dangling: followed to the name x.png)
    names = {"a": capture, "x": x, "dot": f"{tmp_path}/./x.png", "link": link}
    result = run_cli(*[a.format(**names) for a in [*args, "-o", "{x}", "--plot", plot]])
    _refused(result)
    assert result.stdout == ""
    assert f"--plot {plot.format(**names)} is the same file as -o {x}" in result.stderr
    assert sorted(os.listdir(tmp_path)) == ["a.pcap", "link.png"]


def test_the_same_input_twice_and_devices_are_not_refused(capture: Path) -> None:
    result = run_cli("analyze", capture, capture, "-o", "/dev/null", "--weird-log", "/dev/null")
    assert result.exit_code == 0, result.output


def _readme_exit_rows(status: str) -> str:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = text.split("## Exit status", 1)[1].split("\n## ", 1)[0]
    return " ".join(line for line in table.splitlines() if line.startswith(f"| {status} |"))


def test_readme_exit_status_2_names_an_output_that_is_an_input(capture: Path) -> None:
    """The refusal above is exit 2; README's rows for status 2 did not say so (only
    unwritable outputs: a missing directory, a directory)."""
    result = run_cli("analyze", capture, "-o", capture)
    _refused(result)
    rows = _readme_exit_rows("2")
    assert "an output that is one of the command's inputs" in rows, rows
    assert "two outputs that are one file" in rows, rows
    assert "`extract` input that is its store" in rows, rows


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "st"
    result = run_cli("extract", SAMPLES / "standard.pcap", SAMPLES / "mixed.pcap", "-o", path)
    assert result.exit_code == 0, result.output
    return path


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("analyze", ("-f", "parquet", "-o", "PART")),  # replaced a part: exit 0, store damaged
        ("analyze", ("-f", "csv", "-o", "parts/new.parquet")),  # read as a damaged part next
        ("decode", ("-f", "csv", "-o", "x.csv")),
        ("analyze", ("-f", "csv", "--weird-log", "w.log")),
        ("timeline", ("-o", "parts/x.txt")),
    ],
)
def test_an_output_inside_an_input_store_is_refused(store: Path, command: str, args) -> None:
    """`analyze STORE -f parquet -o STORE/parts/P.parquet` replaced the 18944-octet part by
    the episode table (exit 0); the next `analyze STORE`: 'a damaged part (no ebutool
    metadata): extract it again', exit 3.  A store is a directory, so the same-file check
    did not see it: now any output inside a store read by the command is refused."""
    before = _tree(store)
    part = next((store / "parts").iterdir())
    given = [str(part) if a == "PART" else str(store / a) if "." in a else a for a in args]
    result = run_cli(command, store, *given)
    assert result.exit_code == 2, result.output
    (line,) = result.stderr.strip().splitlines()
    assert f"is inside the record store {store} (an input)" in line, line
    assert _tree(store) == before


def test_an_output_beside_an_input_store_is_written(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "episodes.csv"
    result = run_cli("analyze", store, "-f", "csv", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    assert out.read_text().count("\n") > 10
