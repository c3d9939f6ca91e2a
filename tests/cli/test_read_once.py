"""Inputs that can be read only once (a named pipe, standard input): a command that
reads its input twice spools it (annotate) or does without the second reading (report's
ladders, the glances at an input before the run); before, `report FIFO` and
`analyze FIFO FIFO` hung on the second opening and `annotate FIFO` read a cut capture
(exit 3).  And `annotate -` names `-`, not its temporary spool file."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.cli import SAMPLES
from tests.support.proc import env, run

TIMEOUT = 60


def _fifo(path: Path, data: bytes) -> threading.Thread:
    """``path`` made a named pipe, written with ``data`` by a thread (once)."""
    os.mkfifo(path)

    def feed() -> None:
        try:
            with open(path, "wb") as w:
                w.write(data)
        except BrokenPipeError:
            pass

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    return t


def test_report_of_a_named_pipe_ends_without_ladders(tmp_path):
    _fifo(tmp_path / "in.pcap", (SAMPLES / "mixed.pcap").read_bytes())
    out = tmp_path / "r.html"
    p = run("report", tmp_path / "in.pcap", "-o", out, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert "11 episode(s)" in p.stderr.decode()
    assert "in.pcap: not a regular file (a pipe), cannot be read twice" in p.stderr.decode()
    assert out.stat().st_size > 0


def test_analyze_of_two_named_pipes_reads_both(tmp_path):
    _fifo(tmp_path / "a.pcap", (SAMPLES / "mixed.pcap").read_bytes())
    _fifo(tmp_path / "b.pcap", (SAMPLES / "standard.pcap").read_bytes())
    p = run("analyze", tmp_path / "a.pcap", tmp_path / "b.pcap", "-q", "-f", "csv", timeout=60)
    assert p.returncode == 0, p.stderr
    one = run("analyze", SAMPLES / "mixed.pcap", SAMPLES / "standard.pcap", "-q", "-f", "csv")
    assert p.stdout.count(b"\n") == one.stdout.count(b"\n") > 12


def test_annotate_of_a_named_pipe_is_spooled(tmp_path):
    _fifo(tmp_path / "in.pcap", (SAMPLES / "mixed.pcap").read_bytes())
    spools = tmp_path / "tmp"  # $TMPDIR, where the spool file is made
    spools.mkdir()
    p = subprocess.run(
        [sys.executable, "-m", "ebutool", "annotate", tmp_path / "in.pcap"]
        + ["-o", tmp_path / "a.pcapng"],
        env={**env(), "TMPDIR": str(spools)},
        capture_output=True,
        timeout=TIMEOUT,
    )
    assert p.returncode == 0, p.stderr
    assert "1324 frames, 118 annotated in 11 episodes" in p.stderr.decode()
    assert os.listdir(spools) == []  # the spool is removed


def test_annotate_of_stdin_names_it_dash(tmp_path):
    p = run("annotate", "-", "-o", tmp_path / "a.pcapng", input=b"garbage-not-a-capture")
    assert p.returncode == 3
    assert p.stderr.decode().splitlines() == [
        "ebutool: error: -: not a pcap or pcapng capture (first bytes 0x67617262)"
    ]
    cut = gzip.compress((SAMPLES / "mixed.pcap").read_bytes())[:5000]
    p = run("annotate", "-", "-o", tmp_path / "a.pcapng", input=cut)
    assert p.returncode == 0, p.stderr
    assert "truncated_compressed_stream: -: gzip-compressed stream damaged" in p.stderr.decode()
    assert "ebutool-annotate-" not in p.stderr.decode()
