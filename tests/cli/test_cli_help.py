"""Every command answers --help/-h with an example; --version works; bad usage exits 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ebutool.cli.app import app
from ebutool.core.version import __version__
from tests.support.cli import run_cli


def _commands() -> list[str]:
    import typer.main

    group = typer.main.get_command(app)
    return sorted(group.commands)


# Every command, by name: a command that stops loading (or a new one) changes this list.
COMMANDS = [
    "analyze",
    "annotate",
    "compare",
    "convert",
    "decode",
    "extract",
    "model",
    "replay",
    "report",
    "synth",
    "timeline",
    "verify",
]


def test_every_command_is_registered():
    from ebutool.cli.commands import COMMAND_MODULES

    assert _commands() == COMMANDS == sorted(COMMAND_MODULES)


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_has_help_with_example(name, flag):
    result = run_cli(name, flag)
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output, f"{name} --help lacks an Example line"
    assert "ebutool " + name in result.output


def test_top_level_help_and_version():
    result = run_cli("--help")
    assert result.exit_code == 0 and "Example:" in result.output
    result = run_cli("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "ebutool", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout.strip() == f"ebutool {__version__}"


def test_unknown_option_is_usage_error():
    proc = subprocess.run(
        [sys.executable, "-m", "ebutool", "decode", "--no-such-option", "x"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
