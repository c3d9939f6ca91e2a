"""Running the ``ebutool`` command line inside the test process (typer's CliRunner).

    run_cli("analyze", SAMPLES / "standard.pcap", "-f", "csv")   -> click Result
    result.exit_code, result.stdout, result.stderr

Arguments may be paths (made strings); ``input`` is stdin (bytes or text); ``env``
sets environment variables for the run.  The ``cli`` fixture of tests/conftest.py
is this function.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def run_cli(
    *args: Any, input: bytes | str | None = None, env: Mapping[str, str | None] | None = None
) -> Result:
    from ebutool.cli.app import app

    return CliRunner().invoke(app, [str(a) for a in args], input=input, env=env)
