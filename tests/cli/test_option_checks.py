"""--weird-log is checked before the work like -o; -j N with --cluster is said, not
silently ignored."""

from __future__ import annotations

import os

import pytest

from tests.support.cli import SAMPLES
from tests.support.proc import run

PCAP = SAMPLES / "mixed.pcap"


@pytest.mark.parametrize("command", ["decode", "analyze", "verify", "replay"])
def test_weird_log_checked_before_reading(tmp_path, command):
    # the input is a FIFO nobody writes to: a run that read it first would hang
    fifo = tmp_path / "in"
    os.mkfifo(fifo)
    p = run(command, fifo, "--weird-log", tmp_path / "no" / "weird.log", timeout=30)
    assert p.returncode == 2, p.stderr
    assert b"--weird-log" in p.stderr and b"no such directory" in p.stderr
    assert b"Traceback" not in p.stderr and p.stdout == b""


def test_weird_log_directory_is_refused_before_output(tmp_path, cli):
    res = cli("analyze", PCAP, "-f", "csv", "--weird-log", tmp_path)
    assert res.exit_code == 2 and "is a directory" in res.stderr
    assert res.stdout == ""  # refused before the table was written


def test_weird_log_still_written(tmp_path, cli):
    log = tmp_path / "weird.log"
    res = cli("decode", SAMPLES / "mixed.pcap", "-q", "-f", "csv", "--weird-log", log)
    assert res.exit_code == 0, res.stderr
    assert log.read_text().startswith("#")


def test_jobs_with_cluster_is_said(tmp_path, cli):
    pytest.importorskip("distributed")
    res = cli("extract", PCAP, "-o", tmp_path / "s", "--cluster", "local:1", "-j", "4", "-q")
    assert res.exit_code == 0, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if "-j 4" in ln]
    assert len(lines) == 1 and "ignored with --cluster" in lines[0]
    quiet = cli("extract", PCAP, "-o", tmp_path / "s", "--cluster", "local:1", "-q")
    assert "ignored" not in quiet.stderr
