"""Nothing is left in $TMPDIR after a run: a normal end, an error exit, or a SIGTERM
while a spilled table is being made (the signal's os._exit skipped the temporary
directories' finalizers: `decode DIR` killed left an ebutool-table-* folder)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from tests.support.cli import SAMPLES
from tests.support.proc import env

SAMPLE = SAMPLES / "mixed.pcap"


def _tmpdir_env(tmp: os.PathLike) -> dict[str, str]:
    return {**env(), "TMPDIR": os.fspath(tmp)}


def test_normal_and_error_runs_leave_tmpdir_empty(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    runs = [
        (0, ["analyze", SAMPLE, SAMPLES / "standard.pcap", "-f", "table"]),
        (0, ["analyze", SAMPLE, "-j", "2", "-f", "csv"]),
        (0, ["annotate", "-", "-o", out / "a.pcapng"]),
        (0, ["report", SAMPLE, "-o", out / "r.html"]),
        (3, ["analyze", tmp_path / "missing.pcap", SAMPLE, "-f", "table"]),
        (3, ["annotate", "-", "-o", out / "b.pcapng"]),
    ]
    for status, args in runs:
        data = SAMPLE.read_bytes() if status == 0 else b"not a capture"
        p = subprocess.run(
            [sys.executable, "-m", "ebutool", *map(str, args), "-q"],
            env=_tmpdir_env(tmp),
            input=data,
            capture_output=True,
            timeout=120,
        )
        assert p.returncode == status, (args, p.stderr)
        assert os.listdir(tmp) == [], args


def test_sigterm_while_a_table_is_spilled_leaves_tmpdir_empty(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    many = tmp_path / "many"
    many.mkdir()
    for i in range(150):
        shutil.copy(SAMPLE, many / f"m{i:03d}.pcap")
    # several moments: while files are read and pieces spilled, and while they are
    # read back and rendered (the ebutool-table-* folder was left then)
    for at in (60, 180, 230):
        proc = subprocess.Popen(
            [sys.executable, "-m", "ebutool", "decode", many, "-q"],
            env=_tmpdir_env(tmp),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while len(_pieces(tmp)) < at and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, "the run ended before the signal"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 143, stderr
        assert os.listdir(tmp) == [], at


def _pieces(tmp: os.PathLike) -> list[str]:
    pieces: list[str] = []
    for d in os.listdir(tmp):
        try:
            pieces += os.listdir(os.path.join(tmp, d))
        except (FileNotFoundError, NotADirectoryError):  # removed while listed; a file
            continue
    return pieces
