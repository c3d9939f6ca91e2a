"""``ebutool --help`` and shell completion start fast (issue 15 item 7): they import none
of the heavy libraries, which the commands import when they run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.cli import ROOT

HEAVY = ("pandas", "numpy", "matplotlib", "jsonschema", "cryptography", "scipy", "pyarrow")

# Run the program as the console script does, then list the heavy modules it loaded.
PROBE = """
import json, sys
wanted = set(json.loads(sys.argv[2]))
sys.argv = ["ebutool", *json.loads(sys.argv[1])]
try:
    from ebutool.cli import main
    main()
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & wanted)
sys.stderr.write("HEAVY=" + json.dumps(heavy) + "\\n")
"""


def _heavy_loaded(args: list[str], env: dict[str, str] | None = None) -> tuple[list[str], str]:
    res = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=ROOT,
        timeout=120,
    )
    line = [x for x in res.stderr.splitlines() if x.startswith("HEAVY=")]
    assert line, res.stderr
    return json.loads(line[-1][len("HEAVY=") :]), res.stdout


@pytest.mark.parametrize(
    "args", [["--help"], ["analyze", "--help"], ["decode", "-h"], ["verify", "--help"]]
)
def test_help_imports_no_heavy_library(args):
    heavy, out = _heavy_loaded(args)
    assert "Usage:" in out
    assert heavy == [], f"ebutool {' '.join(args)} imported {heavy}"


def test_completion_is_on_and_imports_no_heavy_library():
    env = {"_EBUTOOL_COMPLETE": "complete_bash", "COMP_WORDS": "ebutool ana", "COMP_CWORD": "1"}
    heavy, out = _heavy_loaded([], env)
    assert out.split() == ["analyze"]
    assert heavy == []
    env = {
        "_EBUTOOL_COMPLETE": "complete_bash",
        "COMP_WORDS": "ebutool analyze --format ",
        "COMP_CWORD": "3",
    }
    heavy, out = _heavy_loaded([], env)
    assert "ndjson" in out.split() and "zeek" in out.split()
    assert heavy == []


def test_the_probe_sees_heavy_imports():
    # the test above can fail: a command that runs imports pandas
    heavy, _ = _heavy_loaded(["model", "--rtt-ha", "1", "--rtt-bt", "2", "--rtt-ro", "3"])
    assert "pandas" in heavy
