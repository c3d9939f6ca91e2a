"""What a tabular command writes (issue 15 item 4): every OutputFormat for every command
that takes --format, --columns on each, --paper, and the compact table on a terminal."""

from __future__ import annotations

import csv
import io
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from ebutool.report import OutputFormat
from tests.support.cli import ROOT, SAMPLES, run_cli

MIXED = SAMPLES / "mixed.pcap"
KEYS = SAMPLES / "mixed.keys.json"
# one invocation per command that takes --format (the test below checks this is all)
COMMANDS = {
    "decode": ["decode", MIXED],
    "analyze": ["analyze", MIXED],
    "verify": ["verify", MIXED, "--keys", KEYS],
    "replay": ["replay", MIXED],
    "compare": ["compare", MIXED, SAMPLES / "standard.pcap"],
    "model": ["model", "--rtt-ha", "40", "--rtt-bt", "120", "--rtt-ro", "20"],
    "timeline": ["timeline", MIXED],
}


def _format_commands() -> dict:
    from ebutool.cli.app import app

    group = typer.main.get_command(app)
    return {
        name: cmd
        for name, cmd in group.commands.items()  # type: ignore[attr-defined]
        if any("--format" in p.opts for p in cmd.params)
    }


def test_every_command_with_format_is_covered_here():
    commands = _format_commands()
    assert set(commands) == set(COMMANDS)
    for name, cmd in commands.items():
        help_text = run_cli(name, "--help").stdout
        choices = re.search(r"--format <([a-z|]+)>", help_text)
        assert choices and choices.group(1).split("|") == [f.value for f in OutputFormat], name
        assert any("--columns" in p.opts for p in cmd.params), f"{name} has no --columns"


@pytest.mark.parametrize("fmt", list(OutputFormat))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_format_of_every_command(tmp_path, command, fmt):
    out = tmp_path / f"out.{fmt.value}"
    res = run_cli(*COMMANDS[command], "-f", fmt.value, "-o", out, "-q")
    assert res.exit_code == 0, (res.exit_code, res.output)
    data = out.read_bytes()
    assert data, f"{command} -f {fmt} wrote nothing"
    if fmt is OutputFormat.parquet:
        assert data[:4] == b"PAR1"
    elif fmt is OutputFormat.zeek:
        assert data.startswith(b"#separator \\x09\n")
    elif fmt in (OutputFormat.json, OutputFormat.ndjson):
        import json

        text = data.decode()
        rows = (
            json.loads(text)
            if fmt is OutputFormat.json
            else [json.loads(x) for x in text.split("\n") if x]
        )
        assert rows and all(isinstance(r, dict) for r in rows)


def _header(args) -> list[str]:
    res = run_cli(*args, "-f", "csv", "-q")
    assert res.exit_code == 0, res.output
    return next(csv.reader(io.StringIO(res.stdout)))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_columns_choose_and_order(command):
    args = COMMANDS[command]
    header = _header(args)
    assert len(header) >= 2
    chosen = [header[-1], header[0]]
    assert _header([*args, "--columns", ",".join(chosen)]) == chosen
    assert _header([*args, "--columns", "all"]) == header


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_unknown_column_is_one_line_listing_the_valid_ones(command):
    args = COMMANDS[command]
    header = _header(args)
    res = run_cli(*args, "-f", "csv", "--columns", f"{header[0]},no_such_column")
    assert res.exit_code == 2, res.output
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    error = [line for line in lines if line.startswith("ebutool: error:")]
    assert len(error) == 1 and "'no_such_column'" in error[0], res.stderr
    listed = error[0].split("valid: ", 1)[1]
    assert all(name in listed for name in header)


def _design_columns() -> list[str]:
    """DESIGN.md section 5's contract, read from the document itself."""
    text = (ROOT / "docs" / "DESIGN.md").read_text()
    section = text.split("## 5.", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"`(mn, [^`]*)`", section).group(1)  # type: ignore[union-attr]
    return [c.strip() for c in block.replace("\n", " ").split(",")]


def test_paper_is_the_design_contract():
    contract = _design_columns()
    assert contract[0] == "mn" and contract[-1] == "auth" and len(contract) == 20
    assert _header(["analyze", MIXED, "--paper"]) == contract
    both = run_cli("analyze", MIXED, "--paper", "--columns", "mn")
    assert both.exit_code == 2 and "--paper" in both.stderr


def _on_a_terminal(args, columns: int) -> tuple[str, str]:
    """Run the CLI with its standard output on a pseudo-terminal ``columns`` wide."""
    master, slave = pty.openpty()
    env = dict(os.environ, COLUMNS=str(columns), LINES="50", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ebutool", *map(str, args)],
        stdout=slave,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait(60) == 0, err
    os.close(master)
    return b"".join(chunks).decode().replace("\r\n", "\n"), err


def test_table_on_a_terminal_fits_its_width():
    out, err = _on_a_terminal(["analyze", MIXED], 100)
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines and max(len(line) for line in lines) <= 100, out
    m = re.search(r"note: (\d+) of (\d+) columns shown to fit the terminal", err)
    assert m, err
    shown, total = int(m.group(1)), int(m.group(2))
    assert 1 < shown < total == len(_header(["analyze", MIXED]))
    assert "--columns all" in err
    assert lines[0].split()[:2] == ["mn", "ha"]  # the table's own order


def test_table_on_a_pipe_keeps_every_column():
    res = subprocess.run(
        [sys.executable, "-m", "ebutool", "analyze", str(MIXED)],
        capture_output=True,
        env=dict(os.environ, COLUMNS="100", PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        check=True,
    )
    header = res.stdout.decode().splitlines()[0].split()
    assert header == _header(["analyze", MIXED])
    assert b"columns shown" not in res.stderr


def test_columns_on_a_terminal_are_all_given(tmp_path: Path):
    out, err = _on_a_terminal(["analyze", MIXED, "--columns", "kind,mn,diagnosis"], 60)
    assert out.splitlines()[0].split() == ["kind", "mn", "diagnosis"]
    assert "columns shown" not in err


@pytest.mark.parametrize("spec", ["mn,kind,mn", ",", ""])
def test_columns_given_twice_or_none_is_a_usage_error(spec):
    res = run_cli("analyze", MIXED, "-f", "csv", "--columns", spec)
    assert res.exit_code == 2 and res.stdout == ""
    assert res.stderr.startswith("ebutool: error: --columns")
