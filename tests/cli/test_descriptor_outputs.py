"""An output path that names one of the process's own descriptors (/dev/stdout,
/dev/fd/N) is that descriptor, not the file it holds.  ebutool resolved such a path to
the file behind it and, that being a regular file, wrote a temporary file beside it and
renamed it over the file:

- ``decode CAP -o /dev/stdout >> all.csv`` replaced all.csv (its earlier lines lost);
- ``--weird-log /dev/fd/3`` with descriptor 3 a file opened for reading replaced that
  file (a launcher script run with ``2>&-`` leaves itself on descriptor 2: ``--weird-log
  /dev/stderr`` overwrote the launcher);
- ``-o /dev/stdout`` into a pipe was 'cannot write' (exit 2);
- and since 3e21330 puts the null device on a closed descriptor, ``-o /dev/stdout >&-``
  wrote the table to the null device with exit 0 (before: exit 2), and ``/dev/stdin``
  read from a closed standard input was 'empty file'.

Now such a path is written through its descriptor (appended to where it stands), a
closed one is the closed stream's diagnosis (exit 5; 3 for an input), one open for
reading only a usage error (exit 2), and no file is replaced.
"""

from __future__ import annotations

import os
import subprocess

from tests.support.cli import SAMPLES
from tests.support.proc import run

SAMPLE = SAMPLES / "standard.pcap"
DECODE_ROWS = 24  # standard.pcap's Mobility Header messages, one CSV row each


def _closing(fd: int):
    def close() -> None:
        os.close(fd)

    return close


def test_dev_stdout_onto_a_file_opened_for_appending_appends(tmp_path):
    table = tmp_path / "all.csv"
    table.write_text("an earlier line\n")
    with open(table, "ab") as out:
        p = run(
            "decode",
            SAMPLE,
            "-q",
            "-f",
            "csv",
            "-o",
            "/dev/stdout",
            stdout=out,
            stderr=subprocess.PIPE,
            capture_output=False,
        )
    assert p.returncode == 0, p.stderr
    lines = table.read_text().splitlines()
    assert lines[0] == "an earlier line"
    assert len(lines) == 1 + 1 + DECODE_ROWS  # the earlier line, the header, the rows


def test_dev_stdout_into_a_pipe_is_the_table():
    p = run("decode", SAMPLE, "-q", "-f", "csv", "-o", "/dev/stdout")
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.decode().splitlines()) == 1 + DECODE_ROWS


def test_a_descriptor_open_for_reading_is_refused_and_its_file_kept(tmp_path):
    held = tmp_path / "launcher.sh"
    held.write_text("#!/bin/sh\nexec something\n")
    fd = os.open(held, os.O_RDONLY)
    try:
        p = run(
            "analyze", SAMPLE, "-q", "-f", "csv", "--weird-log", f"/dev/fd/{fd}",
            pass_fds=(fd,),
        )  # fmt: skip
    finally:
        os.close(fd)
    assert p.returncode == 2, p.stderr
    assert "not open for writing" in p.stderr.decode()
    assert p.stdout == b""
    assert held.read_text() == "#!/bin/sh\nexec something\n"


def test_dev_stdout_of_a_closed_stdout_is_exit_5_not_the_null_device():
    for path in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        p = run("decode", SAMPLE, "-q", "-f", "csv", "-o", path, preexec_fn=_closing(1))
        assert p.returncode == 5, (path, p.stderr)
        assert p.stderr.decode().splitlines() == [
            f"ebutool: error: -o {path}: standard output is closed"
        ]


def test_dev_stdin_of_a_closed_stdin_is_exit_3_closed_not_empty():
    p = run("analyze", "/dev/stdin", "-q", "-f", "csv", preexec_fn=_closing(0))
    assert p.returncode == 3, p.stderr
    assert p.stderr.decode().splitlines() == [
        "ebutool: error: /dev/stdin: standard input is closed, nothing to read"
    ]


def test_the_null_device_itself_is_still_an_output(tmp_path):
    p = run("decode", SAMPLE, "-q", "-f", "csv", "-o", os.devnull, preexec_fn=_closing(1))
    assert p.returncode == 0, p.stderr
