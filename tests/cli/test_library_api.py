"""`import ebutool` works without the CLI, and its functions stay functions (no
submodule of the same name may shadow them once the CLI or a caller imports it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "early-conservative.pcap"


def test_api_functions_survive_repeated_calls_and_cli_import():
    code = f"""
import ebutool
first = ebutool.decode({str(SAMPLE)!r})
import ebutool.cli  # registers every command module
second = ebutool.decode({str(SAMPLE)!r})
assert len(first) == len(second) > 0, (len(first), len(second))
for name in ("decode", "analyze", "verify", "replay", "read_records"):
    assert callable(getattr(ebutool, name)), name
eps = ebutool.analyze({str(SAMPLE)!r})
assert callable(ebutool.analyze) and len(eps) > 0
res = ebutool.replay({str(SAMPLE)!r})
assert callable(ebutool.replay) and len(res.exposure) > 0
ver = ebutool.verify({str(SAMPLE)!r})
assert callable(ebutool.verify) and len(ver) > 0
print("ok")
"""
    proc = subprocess.run(
        [sys.executable, "-c", "import sys\n" + code], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_import_without_cli_dependencies_loaded():
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ebutool; print('typer' in sys.modules, 'matplotlib' in sys.modules)",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]
