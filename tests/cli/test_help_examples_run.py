"""Every `Example: ebutool ...` line of every command's help is run, so the examples
cannot rot: on the bundled samples (a `samples` link in a fresh folder), outputs in that
folder; inputs an example names that are not bundled (cn-side.pcap, mn.pcap, run1.pcap,
captures/...) are made first from the samples (synth's views, copies)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys

import typer.main

from ebutool.cli.app import app
from tests.support.cli import SAMPLES
from tests.support.proc import env

EXAMPLE = re.compile(r"^\s*Example: (ebutool .+?)\s*$", re.M)


def _examples() -> list[str]:
    group = typer.main.get_command(app)
    texts = [group.help or ""] + [c.help or "" for c in group.commands.values()]  # type: ignore[attr-defined]
    return [line for text in texts for line in EXAMPLE.findall(text)]


def _ebutool(cwd, line: str) -> subprocess.CompletedProcess:
    words = shlex.split(line)
    assert words[0] == "ebutool", line
    return subprocess.run(
        [sys.executable, "-m", "ebutool", *words[1:]],
        cwd=cwd,
        env=env(),
        capture_output=True,
        timeout=300,
    )


def test_every_help_example_runs(tmp_path):
    (tmp_path / "samples").symlink_to(SAMPLES)
    # the inputs the examples name that are not bundled
    made = _ebutool(
        tmp_path,
        "ebutool synth samples/standard.toml -o mn.pcap --view cn=cn.pcap --view ha=ha.pcap "
        "--clock cn=700",
    )
    assert made.returncode == 0, made.stderr
    shutil.copy(tmp_path / "cn.pcap", tmp_path / "cn-side.pcap")
    (tmp_path / "captures").mkdir()
    for i, name in enumerate(("standard.pcap", "mixed.pcap"), 1):
        shutil.copy(SAMPLES / name, tmp_path / "captures" / name)
        shutil.copy(SAMPLES / name, tmp_path / f"run{i}.pcap")
    examples = _examples()
    assert len(examples) >= 15, examples
    for line in examples:
        for part in line.split(" && "):
            p = _ebutool(tmp_path, part)
            assert p.returncode == 0, (part, p.stderr.decode()[-2000:])
