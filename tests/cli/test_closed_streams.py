"""A closed standard stream (`<&-`, `>&-`, `2>&-`: Python sets sys.stdin / sys.stdout /
sys.stderr to None) is a diagnosis with its README status, never an internal error
(exit 4 with an AttributeError on None, as it was)."""

from __future__ import annotations

import os
import subprocess

from tests.support.cli import SAMPLES
from tests.support.proc import run

SAMPLE = SAMPLES / "early-conservative.pcap"


def _closing(fd: int):
    def close() -> None:
        os.close(fd)

    return close


def test_dash_from_a_closed_stdin_is_exit_3_in_one_line():
    for cmd in (["analyze", "-"], ["decode", "-"], ["annotate", "-", "-o", os.devnull]):
        p = run(*cmd, preexec_fn=_closing(0))
        lines = p.stderr.decode().splitlines()
        assert p.returncode == 3, (cmd, p.stderr)
        assert lines == ["ebutool: error: -: standard input is closed, nothing to read"], cmd


def test_a_file_input_does_not_need_stdin():
    p = run("analyze", SAMPLE, "-q", "-f", "csv", preexec_fn=_closing(0))
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().count("\n") == 4  # the header and 3 episodes


def test_data_to_a_closed_stdout_is_exit_5_and_an_output_file_works(tmp_path):
    for fmt in ("csv", "table"):
        p = run("analyze", SAMPLE, "-q", "-f", fmt, preexec_fn=_closing(1))
        assert p.returncode == 5, (fmt, p.stderr)
        assert p.stderr.decode().splitlines() == ["ebutool: error: standard output is closed"]
    out = tmp_path / "rows.csv"
    p = run("analyze", SAMPLE, "-q", "-f", "csv", "-o", out, preexec_fn=_closing(1))
    assert p.returncode == 0, p.stderr
    assert out.read_text().count("\n") == 4


def test_a_closed_stderr_keeps_the_normal_status(tmp_path):
    p = run(
        "analyze",
        SAMPLE,
        "-f",
        "csv",
        preexec_fn=_closing(2),
        stderr=None,
        capture_output=False,
        stdout=subprocess.PIPE,
    )
    assert p.returncode == 0
    assert p.stdout.decode().count("\n") == 4
    p = run(
        "analyze",
        tmp_path / "missing.pcap",
        preexec_fn=_closing(2),
        stderr=None,
        capture_output=False,
        stdout=subprocess.PIPE,
    )
    assert p.returncode == 3
    # the messages went nowhere: not into a file the run opened on descriptor 2
    out = tmp_path / "rows.csv"
    p = run(
        "analyze",
        SAMPLE,
        "-o",
        out,
        preexec_fn=_closing(2),
        stderr=None,
        capture_output=False,
        stdout=subprocess.PIPE,
    )
    assert p.returncode == 0
    assert "ebutool:" not in out.read_text()


def test_help_and_version_to_a_closed_stdout_are_exit_5_in_one_line():
    """click drops what it prints to a closed standard output: `ebutool --help >&-`
    ended with 0 and printed nothing, as if the text had gone out."""
    for cmd in (["--help"], ["--version"], ["analyze", "--help"], ["decode", "-h"]):
        p = run(*cmd, preexec_fn=_closing(1))
        assert p.returncode == 5, (cmd, p.stderr)
        assert p.stderr.decode().splitlines() == ["ebutool: error: standard output is closed"]
        shown = run(*cmd)  # the same to a pipe: the text, status 0
        assert shown.returncode == 0 and shown.stdout.strip(), (cmd, shown.stderr)
    # a closed standard error only: the version goes out, status 0
    p = run(
        "--version",
        preexec_fn=_closing(2),
        stderr=None,
        capture_output=False,
        stdout=subprocess.PIPE,
    )
    assert p.returncode == 0 and p.stdout.startswith(b"ebutool ")
