"""An input that opens but whose first octets cannot be read (EIO: a failing disk, a
network file system; here /proc/self/mem, whose offset 0 is never mapped) is an
unreadable input, exit 3 with one line naming it.  It used to end in "internal error:
OSError: [Errno 5] Input/output error" (exit 4) in every command that reads inputs."""

from __future__ import annotations

import errno
import os
import subprocess
import sys

import pytest

from tests.support.cli import ROOT, SAMPLES

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc/self/mem: Linux")


def _eio_file(tmp_path):
    link = tmp_path / "disk.pcap"
    os.symlink("/proc/self/mem", link)
    try:
        with open(link, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        if exc.errno == errno.EIO:
            return link
    pytest.skip("reading /proc/self/mem at offset 0 does not fail with EIO here")


def _run(cwd, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "ebutool", *args], capture_output=True, cwd=cwd, env=env, text=True
    )


@pytest.mark.parametrize("command", ["analyze", "decode", "convert", "verify"])
def test_a_read_error_is_an_unreadable_input(tmp_path, command):
    _eio_file(tmp_path)
    done = _run(tmp_path, command, "disk.pcap", "-o", os.devnull)
    assert done.returncode == 3, done.stderr
    assert done.stderr == f"ebutool: error: disk.pcap: cannot read ({os.strerror(errno.EIO)})\n"


def test_a_read_error_among_several_inputs_is_a_warning(tmp_path):
    _eio_file(tmp_path)
    (tmp_path / "standard.pcap").write_bytes((SAMPLES / "standard.pcap").read_bytes())
    done = _run(tmp_path, "analyze", "-f", "csv", "standard.pcap", "disk.pcap")
    assert done.returncode == 3, done.stderr
    assert "internal error" not in done.stderr
    assert f"unreadable_input: disk.pcap: cannot read ({os.strerror(errno.EIO)})" in done.stderr
    assert "standard.pcap" in done.stdout  # the readable input's rows are still written
